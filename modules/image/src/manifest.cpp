#include "scar/image/manifest.hpp"

#include <scar/core/encoding.hpp>
#include <scar/image/reference.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace scar::image {
namespace json = boost::json;
namespace {

error bad(std::string_view what) {
    return make_error(
        "ManifestInvalid",
        "the registry sent an invalid manifest: " + std::string(what) +
            "; the image may be corrupt or the registry non-conforming"
    );
}

const json::value* field(const json::object& o, std::string_view key) {
    const auto it = o.find(key);
    return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

result<std::string> opt_string(const json::object& o, std::string_view key, std::string_view where) {
    const auto* v = field(o, key);
    if (v == nullptr) return std::string{};
    if (!v->is_string()) return bad("'" + std::string(where) + "." + std::string(key) + "' is not a string");
    return std::string(v->get_string());
}

result<std::map<std::string, std::string>> string_map(
    const json::object& o,
    std::string_view key,
    std::string_view where
) {
    std::map<std::string, std::string> out;
    const auto* v = field(o, key);
    if (v == nullptr) return out;
    if (!v->is_object()) return bad("'" + std::string(where) + "." + std::string(key) + "' is not an object");
    for (const auto& kv : v->get_object()) {
        if (kv.value().is_string()) out.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
    }
    return out;
}

result<platform> parse_platform_object(const json::value& v, std::string_view where) {
    if (!v.is_object()) return bad("'" + std::string(where) + ".platform' is not an object");
    const auto& o = v.get_object();
    platform p;
    p.os.clear();
    p.architecture.clear();
    auto os = opt_string(o, "os", where);
    if (!os) return os.error();
    auto arch = opt_string(o, "architecture", where);
    if (!arch) return arch.error();
    auto variant = opt_string(o, "variant", where);
    if (!variant) return variant.error();
    auto osv = opt_string(o, "os.version", where);
    if (!osv) return osv.error();
    p.os = *os;
    p.architecture = *arch;
    p.variant = *variant;
    p.os_version = *osv;
    return p;
}

result<descriptor> parse_descriptor(const json::value& v, const std::string& where) {
    if (!v.is_object()) return bad("'" + where + "' is not an object");
    const auto& o = v.get_object();
    descriptor d;
    auto mt = opt_string(o, "mediaType", where);
    if (!mt) return mt.error();
    d.media_type = *mt;
    const auto* dg = field(o, "digest");
    if (dg == nullptr || !dg->is_string()) return bad("'" + where + ".digest' is missing");
    auto parsed = parse_digest(dg->get_string());
    if (!parsed) return bad("'" + where + ".digest': " + parsed.error().message);
    d.digest = parsed->str();
    const auto* size = field(o, "size");
    if (size == nullptr || !(size->is_int64() || size->is_uint64()) ||
        (size->is_int64() && size->get_int64() < 0))
        return bad("'" + where + ".size' is missing or not a non-negative integer");
    d.size = size->is_uint64() ? size->get_uint64() : static_cast<std::uint64_t>(size->get_int64());
    if (const auto* urls = field(o, "urls"); urls != nullptr && urls->is_array()) {
        for (const auto& u : urls->get_array())
            if (u.is_string()) d.urls.emplace_back(u.get_string());
    }
    auto ann = string_map(o, "annotations", where);
    if (!ann) return ann.error();
    d.annotations = std::move(*ann);
    if (const auto* p = field(o, "platform"); p != nullptr) {
        auto plat = parse_platform_object(*p, where);
        if (!plat) return plat.error();
        d.platform = std::move(*plat);
    }
    return d;
}

result<std::vector<std::string>> string_array(const json::object& o, std::string_view key) {
    std::vector<std::string> out;
    const auto* v = field(o, key);
    if (v == nullptr) return out;
    if (v->is_string()) {  // Docker accepts "Cmd": "x" from some old builders
        out.emplace_back(v->get_string());
        return out;
    }
    if (!v->is_array())
        return make_error(
            "ConfigInvalid",
            "the image config field 'config." + std::string(key) + "' is not a list of strings"
        );
    for (const auto& e : v->get_array()) {
        if (!e.is_string())
            return make_error(
                "ConfigInvalid",
                "the image config field 'config." + std::string(key) + "' holds a non-string"
            );
        out.emplace_back(e.get_string());
    }
    return out;
}

json::object descriptor_json(const descriptor& d) {
    json::object o;
    o["mediaType"] = d.media_type;
    o["digest"] = d.digest;
    o["size"] = d.size;
    if (!d.urls.empty()) {
        json::array a;
        for (const auto& u : d.urls) a.emplace_back(u);
        o["urls"] = std::move(a);
    }
    if (!d.annotations.empty()) {
        json::object a;
        for (const auto& [k, v] : d.annotations) a[k] = v;
        o["annotations"] = std::move(a);
    }
    if (d.platform) {
        json::object p;
        p["architecture"] = d.platform->architecture;
        p["os"] = d.platform->os;
        if (!d.platform->os_version.empty()) p["os.version"] = d.platform->os_version;
        if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
        o["platform"] = std::move(p);
    }
    return o;
}

/// arm64 images often omit the variant; it means v8.
std::string normal_variant(const platform& p) {
    if (p.architecture == "arm64" && p.variant.empty()) return "v8";
    return p.variant;
}

}  // namespace

std::string platform::str() const {
    std::string s = os + "/" + architecture;
    if (!variant.empty()) s += "/" + variant;
    return s;
}

result<platform> parse_platform(std::string_view text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto slash = text.find('/', start);
        parts.emplace_back(text.substr(start, slash == std::string_view::npos ? text.npos : slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    const bool empty_part = std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); });
    if (text.empty() || parts.size() > 3 || empty_part) {
        return make_error(
            "InvalidParameterValue",
            "invalid platform '" + std::string(text) +
                "': write os/architecture[/variant], e.g. 'linux/arm64'"
        );
    }
    platform p;
    if (parts.size() == 1) {
        p.architecture = parts[0];
    } else {
        p.os = parts[0];
        p.architecture = parts[1];
        if (parts.size() == 3) p.variant = parts[2];
    }
    if (p.architecture == "x86_64" || p.architecture == "x86-64") p.architecture = "amd64";
    if (p.architecture == "aarch64") p.architecture = "arm64";
    return p;
}

