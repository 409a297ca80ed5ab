#include "scar/image/build.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/image/pull.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>

#include <sys/stat.h>
#include <unistd.h>

namespace scar::image {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

struct write_deleter {
    void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct read_deleter {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};
struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

/// Compresses a byte stream into a file, hashing the compressed bytes: libarchive's
/// "raw" format writes one entry's data through the chosen filter.
class compressor {
public:
    result<void> open(const fs::path& path, compression c) {
        out_.reset(std::fopen(path.c_str(), "wb"));
        if (!out_)
            return make_error(
                "LocalIOError",
                "cannot create '" + path.string() + "'; check the image store's permissions"
            );
        a_.reset(archive_write_new());
        archive_write_set_format_raw(a_.get());
        if (c == compression::gzip) {
            archive_write_add_filter_gzip(a_.get());
            archive_write_set_filter_option(a_.get(), "gzip", "timestamp", nullptr);  // reproducible
        } else if (c == compression::zstd) {
            archive_write_add_filter_zstd(a_.get());
        }
        archive_write_set_bytes_in_last_block(a_.get(), 1);
        if (archive_write_open(a_.get(), this, nullptr, &compressor::on_write, nullptr) != ARCHIVE_OK)
            return failure("open");
        std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(
            archive_entry_new(),
            &archive_entry_free
        );
        archive_entry_set_pathname(e.get(), "layer.tar");
        archive_entry_set_filetype(e.get(), AE_IFREG);
        if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return failure("start");
        return {};
    }
    result<void> write(const void* data, std::size_t n) {
        if (n == 0) return {};
        if (archive_write_data(a_.get(), data, n) < 0) return failure("compress");
        return {};
    }
    result<void> close() {
        if (archive_write_close(a_.get()) != ARCHIVE_OK) return failure("finish");
        if (std::fflush(out_.get()) != 0 || failed_)
            return make_error("LocalIOError", "cannot write a layer: disk full?");
        out_.reset();
        return {};
    }
    [[nodiscard]] std::string digest() { return "sha256:" + encoding::to_hex(hash_.finish()); }
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

private:
    static la_ssize_t on_write(archive*, void* self, const void* buf, size_t n) noexcept {
        auto& c = *static_cast<compressor*>(self);
        if (std::fwrite(buf, 1, n, c.out_.get()) != n) {
            c.failed_ = true;
            return -1;
        }
        c.hash_.update(std::span(static_cast<const std::uint8_t*>(buf), n));
        c.size_ += n;
        return static_cast<la_ssize_t>(n);
    }
    error failure(std::string_view step) {
        const char* msg = archive_error_string(a_.get());
        return make_error(
            "LocalIOError",
            "cannot " + std::string(step) + " a layer blob: " + (msg != nullptr ? msg : "unknown error")
        );
    }

