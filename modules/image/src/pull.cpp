#include "scar/image/pull.hpp"

#include <scar/core/log.hpp>

#include <system_error>

namespace scar::image {
namespace fs = std::filesystem;

result<resolved_image> resolve_image(
    registry_client& client,
    const reference& ref,
    const platform& wanted,
    const store& dest
) {
    const std::string where = ref.str();
    auto fetched = client.get_manifest(ref.repository, ref.manifest_reference());
    if (!fetched) return fetched.error();
    auto doc = parse_manifest_document(fetched->body, fetched->media_type);
    if (!doc) return doc.error().wrap(where);
    if (const auto* idx = std::get_if<index>(&*doc)) {
        auto chosen = select_platform(*idx, wanted);
        if (!chosen) return chosen.error().wrap(where);
        fetched = client.get_manifest(ref.repository, chosen->digest);
        if (!fetched) return fetched.error();
        doc = parse_manifest_document(fetched->body, fetched->media_type);
        if (!doc) return doc.error().wrap(where);
        if (std::holds_alternative<index>(*doc))
            return make_error(
                "ManifestInvalid",
                where + ": the index entry for " + wanted.str() +
                    " is itself an index; nested indexes are not supported"
            );
    }
    resolved_image out;
    out.manifest = std::get<manifest>(std::move(*doc));
    out.manifest_digest = fetched->digest;
    out.manifest_bytes = std::move(fetched->body);
    if (auto w = dest.write_blob(out.manifest_bytes); !w) return w.error();
    for (const auto& l : out.manifest.layers) {
        if (auto c = layer_compression(l.media_type); !c) return c.error().wrap(where);
    }
    if (dest.has_blob(out.manifest.config.digest, out.manifest.config.size)) {
        auto c = dest.read_blob(out.manifest.config.digest);
        if (!c) return c.error();
        out.config_bytes = std::move(*c);
    } else {
        auto c = client.get_blob(ref.repository, out.manifest.config);
        if (!c) return c.error();
        out.config_bytes = std::move(*c);
        if (auto w = dest.write_blob(out.config_bytes); !w) return w.error();
    }
    auto cfg = parse_image_config(out.config_bytes);
    if (!cfg) return cfg.error().wrap(where);
    out.config = std::move(*cfg);
    return out;
}

result<pulled_image> pull(const reference& ref, const store& dest, const pull_options& opts) {
    registry_client client(ref.registry, opts.registry);
    auto img = resolve_image(client, ref, opts.platform, dest);
    if (!img) return img.error();
    pulled_image out;
    out.ref = ref;
    out.image = std::move(*img);
    const auto& m = out.image.manifest;
    const std::string& digest = out.image.manifest_digest;

    const auto rootfs = dest.rootfs_path(digest);
    if (opts.unpack && fs::is_directory(rootfs)) {
        out.rootfs = rootfs;
        out.rootfs_was_cached = true;
        if (auto r = dest.set_ref(ref, digest); !r) return r.error();
        return out;
    }
    if (auto r = client.download_blobs(ref.repository, m.layers, dest); !r)
        return r.error().wrap("pulling " + ref.str());
    if (opts.unpack) {
        auto tmp = dest.temp_path("rootfs-" + digest.substr(7, 12));
        if (!tmp) return tmp.error();
        std::error_code ec;
        fs::create_directory(*tmp, ec);
        if (ec) return make_error("LocalIOError", "cannot create '" + tmp->string() + "': " + ec.message());
        for (std::size_t i = 0; i < m.layers.size(); ++i) {
            auto r = extract_layer(dest.blob_path(m.layers[i].digest), *tmp, opts.extract);
            if (!r) {
                fs::remove_all(*tmp, ec);
                return r.error().wrap(
                    ref.str() + ": layer " + std::to_string(i + 1) + "/" + std::to_string(m.layers.size()) +
                    " (" + m.layers[i].digest + ")"
                );
            }
        }
        auto committed = dest.commit_rootfs(*tmp, digest);
        if (!committed) return committed.error();
        out.rootfs = std::move(*committed);
    }
    if (auto r = dest.set_ref(ref, digest); !r) return r.error();
    return out;
}

}  // namespace scar::image