platform host_platform() {
    platform p;
#if defined(__x86_64__)
    p.architecture = "amd64";
#elif defined(__aarch64__)
    p.architecture = "arm64";
    p.variant = "v8";
#elif defined(__arm__)
    p.architecture = "arm";
    p.variant = "v7";
#elif defined(__powerpc64__)
    p.architecture = "ppc64le";
#elif defined(__s390x__)
    p.architecture = "s390x";
#elif defined(__riscv)
    p.architecture = "riscv64";
#endif
    return p;
}

result<manifest_document> parse_manifest_document(std::string_view body, std::string_view content_type) {
    boost::system::error_code ec;
    const json::value doc = json::parse(body, ec);
    if (ec) return bad("not JSON (" + ec.message() + ")");
    if (!doc.is_object()) return bad("the document is not a JSON object");
    const auto& o = doc.get_object();
    auto own_type = opt_string(o, "mediaType", "manifest");
    if (!own_type) return own_type.error();
    const auto* schema = field(o, "schemaVersion");
    if (schema != nullptr && schema->is_int64() && schema->get_int64() == 1) {
        return make_error(
            "ManifestUnsupported",
            "the registry sent a Docker schema 1 manifest, which is obsolete and unsupported; push the image "
            "again with a "
            "current tool"
        );
    }
    std::string type =
        !own_type->empty() ? *own_type : std::string(content_type.substr(0, content_type.find(';')));
    type = std::string(encoding::trim(type));
    if (type.empty() || type == "application/json") {
        type = field(o, "manifests") != nullptr ? std::string(media_type::oci_index)
                                                : std::string(media_type::oci_manifest);
    }
    auto ann = string_map(o, "annotations", "manifest");
    if (!ann) return ann.error();

    if (type == media_type::docker_manifest_list || type == media_type::oci_index) {
        index idx;
        idx.media_type = type;
        idx.annotations = std::move(*ann);
        const auto* list = field(o, "manifests");
        if (list == nullptr || !list->is_array()) return bad("the index has no 'manifests' list");
        std::size_t i = 0;
        for (const auto& m : list->get_array()) {
            auto d = parse_descriptor(m, "manifests[" + std::to_string(i++) + "]");
            if (!d) return d.error();
            idx.manifests.push_back(std::move(*d));
        }
        return manifest_document{std::move(idx)};
    }
    if (type == media_type::docker_manifest || type == media_type::oci_manifest) {
        manifest m;
        m.media_type = type;
        m.annotations = std::move(*ann);
        const auto* cfg = field(o, "config");
        if (cfg == nullptr) return bad("the manifest has no 'config'");
        auto c = parse_descriptor(*cfg, "config");
        if (!c) return c.error();
        m.config = std::move(*c);
        const auto* layers = field(o, "layers");
        if (layers == nullptr || !layers->is_array()) return bad("the manifest has no 'layers' list");
        std::size_t i = 0;
        for (const auto& l : layers->get_array()) {
            auto d = parse_descriptor(l, "layers[" + std::to_string(i++) + "]");
            if (!d) return d.error();
            m.layers.push_back(std::move(*d));
        }
        return manifest_document{std::move(m)};
    }
    return make_error(
        "ManifestUnsupported",
        "the registry sent a document of media type '" + type +
            "', which is neither an image manifest nor an index; is the reference an artifact rather than an "
            "image?"
    );
}