    std::unique_ptr<archive, write_deleter> a_;
    std::unique_ptr<std::FILE, file_closer> out_;
    crypto::sha256 hash_;
    std::uint64_t size_ = 0;
    bool failed_ = false;
};

/// The uncompressed tar stream: hashed (the diff_id) and handed to the compressor.
struct tar_sink {
    compressor* comp = nullptr;
    crypto::sha256 hash;
    bool failed = false;
    static la_ssize_t on_write(archive*, void* self, const void* buf, size_t n) noexcept {
        auto& s = *static_cast<tar_sink*>(self);
        s.hash.update(std::span(static_cast<const std::uint8_t*>(buf), n));
        if (!s.comp->write(buf, n)) {
            s.failed = true;
            return -1;
        }
        return static_cast<la_ssize_t>(n);
    }
};

std::string_view layer_type(compression c) {
    switch (c) {
        case compression::gzip:
            return media_type::oci_layer_gzip;
        case compression::zstd:
            return media_type::oci_layer_zstd;
        case compression::none:
            break;
    }
    return media_type::oci_layer;
}

result<void> write_directory(archive* t, const fs::path& source, const layer_options& opts) {
    const auto fail = [&](const std::string& what) {
        const char* msg = archive_error_string(t);
        return make_error("LocalIOError", what + ": " + (msg != nullptr ? msg : std::strerror(errno)));
    };
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), &archive_entry_free);
    const auto base_entry = [&](const std::string& name, const struct stat& st) {
        archive_entry_clear(e.get());
        archive_entry_set_pathname(e.get(), name.c_str());
        archive_entry_copy_stat(e.get(), &st);
        archive_entry_set_dev(e.get(), 0);
        archive_entry_set_ino(e.get(), 0);
        archive_entry_set_nlink(e.get(), 1);
        archive_entry_unset_atime(e.get());
        archive_entry_unset_ctime(e.get());
        if (opts.root_owned) {
            archive_entry_set_uid(e.get(), 0);
            archive_entry_set_gid(e.get(), 0);
        }
        if (opts.mtime) archive_entry_set_mtime(e.get(), *opts.mtime, 0);
    };
    std::string prefix = opts.prefix;
    while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (!prefix.empty()) {
        struct stat st {};
        st.st_mode = S_IFDIR | 0755;
        st.st_mtime = opts.mtime.value_or(std::time(nullptr));
        for (std::size_t pos = 0;;) {
            const auto slash = prefix.find('/', pos);
            base_entry(prefix.substr(0, slash), st);
            if (archive_write_header(t, e.get()) != ARCHIVE_OK) return fail("cannot write a layer header");
            if (slash == std::string::npos) break;
            pos = slash + 1;
        }
        prefix += '/';
    }
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(source, ec);
         !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        names.push_back(it->path().lexically_relative(source).generic_string());
    if (ec) return make_error("LocalIOError", "cannot list '" + source.string() + "': " + ec.message());
    std::sort(names.begin(), names.end());
    std::map<std::pair<dev_t, ino_t>, std::string> seen;
    std::vector<char> buf(1 << 20);
    for (const auto& rel : names) {
        const fs::path p = source / rel;
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0)
            return make_error("LocalIOError", "cannot stat '" + p.string() + "': " + std::strerror(errno));
        const std::string name = prefix + rel;
        base_entry(name, st);
        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
            const auto [it, fresh] = seen.emplace(std::pair{st.st_dev, st.st_ino}, name);
            if (!fresh) {
                archive_entry_set_hardlink(e.get(), it->second.c_str());
                archive_entry_set_size(e.get(), 0);
                if (archive_write_header(t, e.get()) != ARCHIVE_OK)
                    return fail("cannot write '" + name + "'");
                continue;
            }
        }
        if (S_ISLNK(st.st_mode)) {
            std::error_code lec;
            const auto target = fs::read_symlink(p, lec);
            if (lec)
                return make_error(
                    "LocalIOError",
                    "cannot read the link '" + p.string() + "': " + lec.message()
                );
            archive_entry_set_symlink(e.get(), target.c_str());
        } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
            continue;  // sockets, fifos, devices of a build directory are not image content
        }
        if (archive_write_header(t, e.get()) != ARCHIVE_OK) return fail("cannot write '" + name + "'");
        if (S_ISREG(st.st_mode)) {
            std::unique_ptr<std::FILE, file_closer> in(std::fopen(p.c_str(), "rb"));
            if (!in)
                return make_error(
                    "LocalIOError",
                    "cannot read '" + p.string() + "': " + std::strerror(errno)
                );
            std::size_t n = 0;
            while ((n = std::fread(buf.data(), 1, buf.size(), in.get())) > 0) {
                if (archive_write_data(t, buf.data(), n) < 0) return fail("cannot write '" + name + "'");
            }
        }
    }
    return {};
}

std::string now_rfc3339() {
    std::time_t t = std::time(nullptr);
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde != nullptr && *sde != '\0')
        t = std::strtoll(sde, nullptr, 10);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

json::array string_array(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
}

}  // namespace

