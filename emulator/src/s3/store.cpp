#include "store.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>

#include <boost/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "../json_fields.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace scar::emulator::s3 {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

error io_error(std::string_view what, const fs::path& p, int err) {
    return make_error(
        "InternalError",
        std::string(what) + " '" + p.string() + "': " + std::strerror(err) +
            (err == ENOSPC ? "; the emulator's data directory is full, free some space" : ""),
        500,
        true
    );
}

error no_such_bucket(const std::string& name) {
    return make_error(
        "NoSuchBucket",
        "The specified bucket does not exist: '" + name + "'; create it first (aws s3 mb s3://" + name + ")",
        404
    );
}

error no_such_key(const std::string& key) {
    return make_error("NoSuchKey", "The specified key does not exist: '" + key + "'", 404);
}

error no_such_upload(const std::string& id) {
    return make_error(
        "NoSuchUpload",
        "The specified upload does not exist: '" + id +
            "'. The upload ID may be invalid, or the upload may have been aborted or completed.",
        404
    );
}

/// Bodies are spread over 256 directories: creating many files in one directory
/// serialises on its lock.
fs::path data_path(const fs::path& root, std::string_view id) {
    return root / "data" / id.substr(0, 2) / id;
}

std::string key_hash(std::string_view key) {
    return encoding::to_hex(crypto::sha256_of(key));
}

json::array to_json(const http::header_list& h) {
    json::array a;
    for (const auto& [n, v] : h) a.push_back(json::array{json::string(n), json::string(v)});
    return a;
}

http::header_list headers_from(const json::value* v) {
    http::header_list out;
    if (v == nullptr || !v->is_array()) return out;
    for (const auto& e : v->as_array()) {
        if (!e.is_array() || e.as_array().size() != 2) continue;
        const auto& p = e.as_array();
        if (p[0].is_string() && p[1].is_string()) {
            out.emplace_back(std::string(p[0].as_string()), std::string(p[1].as_string()));
        }
    }
    return out;
}

json::object meta_json(const object_meta& m) {
    return {
        {"key", m.key},
        {"size", m.size},
        {"etag", m.etag},
        {"last_modified_ms", m.last_modified_ms},
        {"content_type", m.content_type},
        {"headers", to_json(m.headers)},
        {"user_meta", to_json(m.user_meta)},
        {"tags", to_json(m.tags)},
        {"data", m.data},
        {"parts", m.parts},
        {"sequencer", m.sequencer}};
}

object_meta meta_from(const json::object& o) {
    object_meta m;
    m.key = json_string(o, "key");
    m.size = static_cast<std::uint64_t>(json_int(o, "size").value_or(0));
    m.etag = json_string(o, "etag");
    m.last_modified_ms = json_int(o, "last_modified_ms").value_or(0);
    m.content_type = json_string(o, "content_type");
    m.headers = headers_from(o.if_contains("headers"));
    m.user_meta = headers_from(o.if_contains("user_meta"));
    m.tags = headers_from(o.if_contains("tags"));
    m.data = json_string(o, "data");
    m.parts = static_cast<std::uint32_t>(json_int(o, "parts").value_or(0));
    m.sequencer = json_string(o, "sequencer");
    return m;
}

std::optional<json::object> read_json(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(ss.str(), ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

result<void> sync_fd(int fd, const fs::path& p) {
    if (::fdatasync(fd) != 0) return io_error("cannot sync", p, errno);
    return {};
}

}  // namespace

result<void> validate_bucket_name(std::string_view name) {
    const auto bad = [&](std::string_view why) {
        return make_error(
            "InvalidBucketName",
            "The specified bucket is not valid: '" + std::string(name) + "' " + std::string(why) +
                "; bucket names are 3-63 characters of lower-case letters, digits, '.' and '-', "
                "starting and ending with a letter or digit",
            400
        );
    };
    if (name.size() < 3 || name.size() > 63) return bad("must be 3 to 63 characters long");
    for (const char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
            return bad("contains a character other than a-z, 0-9, '.' and '-'");
        }
    }
    const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front()) || !alnum(name.back())) return bad("must start and end with a letter or digit");
    if (name.find("..") != std::string_view::npos) return bad("has two adjacent periods");
    return {};
}

staged_file::~staged_file() {
    if (!path_.empty()) ::unlink(path_.c_str());
}