result<descriptor> select_platform(const index& idx, const platform& wanted) {
    const descriptor* loose = nullptr;
    for (const auto& d : idx.manifests) {
        if (!d.platform) continue;
        const auto& p = *d.platform;
        if (p.os != wanted.os || p.architecture != wanted.architecture) continue;
        if (normal_variant(p) == normal_variant(wanted)) return d;
        if (wanted.variant.empty() && loose == nullptr) loose = &d;
    }
    if (loose != nullptr) return *loose;
    std::string have;
    for (const auto& d : idx.manifests) {
        if (!d.platform || d.platform->os == "unknown") continue;
        if (!have.empty()) have += ", ";
        have += d.platform->str();
    }
    return make_error(
        "NoMatchingPlatform",
        "the image has no variant for " + wanted.str() + " (it has: " +
            (have.empty() ? std::string("none") : have) + "); choose one of those with --platform"
    );
}

std::string serialize(const manifest& m) {
    json::object o;
    o["schemaVersion"] = 2;
    o["mediaType"] = m.media_type;
    o["config"] = descriptor_json(m.config);
    json::array layers;
    for (const auto& l : m.layers) layers.emplace_back(descriptor_json(l));
    o["layers"] = std::move(layers);
    if (!m.annotations.empty()) {
        json::object a;
        for (const auto& [k, v] : m.annotations) a[k] = v;
        o["annotations"] = std::move(a);
    }
    return json::serialize(o);
}

std::string serialize(const index& idx) {
    json::object o;
    o["schemaVersion"] = 2;
    o["mediaType"] = idx.media_type;
    json::array list;
    for (const auto& d : idx.manifests) list.emplace_back(descriptor_json(d));
    o["manifests"] = std::move(list);
    if (!idx.annotations.empty()) {
        json::object a;
        for (const auto& [k, v] : idx.annotations) a[k] = v;
        o["annotations"] = std::move(a);
    }
    return json::serialize(o);
}

result<compression> layer_compression(std::string_view t) {
    if (t == media_type::docker_layer_gzip || t == media_type::oci_layer_gzip) return compression::gzip;
    if (t == media_type::oci_layer_zstd) return compression::zstd;
    if (t == media_type::oci_layer) return compression::none;
    if (t == media_type::docker_foreign_layer || t.find("nondistributable") != std::string_view::npos) {
        return make_error(
            "ManifestUnsupported",
            "the image has a foreign (non-distributable) layer of type '" + std::string(t) +
                "'; such layers exist only in Windows images, which scar cannot run"
        );
    }
    return make_error(
        "ManifestUnsupported",
        "the image has a layer of unknown media type '" + std::string(t) +
            "'; only tar, tar+gzip and tar+zstd layers are supported"
    );
}

result<image_config> parse_image_config(std::string_view body) {
    boost::system::error_code ec;
    const json::value doc = json::parse(body, ec);
    if (ec || !doc.is_object())
        return make_error("ConfigInvalid", "the image config is not a JSON object; the image may be corrupt");
    const auto& o = doc.get_object();
    image_config out;
    const auto str = [&](const json::object& from, std::string_view key, std::string& into) -> result<void> {
        const auto* v = field(from, key);
        if (v == nullptr) return {};
        if (!v->is_string())
            return make_error(
                "ConfigInvalid",
                "the image config field '" + std::string(key) + "' is not a string"
            );
        into = std::string(v->get_string());
        return {};
    };
    for (const auto& [key, into] :
         {std::pair<std::string_view, std::string*>{"architecture", &out.architecture},
          {"os", &out.os},
          {"variant", &out.variant},
          {"created", &out.created}}) {
        if (auto r = str(o, key, *into); !r) return r.error();
    }
    if (const auto* c = field(o, "config"); c != nullptr) {
        if (!c->is_object())
            return make_error("ConfigInvalid", "the image config field 'config' is not an object");
        const auto& co = c->get_object();
        auto& cc = out.config;
        if (auto r = str(co, "User", cc.user); !r) return r.error();
        if (auto r = str(co, "WorkingDir", cc.working_dir); !r) return r.error();
        if (auto r = str(co, "StopSignal", cc.stop_signal); !r) return r.error();
        auto env = string_array(co, "Env");
        if (!env) return env.error();
        cc.env = std::move(*env);
        auto ep = string_array(co, "Entrypoint");
        if (!ep) return ep.error();
        cc.entrypoint = std::move(*ep);
        auto cmd = string_array(co, "Cmd");
        if (!cmd) return cmd.error();
        cc.cmd = std::move(*cmd);
        if (const auto* l = field(co, "Labels"); l != nullptr && l->is_object()) {
            for (const auto& kv : l->get_object())
                if (kv.value().is_string())
                    cc.labels.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
        }
        if (const auto* p = field(co, "ExposedPorts"); p != nullptr && p->is_object()) {
            for (const auto& kv : p->get_object()) cc.exposed_ports.emplace_back(kv.key());
        }
    }
    if (const auto* r = field(o, "rootfs"); r != nullptr && r->is_object()) {
        if (const auto* ids = field(r->get_object(), "diff_ids"); ids != nullptr && ids->is_array()) {
            for (const auto& id : ids->get_array()) {
                if (!id.is_string())
                    return make_error(
                        "ConfigInvalid",
                        "the image config's rootfs.diff_ids holds a non-string"
                    );
                out.diff_ids.emplace_back(id.get_string());
            }
        }
    }
    return out;
}

}  // namespace scar::image