result<layer_blob> create_layer(const fs::path& source, const store& dest, const layer_options& opts) {
    std::error_code ec;
    const auto status = fs::status(source, ec);
    if (ec || !(fs::is_directory(status) || fs::is_regular_file(status))) {
        return make_error(
            "InvalidParameterValue",
            "cannot make a layer from '" + source.string() + "': it is neither a directory nor a tar file"
        );
    }
    auto tmp = dest.temp_path("layer");
    if (!tmp) return tmp.error();
    compressor comp;
    if (auto r = comp.open(*tmp, opts.compression); !r) return r.error();
    tar_sink sink;
    sink.comp = &comp;
    const auto cleanup = [&] {
        std::error_code rec;
        fs::remove(*tmp, rec);
    };
    if (fs::is_directory(status)) {
        std::unique_ptr<archive, write_deleter> t(archive_write_new());
        archive_write_set_format_pax_restricted(t.get());
        if (archive_write_open(t.get(), &sink, nullptr, &tar_sink::on_write, nullptr) != ARCHIVE_OK) {
            cleanup();
            return make_error("LocalIOError", "cannot start a layer tar");
        }
        auto w = write_directory(t.get(), source, opts);
        if (w && archive_write_close(t.get()) != ARCHIVE_OK)
            w = make_error("LocalIOError", "cannot finish the layer tar of '" + source.string() + "'");
        if (!w || sink.failed) {
            cleanup();
            return w ? make_error("LocalIOError", "cannot write the layer of '" + source.string() + "'")
                     : w.error();
        }
    } else {
        // A tar file: decompressed if need be (libarchive's raw reader), re-compressed.
        std::unique_ptr<archive, read_deleter> in(archive_read_new());
        archive_read_support_filter_all(in.get());
        archive_read_support_format_raw(in.get());
        archive_entry* e = nullptr;
        if (archive_read_open_filename(in.get(), source.c_str(), 1 << 20) != ARCHIVE_OK ||
            archive_read_next_header(in.get(), &e) != ARCHIVE_OK) {
            cleanup();
            return make_error(
                "LocalIOError",
                "cannot read '" + source.string() + "': " + archive_error_string(in.get())
            );
        }
        const void* buf = nullptr;
        std::size_t n = 0;
        la_int64_t off = 0;
        for (;;) {
            const int rc = archive_read_data_block(in.get(), &buf, &n, &off);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN) {
                cleanup();
                return make_error(
                    "LocalIOError",
                    "cannot read '" + source.string() + "': " + archive_error_string(in.get())
                );
            }
            sink.hash.update(std::span(static_cast<const std::uint8_t*>(buf), n));
            if (auto w = comp.write(buf, n); !w) {
                cleanup();
                return w.error();
            }
        }
    }
    if (auto r = comp.close(); !r) {
        cleanup();
        return r.error();
    }
    layer_blob out;
    out.media_type = std::string(layer_type(opts.compression));
    out.digest = comp.digest();
    out.diff_id = "sha256:" + encoding::to_hex(sink.hash.finish());
    out.size = comp.size();
    if (auto c = dest.commit_blob(*tmp, out.digest); !c) return c.error();
    return out;
}