result<void> staged_file::write(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd_.get(), data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("cannot write", path_, errno);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

result<std::shared_ptr<store>> store::open(fs::path root, bool fsync) {
    auto s = std::make_shared<store>(std::move(root), fsync);
    if (auto ok = s->load(); !ok) return ok.error();
    return s;
}

result<void> store::load() {
    std::error_code ec;
    for (const char* d : {"buckets", "data", "uploads", "tmp"}) {
        fs::create_directories(root_ / d, ec);
        if (ec) return io_error("cannot create", root_ / d, ec.value());
    }
    // Anything in tmp/ was being written when the emulator stopped.
    for (const auto& e : fs::directory_iterator(root_ / "tmp", ec)) fs::remove_all(e.path(), ec);

    std::set<std::string> referenced;
    for (const auto& bdir : fs::directory_iterator(root_ / "buckets", ec)) {
        for (const auto& f : fs::directory_iterator(bdir.path(), ec)) {
            if (f.path().extension() == ".tmp") {
                std::error_code rm;
                fs::remove(f.path(), rm);  // bucket.json being rewritten when the emulator stopped
            }
        }
        auto info = read_json(bdir.path() / "bucket.json");
        if (!info) {
            log::warn("ignoring '", bdir.path().string(), "': no readable bucket.json");
            continue;
        }
        bucket_state b;
        b.info.name = json_string(*info, "name");
        b.info.created_ms = json_int(*info, "created_ms").value_or(0);
        b.info.region = json_string(*info, "region");
        b.info.notification_xml = json_string(*info, "notification_xml");
        for (const auto& f : fs::recursive_directory_iterator(bdir.path() / "objects", ec)) {
            if (f.is_regular_file() && f.path().extension() == ".tmp") {
                std::error_code rm;
                fs::remove(f.path(), rm);  // metadata being written when the emulator stopped
                continue;
            }
            if (!f.is_regular_file() || f.path().extension() != ".json") continue;
            auto o = read_json(f.path());
            if (!o) continue;
            auto m = meta_from(*o);
            if (key_hash(m.key) != f.path().stem().string()) continue;
            referenced.insert(m.data);
            sequencer_ =
                std::max<std::uint64_t>(sequencer_.load(), std::strtoull(m.sequencer.c_str(), nullptr, 16));
            b.objects.emplace(m.key, std::move(m));
        }
        buckets_.emplace(b.info.name, std::move(b));
    }
    for (const auto& u : fs::directory_iterator(root_ / "uploads", ec)) {
        auto o = read_json(u.path() / "upload.json");
        if (!o) {
            fs::remove_all(u.path(), ec);
            continue;
        }
        upload_info up;
        up.id = json_string(*o, "id");
        up.bucket = json_string(*o, "bucket");
        up.key = json_string(*o, "key");
        up.initiated_ms = json_int(*o, "initiated_ms").value_or(0);
        if (const auto* m = o->if_contains("meta"); m != nullptr && m->is_object())
            up.meta = meta_from(m->as_object());
        for (const auto& p : fs::directory_iterator(u.path(), ec)) {
            const auto name = p.path().filename().string();
            if (name.ends_with(".tmp")) {
                std::error_code rm;
                fs::remove(p.path(), rm);  // part metadata being written when the emulator stopped
                continue;
            }
            if (!name.starts_with("part-") || !name.ends_with(".json")) continue;
            auto pj = read_json(p.path());
            if (!pj) continue;
            part_info part;
            part.number = static_cast<std::uint32_t>(json_int(*pj, "number").value_or(0));
            part.size = static_cast<std::uint64_t>(json_int(*pj, "size").value_or(0));
            part.etag = json_string(*pj, "etag");
            part.last_modified_ms = json_int(*pj, "last_modified_ms").value_or(0);
            if (fs::exists(u.path() / ("part-" + std::to_string(part.number))))
                up.parts.emplace(part.number, part);
        }
        // A part body whose metadata was never written: its UploadPart was not answered.
        for (const auto& p : fs::directory_iterator(u.path(), ec)) {
            const auto name = p.path().filename().string();
            if (!name.starts_with("part-")) continue;
            std::uint32_t number = 0;
            const auto [end, err] = std::from_chars(name.data() + 5, name.data() + name.size(), number);
            if (err == std::errc() && end == name.data() + name.size() && !up.parts.contains(number)) {
                std::error_code rm;
                fs::remove(p.path(), rm);
            }
        }
        if (buckets_.contains(up.bucket)) {
            uploads_.emplace(up.id, std::move(up));
        } else {
            fs::remove_all(u.path(), ec);
        }
    }
    // Bodies written but never committed (a crash between writing and committing).
    std::size_t removed = 0;
    for (const auto& d : fs::recursive_directory_iterator(root_ / "data", ec)) {
        if (d.is_regular_file() && !referenced.contains(d.path().filename().string())) {
            fs::remove(d.path(), ec);
            ++removed;
        }
    }
    if (removed != 0) log::info("s3: removed ", removed, " uncommitted object bodies");
    const auto now_seq = static_cast<std::uint64_t>(now_ms()) << 16;
    sequencer_ = std::max<std::uint64_t>(sequencer_.load(), now_seq);
    return {};
}

result<fs::path> store::write_temp(std::string_view content, const fs::path& near) const {
    // Next to its destination (no shared directory to contend on); a leftover is removed at
    // the next start.
    fs::path tmp = near;
    tmp += "." + random_hex(6, false) + ".tmp";
    unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd && errno == ENOENT) {
        std::error_code ec;
        fs::create_directories(tmp.parent_path(), ec);
        fd = unique_fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    }
    if (!fd) return io_error("cannot create", tmp, errno);
    staged_file f(std::move(fd), tmp);
    if (auto ok = f.write(content); !ok) return ok.error();
    if (fsync_) {
        if (auto ok = sync_fd(f.fd(), tmp); !ok) return ok.error();
    }
    f.release();
    return tmp;
}