result<built_image> build_image(const build_request& req, const store& dest, const registry_options& opts) {
    const std::string where = "building " + req.target.str();
    registry_client target(req.target.registry, opts);
    std::optional<registry_client> base_client;
    std::optional<resolved_image> base;
    if (req.base) {
        const bool same = req.base->registry == req.target.registry;
        if (!same) base_client.emplace(req.base->registry, opts);
        auto r = resolve_image(same ? target : *base_client, *req.base, req.platform, dest);
        if (!r) return r.error().wrap(where);
        base = std::move(*r);
    }

    std::vector<layer_blob> fresh;
    for (const auto& src : req.layers) {
        auto l = create_layer(src, dest, req.layer);
        if (!l) return l.error().wrap(where);
        fresh.push_back(std::move(*l));
    }

    // The config: the base's, or a scratch one, with the new layers and the changes.
    json::object cfg;
    if (base) {
        boost::system::error_code ec;
        auto v = json::parse(base->config_bytes, ec);
        if (ec || !v.is_object())
            return make_error("ConfigInvalid", where + ": the base image's config is not a JSON object");
        cfg = std::move(v.get_object());
    } else {
        cfg["architecture"] = req.platform.architecture;
        cfg["os"] = req.platform.os;
        if (!req.platform.variant.empty()) cfg["variant"] = req.platform.variant;
        cfg["config"] = json::object{};
        cfg["rootfs"] = json::object{{"type", "layers"}, {"diff_ids", json::array{}}};
    }
    const std::string created = now_rfc3339();
    cfg["created"] = created;
    if (!cfg["config"].is_object()) cfg["config"] = json::object{};
    auto& c = cfg["config"].get_object();
    const auto& ch = req.changes;
    if (ch.entrypoint) {
        c["Entrypoint"] = string_array(*ch.entrypoint);
        if (!ch.cmd) c["Cmd"] = nullptr;
    }
    if (ch.cmd) c["Cmd"] = string_array(*ch.cmd);
    if (ch.working_dir) c["WorkingDir"] = *ch.working_dir;
    if (ch.user) c["User"] = *ch.user;
    if (!ch.env.empty()) {
        std::vector<std::string> env;
        if (const auto* old = c.if_contains("Env"); old != nullptr && old->is_array()) {
            for (const auto& v : old->get_array())
                if (v.is_string()) env.emplace_back(v.get_string());
        }
        for (const auto& kv : ch.env) {
            const auto name = kv.substr(0, kv.find('='));
            std::erase_if(env, [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
            env.push_back(kv);
        }
        c["Env"] = string_array(env);
    }
    if (!ch.labels.empty()) {
        if (!c["Labels"].is_object()) c["Labels"] = json::object{};
        for (const auto& [k, v] : ch.labels) c["Labels"].get_object()[k] = v;
    }
    if (!cfg["rootfs"].is_object())
        cfg["rootfs"] = json::object{{"type", "layers"}, {"diff_ids", json::array{}}};
    auto& rootfs = cfg["rootfs"].get_object();
    if (!rootfs["diff_ids"].is_array()) rootfs["diff_ids"] = json::array{};
    if (!cfg["history"].is_array()) cfg["history"] = json::array{};
    for (const auto& l : fresh) {
        rootfs["diff_ids"].get_array().emplace_back(l.diff_id);
        cfg["history"].get_array().emplace_back(
            json::object{{"created", created}, {"created_by", "scar image build"}}
        );
    }
    const std::string config_bytes = json::serialize(cfg);
    auto config_digest = dest.write_blob(config_bytes);
    if (!config_digest) return config_digest.error();

    // The manifest keeps the base's family when it can.
    const bool docker = base && base->manifest.media_type == media_type::docker_manifest &&
                        req.layer.compression == compression::gzip;
    manifest m;
    m.media_type = docker ? media_type::docker_manifest : media_type::oci_manifest;
    m.config = descriptor{
        std::string(docker ? media_type::docker_config : media_type::oci_config),
        *config_digest,
        config_bytes.size(),
        {},
        {},
        {}};
    if (base) {
        for (auto l : base->manifest.layers) {
            if (!docker && l.media_type == media_type::docker_layer_gzip)
                l.media_type = media_type::oci_layer_gzip;
            m.layers.push_back(std::move(l));
        }
    }
    for (const auto& l : fresh) {
        m.layers.push_back(descriptor{
            docker ? std::string(media_type::docker_layer_gzip) : l.media_type,
            l.digest,
            l.size,
            {},
            {},
            {}});
    }

    // Push: base layers by mount where possible, else through the store; then ours.
    const auto& repo = req.target.repository;
    if (base) {
        std::vector<descriptor> need;
        for (const auto& l : base->manifest.layers) {
            if (req.base->registry == req.target.registry) {
                auto mounted = target.mount_blob(repo, l.digest, req.base->repository);
                if (!mounted) return mounted.error().wrap(where);
                if (*mounted) continue;
            }
            need.push_back(l);
        }
        if (!need.empty()) {
            auto& from = base_client ? *base_client : target;
            if (auto r = from.download_blobs(req.base->repository, need, dest); !r)
                return r.error().wrap(where);
            for (const auto& l : need) {
                if (auto r = target.upload_blob(repo, l.digest, dest.blob_path(l.digest), l.size); !r)
                    return r.error().wrap(where);
            }
        }
    }
    for (const auto& l : fresh) {
        if (auto r = target.upload_blob(repo, l.digest, dest.blob_path(l.digest), l.size); !r)
            return r.error().wrap(where);
    }
    if (auto r =
            target.upload_blob(repo, *config_digest, dest.blob_path(*config_digest), config_bytes.size());
        !r)
        return r.error().wrap(where);
    const std::string body = serialize(m);
    auto pushed = target.put_manifest(repo, req.target.manifest_reference(), body, m.media_type);
    if (!pushed) return pushed.error().wrap(where);
    if (auto w = dest.write_blob(body); !w) return w.error();
    return built_image{*pushed, std::move(m), *config_digest};
}

}  // namespace scar::image