result<void> store::install(const fs::path& tmp, const fs::path& path) const {
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::error_code ec;  // the first object in this directory: make it and retry
        if (errno != ENOENT || !fs::create_directories(path.parent_path(), ec) ||
            ::rename(tmp.c_str(), path.c_str()) != 0) {
            const int err = errno;
            ::unlink(tmp.c_str());
            return io_error("cannot rename into", path, err);
        }
    }
    return {};
}

result<void> store::write_atomically(const fs::path& path, std::string_view content) const {
    auto tmp = write_temp(content, path);
    if (!tmp) return tmp.error();
    return install(*tmp, path);
}

fs::path store::meta_path(const std::string& bucket, const std::string& key) const {
    const auto h = key_hash(key);
    return root_ / "buckets" / bucket / "objects" / h.substr(0, 2) / (h + ".json");
}

std::string store::next_sequencer() {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(++sequencer_));
    return buf;
}

result<void> store::save_bucket(const bucket_info& b) const {
    const json::object o{
        {"name", b.name},
        {"created_ms", b.created_ms},
        {"region", b.region},
        {"notification_xml", b.notification_xml}};
    return write_atomically(root_ / "buckets" / b.name / "bucket.json", json::serialize(o));
}

result<void> store::create_bucket(const std::string& name, const std::string& region) {
    if (auto ok = validate_bucket_name(name); !ok) return ok;
    const std::lock_guard lock(mutex_);
    if (buckets_.contains(name)) {
        return make_error(
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it: '" + name +
                "'",
            409
        );
    }
    bucket_state b;
    b.info = {name, now_ms(), region, {}};
    if (auto ok = save_bucket(b.info); !ok) return ok;
    buckets_.emplace(name, std::move(b));
    return {};
}

result<void> store::delete_bucket(const std::string& name) {
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(name);
    if (it == buckets_.end()) return no_such_bucket(name);
    if (!it->second.objects.empty()) {
        return make_error(
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty: '" + name +
                "'; delete its objects first (aws s3 rb --force)",
            409
        );
    }
    for (auto u = uploads_.begin(); u != uploads_.end();) {
        if (u->second.bucket == name) {
            std::error_code ec;
            fs::remove_all(root_ / "uploads" / u->first, ec);
            u = uploads_.erase(u);
        } else {
            ++u;
        }
    }
    // Rename first so a crash never leaves a half-deleted bucket that looks alive.
    const fs::path gone = root_ / "tmp" / ("bucket-" + random_hex(8, false));
    if (::rename((root_ / "buckets" / name).c_str(), gone.c_str()) != 0) {
        return io_error("cannot remove bucket directory", root_ / "buckets" / name, errno);
    }
    std::error_code ec;
    fs::remove_all(gone, ec);
    buckets_.erase(it);
    return {};
}

std::optional<bucket_info> store::bucket(const std::string& name) const {
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(name);
    if (it == buckets_.end()) return std::nullopt;
    return it->second.info;
}

std::vector<bucket_info> store::buckets() const {
    const std::lock_guard lock(mutex_);
    std::vector<bucket_info> out;
    out.reserve(buckets_.size());
    for (const auto& [n, b] : buckets_) out.push_back(b.info);
    return out;
}

result<void> store::set_notification(const std::string& bucket, std::string xml) {
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return no_such_bucket(bucket);
    auto info = it->second.info;
    info.notification_xml = std::move(xml);
    if (auto ok = save_bucket(info); !ok) return ok;
    it->second.info = std::move(info);
    return {};
}

result<staged_file> store::stage() {
    // Written at its final place: until metadata references it, it is garbage to the next
    // start, never a visible object.
    const std::string id = random_hex(16, false);
    const fs::path p = data_path(root_, id);
    unique_fd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd && errno == ENOENT) {
        std::error_code ec;
        fs::create_directories(p.parent_path(), ec);
        fd = unique_fd(::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    }
    if (!fd) return io_error("cannot create", p, errno);
    return staged_file(std::move(fd), p);
}

result<object_meta> store::commit(const std::string& bucket, object_meta meta, staged_file body) {
    if (fsync_) {
        if (auto ok = sync_fd(body.fd(), body.path()); !ok) return ok.error();
    }
    meta.data = body.path().filename().string();
    const fs::path data = body.path();
    body.release();

    meta.sequencer = next_sequencer();
    // Written and synced outside the lock; only the renames that publish it are serialised,
    // so the index and the disk agree on which of two racing writes came last.
    const fs::path mp = meta_path(bucket, meta.key);
    auto tmp = write_temp(json::serialize(meta_json(meta)), mp);
    if (!tmp) {
        ::unlink(data.c_str());
        return tmp.error();
    }
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(bucket);
    if (it == buckets_.end()) {
        ::unlink(data.c_str());
        ::unlink(tmp->c_str());
        return no_such_bucket(bucket);
    }
    if (auto ok = install(*tmp, mp); !ok) {
        ::unlink(data.c_str());
        return ok.error();
    }
    auto& slot = it->second.objects[meta.key];
    if (!slot.data.empty()) ::unlink(data_path(root_, slot.data).c_str());
    slot = meta;
    return meta;
}

result<object_meta> store::head(const std::string& bucket, const std::string& key) const {
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return no_such_bucket(bucket);
    const auto o = it->second.objects.find(key);
    if (o == it->second.objects.end()) return no_such_key(key);
    return o->second;
}

result<object_meta> store::update(
    const std::string& bucket,
    const std::string& key,
    const std::function<void(object_meta&)>& change
) {
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return no_such_bucket(bucket);
    const auto o = it->second.objects.find(key);
    if (o == it->second.objects.end()) return no_such_key(key);
    object_meta m = o->second;
    change(m);
    if (auto ok = write_atomically(meta_path(bucket, key), json::serialize(meta_json(m))); !ok)
        return ok.error();
    o->second = m;
    return m;
}

result<std::pair<object_meta, std::shared_ptr<const int>>> store::open_object(
    const std::string& bucket,
    const std::string& key
) const {
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return no_such_bucket(bucket);
    const auto o = it->second.objects.find(key);
    if (o == it->second.objects.end()) return no_such_key(key);
    const fs::path p = data_path(root_, o->second.data);
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open object body", p, errno);
    auto holder = std::shared_ptr<const int>(new int(fd), [](const int* f) {
        ::close(*f);
        delete f;
    });
    return std::make_pair(o->second, std::move(holder));
}

result<std::optional<object_meta>> store::remove(const std::string& bucket, const std::string& key) {
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return no_such_bucket(bucket);
    const auto o = it->second.objects.find(key);
    if (o == it->second.objects.end()) return std::optional<object_meta>{};
    const auto mp = meta_path(bucket, key);
    if (::unlink(mp.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", mp, errno);
    ::unlink(data_path(root_, o->second.data).c_str());
    std::optional<object_meta> removed = std::move(o->second);
    removed->sequencer = next_sequencer();  // the removal is a later change of the key
    it->second.objects.erase(o);
    return removed;
}

result<list_page> store::list(
    const std::string& bucket,
    const std::string& prefix,
    const std::string& delimiter,
    const std::string& after,
    std::size_t max_keys
) const {
    const std::lock_guard lock(mutex_);
    const auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return no_such_bucket(bucket);
    const auto& objects = it->second.objects;
    list_page page;
    // The first key after every key that starts with `common` (keys sort by bytes).
    const auto past = [&objects](std::string common) {
        while (!common.empty() && static_cast<unsigned char>(common.back()) == 0xff) common.pop_back();
        if (common.empty()) return objects.end();
        common.back() = static_cast<char>(static_cast<unsigned char>(common.back()) + 1);
        return objects.lower_bound(common);
    };
    auto o = after.empty() || after < prefix ? objects.lower_bound(prefix) : objects.upper_bound(after);
    std::size_t count = 0;
    while (o != objects.end()) {
        const std::string& key = o->first;
        if (!key.starts_with(prefix)) break;
        if (!delimiter.empty()) {
            if (const auto d = key.find(delimiter, prefix.size()); d != std::string::npos) {
                std::string common = key.substr(0, d + delimiter.size());
                if (common > after || after.empty()) {
                    if (count == max_keys) {
                        page.truncated = true;
                        break;
                    }
                    page.common_prefixes.push_back(common);
                    page.last = common;
                    ++count;
                }
                o = past(std::move(common));
                continue;
            }
        }
        if (count == max_keys) {
            page.truncated = true;
            break;
        }
        page.objects.push_back(o->second);
        page.last = key;
        ++count;
        ++o;
    }
    return page;
}

result<upload_info> store::create_upload(const std::string& bucket, object_meta meta) {
    const std::lock_guard lock(mutex_);
    if (!buckets_.contains(bucket)) return no_such_bucket(bucket);
    upload_info up;
    up.id = random_hex(24, false);
    up.bucket = bucket;
    up.key = meta.key;
    up.initiated_ms = now_ms();
    up.meta = std::move(meta);
    std::error_code ec;
    fs::create_directories(root_ / "uploads" / up.id, ec);
    if (ec) return io_error("cannot create", root_ / "uploads" / up.id, ec.value());
    const json::object o{
        {"id", up.id},
        {"bucket", up.bucket},
        {"key", up.key},
        {"initiated_ms", up.initiated_ms},
        {"meta", meta_json(up.meta)}};
    if (auto ok = write_atomically(root_ / "uploads" / up.id / "upload.json", json::serialize(o)); !ok) {
        return ok.error();
    }
    uploads_.emplace(up.id, up);
    return up;
}

result<part_info> store::put_part(
    const std::string& bucket,
    const std::string& upload_id,
    std::uint32_t number,
    staged_file body,
    std::string md5_hex
) {
    if (fsync_) {
        if (auto ok = sync_fd(body.fd(), body.path()); !ok) return ok.error();
    }
    struct stat st {};
    ::fstat(body.fd(), &st);
    part_info part{number, static_cast<std::uint64_t>(st.st_size), std::move(md5_hex), now_ms()};
    const std::lock_guard lock(mutex_);
    const auto it = uploads_.find(upload_id);
    if (it == uploads_.end() || it->second.bucket != bucket) return no_such_upload(upload_id);
    const fs::path dir = root_ / "uploads" / upload_id;
    const fs::path data = dir / ("part-" + std::to_string(number));
    if (::rename(body.path().c_str(), data.c_str()) != 0) return io_error("cannot rename into", data, errno);
    body.release();
    const json::object o{
        {"number", part.number},
        {"size", part.size},
        {"etag", part.etag},
        {"last_modified_ms", part.last_modified_ms}};
    if (auto ok = write_atomically(dir / ("part-" + std::to_string(number) + ".json"), json::serialize(o));
        !ok) {
        return ok.error();
    }
    it->second.parts[number] = part;
    return part;
}

result<upload_info> store::upload(const std::string& bucket, const std::string& upload_id) const {
    const std::lock_guard lock(mutex_);
    const auto it = uploads_.find(upload_id);
    if (it == uploads_.end() || it->second.bucket != bucket) return no_such_upload(upload_id);
    return it->second;
}

result<std::vector<upload_info>> store::uploads(const std::string& bucket) const {
    const std::lock_guard lock(mutex_);
    if (!buckets_.contains(bucket)) return no_such_bucket(bucket);
    std::vector<upload_info> out;
    for (const auto& [id, u] : uploads_)
        if (u.bucket == bucket) out.push_back(u);
    std::sort(out.begin(), out.end(), [](const upload_info& a, const upload_info& b) {
        return std::tie(a.key, a.initiated_ms) < std::tie(b.key, b.initiated_ms);
    });
    return out;
}

result<object_meta> store::complete_upload(
    const std::string& bucket,
    const std::string& upload_id,
    const std::vector<scar::s3::completed_part>& parts
) {
    auto up = upload(bucket, upload_id);
    if (!up) return up.error();
    if (parts.empty()) {
        return make_error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema: "
            "CompleteMultipartUpload needs at least one Part",
            400
        );
    }
    constexpr std::uint64_t min_part = 5ull << 20;
    auto staged = stage();
    if (!staged) return staged.error();
    crypto::md5 etag_md5;
    std::uint64_t total = 0;
    int previous = 0;
    const fs::path dir = root_ / "uploads" / upload_id;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto& [number, etag] = parts[i];
        if (number <= previous) {
            return make_error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
                400
            );
        }
        previous = number;
        const auto p = up->parts.find(static_cast<std::uint32_t>(number));
        std::string want = etag;
        if (want.size() >= 2 && want.front() == '"' && want.back() == '"')
            want = want.substr(1, want.size() - 2);
        if (p == up->parts.end() || p->second.etag != want) {
            return make_error(
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may not have been uploaded, "
                "or the specified entity tag may not match the part's entity tag (part " +
                    std::to_string(number) + ")",
                400
            );
        }
        if (i + 1 < parts.size() && p->second.size < min_part) {
            return make_error(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size: part " +
                    std::to_string(number) + " is " + std::to_string(p->second.size) +
                    " bytes; every part but the last must be at least 5 MiB",
                400
            );
        }
        const auto bin = encoding::from_hex(p->second.etag);
        if (bin) etag_md5.update(*bin);
        const fs::path part_path = dir / ("part-" + std::to_string(number));
        unique_fd in(::open(part_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!in) return io_error("cannot open part", part_path, errno);
        std::uint64_t left = p->second.size;
        while (left > 0) {
            const ssize_t n = ::copy_file_range(in.get(), nullptr, staged->fd(), nullptr, left, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return io_error("cannot copy part into", staged->path(), n < 0 ? errno : EIO);
            left -= static_cast<std::uint64_t>(n);
        }
        total += p->second.size;
    }
    object_meta meta = up->meta;
    meta.size = total;
    meta.parts = static_cast<std::uint32_t>(parts.size());
    meta.etag = encoding::to_hex(etag_md5.finish()) + "-" + std::to_string(parts.size());
    meta.last_modified_ms = now_ms();
    auto committed = commit(bucket, std::move(meta), std::move(*staged));
    if (!committed) return committed.error();
    const std::lock_guard lock(mutex_);
    uploads_.erase(upload_id);
    remove_upload_dir(upload_id);
    return committed;
}

result<void> store::abort_upload(const std::string& bucket, const std::string& upload_id) {
    const std::lock_guard lock(mutex_);
    const auto it = uploads_.find(upload_id);
    if (it == uploads_.end() || it->second.bucket != bucket) return no_such_upload(upload_id);
    uploads_.erase(it);
    remove_upload_dir(upload_id);
    return {};
}

void store::remove_upload_dir(const std::string& upload_id) const {
    // Moved away in one rename first: a crash during the removal must not leave an upload
    // that is still listed but lost some of its parts (tmp/ is emptied at the next start).
    const fs::path dir = root_ / "uploads" / upload_id;
    const fs::path gone = root_ / "tmp" / ("upload-" + upload_id);
    std::error_code ec;
    fs::remove_all(::rename(dir.c_str(), gone.c_str()) == 0 ? gone : dir, ec);
}

}  // namespace scar::emulator::s3
