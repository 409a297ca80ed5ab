#include "scar/s3/client.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/s3/errors.hpp>
#include <scar/s3/event.hpp>
#include <scar/s3/xml.hpp>
#include <scar/sigv4/signer.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

namespace scar::s3 {
namespace {

constexpr std::uint64_t min_part_size = 5ULL << 20U;
constexpr std::uint64_t max_parts = 10'000;

error invalid_parameter(std::string message) {
    return make_error("InvalidParameterValue", std::move(message));
}

bool is_ip_literal(std::string_view host) noexcept {
    if (host.starts_with('[')) return true;
    return !host.empty() &&
           std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

/// Scheme, host and port of an endpoint URL.
struct endpoint_parts {
    std::string scheme = "https";
    std::string host;
    std::string port;  ///< empty: the scheme's default
};

endpoint_parts split_endpoint(std::string_view url) {
    endpoint_parts out;
    if (const auto sep = url.find("://"); sep != std::string_view::npos) {
        out.scheme = encoding::to_lower(url.substr(0, sep));
        url.remove_prefix(sep + 3);
    }
    url = url.substr(0, url.find('/'));
    const auto bracket = url.rfind(']');
    const auto colon = url.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
        out.port = std::string(url.substr(colon + 1));
        url = url.substr(0, colon);
    }
    out.host = std::string(url);
    return out;
}

std::string s3_uri(std::string_view bucket, std::string_view key) {
    return "s3://" + std::string(bucket) + (key.empty() ? "" : "/" + std::string(key));
}

/// pugixml flags that keep every byte of a key: whitespace-only text and raw CRs.
constexpr unsigned xml_flags = (pugi::parse_default & ~pugi::parse_eol) | pugi::parse_ws_pcdata_single;

result<void> load_xml(pugi::xml_document& doc, const http::response& r, std::string_view context) {
    if (!doc.load_buffer(r.body.data(), r.body.size(), xml_flags)) {
        return make_error(
            "MalformedResponse",
            std::string(context) + ": the response body is not the XML S3 sends (" + r.body.substr(0, 200) +
                "); is the endpoint an S3 service?",
            r.status
        );
    }
    return {};
}

std::uint64_t to_u64(std::string_view s) noexcept {
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

clock::time_point iso_time(std::string_view s) {
    return parse_event_time(s).value_or(clock::time_point{});
}

void add_put_headers(http::request& req, const put_options& o) {
    if (!o.content_type.empty()) http::set_header(req.headers, "Content-Type", o.content_type);
    for (const auto& [name, value] : o.metadata) req.headers.emplace_back("x-amz-meta-" + name, value);
    for (const auto& h : o.headers) req.headers.push_back(h);
}

std::string content_md5(std::string_view data) {
    const auto d = crypto::md5_of(data);
    return encoding::base64_encode(std::span<const std::uint8_t>(d));
}

/// SHA-256 (hex) and MD5 (base64) of a slice of a file, read once.
struct slice_hashes {
    std::string sha256_hex;
    std::string md5_base64;
};

result<slice_hashes> hash_file_slice(
    const std::filesystem::path& path,
    std::uint64_t offset,
    std::uint64_t length
) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f || fseeko(f.get(), static_cast<off_t>(offset), SEEK_SET) != 0) {
        return make_error(
            "LocalIOError",
            "cannot read '" + path.string() + "': " + std::strerror(errno) +
                "; check that it exists and is readable"
        );
    }
    crypto::sha256 sha;
    crypto::md5 md5;
    std::vector<char> buf(1U << 20U);
    while (length > 0) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buf.size()));
        const std::size_t got = std::fread(buf.data(), 1, want, f.get());
        if (got == 0) {
            return make_error(
                "LocalIOError",
                "'" + path.string() +
                    "' ended or failed while being read (it may have changed during the upload)"
            );
        }
        const std::string_view chunk(buf.data(), got);
        sha.update(chunk);
        md5.update(chunk);
        length -= got;
    }
    const auto s = sha.finish();
    const auto m = md5.finish();
    return slice_hashes{encoding::to_hex(s), encoding::base64_encode(std::span<const std::uint8_t>(m))};
}

object_info info_from_headers(std::string_view key, const http::response& r) {
    object_info i;
    i.key = std::string(key);
    i.size = to_u64(r.header("content-length").value_or("0"));
    i.etag = std::string(r.header("etag").value_or(""));
    if (const auto lm = r.header("last-modified")) {
        i.last_modified = sigv4::parse_http_date(*lm).value_or(clock::time_point{});
    }
    i.content_type = std::string(r.header("content-type").value_or(""));
    i.version_id = std::string(r.header("x-amz-version-id").value_or(""));
    i.storage_class = std::string(r.header("x-amz-storage-class").value_or(""));
    i.content_range = std::string(r.header("content-range").value_or(""));
    for (const auto& [name, value] : r.headers) {
        if (name.size() > 11 && encoding::iequals(std::string_view(name).substr(0, 11), "x-amz-meta-")) {
            i.metadata[encoding::to_lower(std::string_view(name).substr(11))] = value;
        }
    }
    return i;
}

void add_get_headers(http::request& req, const get_options& o) {
    if (o.range) {
        std::string v = "bytes=";
        if (o.range->suffix_length) {
            v += "-" + std::to_string(*o.range->suffix_length);
        } else {
            v += std::to_string(o.range->first) + "-";
            if (o.range->last) v += std::to_string(*o.range->last);
        }
        req.headers.emplace_back("Range", std::move(v));
    }
    if (!o.if_match.empty()) req.headers.emplace_back("If-Match", o.if_match);
    if (!o.if_none_match.empty()) req.headers.emplace_back("If-None-Match", o.if_none_match);
}

bool s3_should_retry(const http::response& r) {
    return r.status == 429 || r.status >= 500;
}

}  // namespace

std::string encode_key_path(std::string_view key) {
    return encoding::uri_encode(key, true);
}

bool is_virtual_hostable(std::string_view b) noexcept {
    if (b.size() < 3 || b.size() > 63) return false;
    const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(b.front()) || !alnum(b.back())) return false;
    return std::all_of(b.begin(), b.end(), [&](char c) { return alnum(c) || c == '-'; });
}

struct client::impl {
    client_options opts;
    endpoint_parts ep;
    bool custom_endpoint = false;
    std::string vhost_domain;
    http::client http;  ///< for requests without a progress callback

    explicit impl(client_options o) : opts(std::move(o)) { init(); }

    void init() {
        custom_endpoint = !opts.endpoint.empty();
        if (!custom_endpoint) opts.endpoint = "https://s3." + opts.region + ".amazonaws.com";
        while (opts.endpoint.ends_with('/')) opts.endpoint.pop_back();
        ep = split_endpoint(opts.endpoint);
        vhost_domain = opts.virtual_host_domain;
        if (vhost_domain.empty()) {
            vhost_domain = is_ip_literal(ep.host) ? "s3." + opts.region + ".amazonaws.com" : ep.host;
        }
        http = http::client(make_http_options(nullptr));
    }

    [[nodiscard]] bool virtual_host(std::string_view bucket) const {
        switch (opts.style) {
            case addressing::path:
                return false;
            case addressing::virtual_hosted:
                return !bucket.empty();
            case addressing::automatic:
                return !custom_endpoint && is_virtual_hostable(bucket);
        }
        return false;
    }

    [[nodiscard]] std::string url_for(std::string_view bucket, std::string_view key, std::string_view query)
        const {
        std::string u;
        const std::string port = ep.port.empty() ? "" : ":" + ep.port;
        if (virtual_host(bucket)) {
            u = ep.scheme + "://" + std::string(bucket) + "." + vhost_domain + port + "/";
        } else {
            u = ep.scheme + "://" + ep.host + port + "/";
            if (!bucket.empty()) {
                u += encoding::uri_encode(bucket);
                // A bucket URL without key has no trailing slash, as the aws CLI sends it.
                if (!key.empty()) u += "/";
            }
        }
        u += encode_key_path(key);
        if (!query.empty()) u.append("?").append(query);
        return u;
    }

    result<void> sign(http::request& req) const {
        auto p = sigv4::signing_params::make(opts.credentials, opts.region, "s3", opts.time->now());
        std::string given;
        if (const auto h = http::find_header(req.headers, "x-amz-content-sha256")) {
            given = std::string(*h);
            p.payload_hash = given;
        }
        auto s = sigv4::sign(req, p);
        if (!s) return s.error();
        return {};
    }

    [[nodiscard]] http::options make_http_options(const progress_callback* progress) const {
        http::options o = opts.http;
        o.retry.retry_on = s3_should_retry;
        o.before_send = [this](http::request& r) { return sign(r); };
        // Virtual-hosted names need not resolve: every connection goes to the endpoint.
        if (custom_endpoint && opts.style != addressing::path && !ep.host.empty()) {
            const std::string port = ep.port.empty() ? (ep.scheme == "https" ? "443" : "80") : ep.port;
            o.connect_to = {"::" + ep.host + ":" + port};
        }
        if (progress != nullptr && *progress) {
            o.on_progress = [cb = *progress](const http::progress& p) {
                if (p.upload_total > 0 || p.upload_now > 0) return cb(p.upload_now, p.upload_total);
                return cb(p.download_now, p.download_total);
            };
        }
        return o;
    }

    [[nodiscard]] http::request make(
        std::string method,
        std::string_view bucket,
        std::string_view key,
        std::string_view query = {}
    ) const {
        http::request r;
        r.method = std::move(method);
        r.url = url_for(bucket, key, query);
        return r;
    }

    /// Sends with the shared client, or a fresh one carrying `progress`.
    result<http::response> send(const http::request& req, const progress_callback* progress = nullptr) {
        if (progress != nullptr && *progress) {
            http::client c(make_http_options(progress));
            return c.send(req);
        }
        return http.send(req);
    }

    /// Sends and maps a status >= 300 to S3's error.
    result<http::response> call(
        const http::request& req,
        std::string_view context,
        std::string_view not_found = "NotFound",
        const progress_callback* progress = nullptr
    ) {
        auto r = send(req, progress);
        if (!r) return r.error().wrap(context);
        if (r->status >= 300) return error_from_response(*r, context, not_found);
        return r;
    }

    result<pugi::xml_document> call_xml(const http::request& req, std::string_view context) {
        auto r = call(req, context);
        if (!r) return r.error();
        pugi::xml_document doc;
        if (auto ok = load_xml(doc, *r, context); !ok) return ok.error();
        // CompleteMultipartUpload and CopyObject may answer 200 and then fail in the body.
        if (doc.child("Error")) return error_from_response(*r, context);
        return doc;
    }

    result<put_result> upload_parts(
        std::string_view bucket,
        std::string_view key,
        const std::filesystem::path& file,
        std::uint64_t size,
        const put_options& po
    );
};

client::client(client_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

result<client> client::from_environment(const aws::config_sources& src) {
    client_options o;
    auto creds = aws::load_credentials(src);
    if (!creds) return creds.error();
    auto region = aws::load_region(src);
    if (!region) return region.error();
    o.credentials = std::move(*creds);
    o.region = std::move(*region);
    if (aws::has_custom_endpoint(src, "S3")) {
        auto ep = aws::endpoint_url(src, "S3", o.region);
        if (!ep) return ep.error();
        o.endpoint = std::move(*ep);
        o.style = addressing::path;
    }
    return client(std::move(o));
}

const client_options& client::options() const noexcept {
    return impl_->opts;
}

std::string client::url_for(std::string_view bucket, std::string_view key, std::string_view query) const {
    return impl_->url_for(bucket, key, query);
}

bool client::uses_virtual_host(std::string_view bucket) const {
    return impl_->virtual_host(bucket);
}

// Buckets ----------------------------------------------------------------------------

result<void> client::create_bucket(std::string_view bucket) {
    auto req = impl_->make("PUT", bucket, {});
    if (impl_->opts.region != "us-east-1") {
        req.body = xml::create_bucket_configuration(impl_->opts.region);
    }
    auto r = impl_->call(req, "CreateBucket " + s3_uri(bucket, {}));
    if (!r) return r.error();
    return {};
}

result<void> client::delete_bucket(std::string_view bucket) {
    auto r =
        impl_->call(impl_->make("DELETE", bucket, {}), "DeleteBucket " + s3_uri(bucket, {}), "NoSuchBucket");
    if (!r) return r.error();
    return {};
}

result<void> client::head_bucket(std::string_view bucket) {
    auto r = impl_->call(impl_->make("HEAD", bucket, {}), "HeadBucket " + s3_uri(bucket, {}), "NoSuchBucket");
    if (!r) return r.error();
    return {};
}

result<std::vector<bucket_summary>> client::list_buckets() {
    auto doc = impl_->call_xml(impl_->make("GET", {}, {}), "ListBuckets");
    if (!doc) return doc.error();
    std::vector<bucket_summary> out;
    for (const auto b : doc->child("ListAllMyBucketsResult").child("Buckets").children("Bucket")) {
        out.push_back({b.child_value("Name"), iso_time(b.child_value("CreationDate"))});
    }
    return out;
}

// Objects ----------------------------------------------------------------------------

result<put_result> client::put_object(
    std::string_view bucket,
    std::string_view key,
    std::string_view body,
    const put_options& opts
) {
    auto req = impl_->make("PUT", bucket, key);
    req.body = std::string(body);
    add_put_headers(req, opts);
    if (opts.content_md5) req.headers.emplace_back("Content-MD5", content_md5(body));
    // Hashed once here rather than on every (re)signing.
    req.headers.emplace_back("x-amz-content-sha256", encoding::to_hex(crypto::sha256_of(body)));
    auto r = impl_->call(req, "PutObject " + s3_uri(bucket, key), "NoSuchBucket", &opts.on_progress);
    if (!r) return r.error();
    return put_result{
        std::string(r->header("etag").value_or("")),
        std::string(r->header("x-amz-version-id").value_or(""))};
}

result<put_result> client::put_object_from_file(
    std::string_view bucket,
    std::string_view key,
    const std::filesystem::path& file,
    const put_options& opts
) {
    const std::string context = "PutObject " + s3_uri(bucket, key) + " from '" + file.string() + "'";
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec)
        return make_error(
            "LocalIOError",
            context + ": " + ec.message() + "; check that the file exists and is readable"
        );
    auto hashes = hash_file_slice(file, 0, size);
    if (!hashes) return hashes.error().wrap(context);
    auto req = impl_->make("PUT", bucket, key);
    req.body_file = http::file_body{file, 0, size};
    add_put_headers(req, opts);
    if (opts.content_md5) req.headers.emplace_back("Content-MD5", hashes->md5_base64);
    req.headers.emplace_back("x-amz-content-sha256", hashes->sha256_hex);
    auto r = impl_->call(req, context, "NoSuchBucket", &opts.on_progress);
    if (!r) return r.error();
    return put_result{
        std::string(r->header("etag").value_or("")),
        std::string(r->header("x-amz-version-id").value_or(""))};
}

result<put_result> client::upload_file(
    std::string_view bucket,
    std::string_view key,
    const std::filesystem::path& file,
    const put_options& opts
) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) {
        return make_error(
            "LocalIOError",
            "upload of '" + file.string() + "' to " + s3_uri(bucket, key) + ": " + ec.message() +
                "; check that the file exists and is readable"
        );
    }
    if (size < impl_->opts.multipart_threshold) return put_object_from_file(bucket, key, file, opts);
    return impl_->upload_parts(bucket, key, file, size, opts);
}

result<put_result> client::impl::upload_parts(
    std::string_view bucket,
    std::string_view key,
    const std::filesystem::path& file,
    std::uint64_t size,
    const put_options& po
) {
    const std::string context = "multipart upload of '" + file.string() + "' to " + s3_uri(bucket, key);
    std::uint64_t part = std::max(opts.part_size, min_part_size);
    part = std::max(part, (size + max_parts - 1) / max_parts);
    const std::uint64_t count = (size + part - 1) / part;

    // Create.
    auto create = make("POST", bucket, key, "uploads=");
    add_put_headers(create, po);
    auto created = call_xml(create, "CreateMultipartUpload " + s3_uri(bucket, key));
    if (!created) return created.error().wrap(context);
    const std::string upload_id = created->child("InitiateMultipartUploadResult").child_value("UploadId");
    if (upload_id.empty())
        return make_error("MalformedResponse", context + ": CreateMultipartUpload returned no UploadId");

    const auto abort_with = [&](error e) -> error {
        auto req = make("DELETE", bucket, key, "uploadId=" + encoding::uri_encode(upload_id));
        if (auto a = call(req, "AbortMultipartUpload"); !a) {
            e.message += " (aborting upload " + upload_id + " failed too: " + a.error().message + ")";
        }
        return e.wrap(context);
    };

    // Parts, a few batches of `max_parallel` in flight at a time: hashes computed on
    // worker threads, then the batch sent over curl multi. Progress is reported per batch.
    const std::size_t parallel = std::max<std::size_t>(opts.max_parallel, 1);
    const std::size_t batch_size = parallel * 2;
    std::vector<completed_part> done;
    done.reserve(static_cast<std::size_t>(count));
    http::client sender(make_http_options(nullptr));
    std::uint64_t sent_bytes = 0;
    for (std::uint64_t first = 0; first < count; first += batch_size) {
        const std::uint64_t last = std::min<std::uint64_t>(count, first + batch_size);
        std::vector<std::future<result<slice_hashes>>> hashes;
        for (std::uint64_t i = first; i < last; ++i) {
            const std::uint64_t off = i * part;
            const std::uint64_t len = std::min(part, size - off);
            hashes.push_back(std::async(std::launch::async, hash_file_slice, file, off, len));
        }
        std::vector<http::transfer> batch;
        for (std::uint64_t i = first; i < last; ++i) {
            auto h = hashes[static_cast<std::size_t>(i - first)].get();
            if (!h) return abort_with(h.error());
            const std::uint64_t off = i * part;
            const std::uint64_t len = std::min(part, size - off);
            http::transfer t;
            t.req = make(
                "PUT",
                bucket,
                key,
                "partNumber=" + std::to_string(i + 1) + "&uploadId=" + encoding::uri_encode(upload_id)
            );
            t.req.body_file = http::file_body{file, off, len};
            if (po.content_md5) t.req.headers.emplace_back("Content-MD5", h->md5_base64);
            t.req.headers.emplace_back("x-amz-content-sha256", h->sha256_hex);
            batch.push_back(std::move(t));
        }
        auto results = sender.send_all(batch, parallel);
        for (std::size_t j = 0; j < results.size(); ++j) {
            const int number = static_cast<int>(first + j + 1);
            const std::string part_context =
                "UploadPart " + std::to_string(number) + " of " + std::to_string(count);
            auto& r = results[j];
            if (!r) return abort_with(r.error().wrap(part_context));
            if (r->status >= 300) return abort_with(error_from_response(*r, part_context, "NoSuchUpload"));
            done.push_back({number, std::string(r->header("etag").value_or(""))});
            sent_bytes += batch[j].req.body_file->length.value_or(0);
        }
        if (po.on_progress && !po.on_progress(sent_bytes, size)) {
            return abort_with(make_error(
                "Aborted",
                "the progress callback asked to stop after " + std::to_string(sent_bytes) + " bytes"
            ));
        }
    }

    // Complete.
    auto complete = make("POST", bucket, key, "uploadId=" + encoding::uri_encode(upload_id));
    complete.body = xml::complete_multipart_upload(done);
    auto completed = call_xml(complete, "CompleteMultipartUpload");
    if (!completed) return abort_with(completed.error());
    return put_result{completed->child("CompleteMultipartUploadResult").child_value("ETag"), {}};
}

result<get_result> client::get_object(
    std::string_view bucket,
    std::string_view key,
    const get_options& opts
) {
    auto req = impl_->make("GET", bucket, key);
    add_get_headers(req, opts);
    auto r = impl_->call(req, "GetObject " + s3_uri(bucket, key), "NoSuchKey", &opts.on_progress);
    if (!r) return r.error();
    get_result out{info_from_headers(key, *r), std::move(r->body)};
    out.info.size = out.body.size();
    return out;
}

result<object_info> client::get_object_to_file(
    std::string_view bucket,
    std::string_view key,
    const std::filesystem::path& path,
    const get_options& opts
) {
    auto req = impl_->make("GET", bucket, key);
    add_get_headers(req, opts);
    const std::string context = "GetObject " + s3_uri(bucket, key) + " to '" + path.string() + "'";
    result<http::response> r = [&]() -> result<http::response> {
        if (opts.on_progress) {
            http::client c(impl_->make_http_options(&opts.on_progress));
            return c.send_to_file(req, path);
        }
        return impl_->http.send_to_file(req, path);
    }();
    if (!r) return r.error().wrap(context);
    if (r->status >= 300) return error_from_response(*r, context, "NoSuchKey");
    return info_from_headers(key, *r);
}

result<object_info> client::head_object(std::string_view bucket, std::string_view key) {
    auto r = impl_->call(impl_->make("HEAD", bucket, key), "HeadObject " + s3_uri(bucket, key), "NoSuchKey");
    if (!r) return r.error();
    return info_from_headers(key, *r);
}

result<void> client::delete_object(std::string_view bucket, std::string_view key) {
    auto r = impl_->call(
        impl_->make("DELETE", bucket, key),
        "DeleteObject " + s3_uri(bucket, key),
        "NoSuchBucket"
    );
    if (!r) return r.error();
    return {};
}

result<delete_result> client::delete_objects(
    std::string_view bucket,
    std::span<const std::string> keys,
    bool quiet
) {
    delete_result out;
    for (std::size_t first = 0; first < keys.size(); first += xml::max_delete_keys) {
        const auto chunk = keys.subspan(first, std::min(xml::max_delete_keys, keys.size() - first));
        std::string body = xml::delete_objects({{chunk.begin(), chunk.end()}, quiet});
        auto req = impl_->make("POST", bucket, {}, "delete=");
        // S3 requires an integrity header on DeleteObjects.
        req.headers.emplace_back("Content-MD5", content_md5(body));
        req.body = std::move(body);
        auto doc = impl_->call_xml(req, "DeleteObjects " + s3_uri(bucket, {}));
        if (!doc) return doc.error();
        const auto result_node = doc->child("DeleteResult");
        for (const auto d : result_node.children("Deleted")) out.deleted.emplace_back(d.child_value("Key"));
        for (const auto e : result_node.children("Error")) {
            out.errors.push_back({e.child_value("Key"), e.child_value("Code"), e.child_value("Message")});
        }
    }
    return out;
}

result<put_result> client::copy_object(
    std::string_view src_bucket,
    std::string_view src_key,
    std::string_view dst_bucket,
    std::string_view dst_key,
    const copy_options& opts
) {
    auto req = impl_->make("PUT", dst_bucket, dst_key);
    req.headers.emplace_back(
        "x-amz-copy-source",
        encoding::uri_encode(src_bucket) + "/" + encode_key_path(src_key)
    );
    if (opts.replace_metadata) {
        req.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
        add_put_headers(req, *opts.replace_metadata);
    }
    auto doc = impl_->call_xml(
        req,
        "CopyObject " + s3_uri(src_bucket, src_key) + " to " + s3_uri(dst_bucket, dst_key)
    );
    if (!doc) return doc.error();
    return put_result{doc->child("CopyObjectResult").child_value("ETag"), {}};
}

// Listing ----------------------------------------------------------------------------

result<list_page> client::list_objects_v2(std::string_view bucket, const list_options& opts) {
    // encoding-type=url as AWS's SDKs ask: keys are any UTF-8, and some code points (control
    // characters) cannot be written in XML 1.0 otherwise. The answer's keys are decoded below.
    std::string q = "list-type=2&encoding-type=url";
    const auto add = [&q](std::string_view name, std::string_view value) {
        if (value.empty()) return;
        q.append("&").append(name).append("=").append(encoding::uri_encode(value));
    };
    add("prefix", opts.prefix);
    add("delimiter", opts.delimiter);
    if (opts.max_keys > 0) add("max-keys", std::to_string(opts.max_keys));
    add("continuation-token", opts.continuation_token);
    add("start-after", opts.start_after);
    auto doc =
        impl_->call_xml(impl_->make("GET", bucket, {}, q), "ListObjectsV2 " + s3_uri(bucket, opts.prefix));
    if (!doc) return doc.error();
    const auto root = doc->child("ListBucketResult");
    const bool encoded = std::string_view(root.child_value("EncodingType")) == "url";
    const auto text = [encoded](const char* v) {
        return encoded ? encoding::uri_decode(v, true).value_or(v) : std::string(v);
    };
    list_page page;
    for (const auto c : root.children("Contents")) {
        page.objects.push_back(
            {text(c.child_value("Key")),
             to_u64(c.child_value("Size")),
             c.child_value("ETag"),
             iso_time(c.child_value("LastModified")),
             c.child_value("StorageClass")}
        );
    }
    for (const auto p : root.children("CommonPrefixes"))
        page.common_prefixes.emplace_back(text(p.child_value("Prefix")));
    page.truncated = std::string_view(root.child_value("IsTruncated")) == "true";
    page.next_continuation_token = root.child_value("NextContinuationToken");
    return page;
}

result<listing> client::list_all(
    std::string_view bucket,
    std::string_view prefix,
    std::string_view delimiter
) {
    listing out;
    list_options o;
    o.prefix = std::string(prefix);
    o.delimiter = std::string(delimiter);
    for (;;) {
        auto page = list_objects_v2(bucket, o);
        if (!page) return page.error();
        std::move(page->objects.begin(), page->objects.end(), std::back_inserter(out.objects));
        std::move(
            page->common_prefixes.begin(),
            page->common_prefixes.end(),
            std::back_inserter(out.common_prefixes)
        );
        if (!page->truncated) break;
        if (page->next_continuation_token.empty() || page->next_continuation_token == o.continuation_token) {
            return make_error(
                "MalformedResponse",
                "ListObjectsV2 " + s3_uri(bucket, prefix) +
                    ": the listing is truncated but gives no new continuation token; the server is not "
                    "S3-compatible"
            );
        }
        o.continuation_token = std::move(page->next_continuation_token);
    }
    return out;
}

// Multipart --------------------------------------------------------------------------

result<std::string> client::create_multipart_upload(
    std::string_view bucket,
    std::string_view key,
    const put_options& opts
) {
    auto req = impl_->make("POST", bucket, key, "uploads=");
    add_put_headers(req, opts);
    auto doc = impl_->call_xml(req, "CreateMultipartUpload " + s3_uri(bucket, key));
    if (!doc) return doc.error();
    return std::string(doc->child("InitiateMultipartUploadResult").child_value("UploadId"));
}

result<std::string> client::upload_part(
    std::string_view bucket,
    std::string_view key,
    std::string_view upload_id,
    int part_number,
    std::string_view body
) {
    if (part_number < 1 || part_number > 10'000) {
        return invalid_parameter("part number " + std::to_string(part_number) + " is outside 1…10000");
    }
    auto req = impl_->make(
        "PUT",
        bucket,
        key,
        "partNumber=" + std::to_string(part_number) + "&uploadId=" + encoding::uri_encode(upload_id)
    );
    req.body = std::string(body);
    req.headers.emplace_back("Content-MD5", content_md5(body));
    req.headers.emplace_back("x-amz-content-sha256", encoding::to_hex(crypto::sha256_of(body)));
    auto r = impl_->call(
        req,
        "UploadPart " + std::to_string(part_number) + " of " + s3_uri(bucket, key),
        "NoSuchUpload"
    );
    if (!r) return r.error();
    return std::string(r->header("etag").value_or(""));
}

result<put_result> client::complete_multipart_upload(
    std::string_view bucket,
    std::string_view key,
    std::string_view upload_id,
    std::span<const completed_part> parts
) {
    auto req = impl_->make("POST", bucket, key, "uploadId=" + encoding::uri_encode(upload_id));
    req.body = xml::complete_multipart_upload(parts);
    auto doc = impl_->call_xml(req, "CompleteMultipartUpload " + s3_uri(bucket, key));
    if (!doc) return doc.error();
    return put_result{doc->child("CompleteMultipartUploadResult").child_value("ETag"), {}};
}

result<void> client::abort_multipart_upload(
    std::string_view bucket,
    std::string_view key,
    std::string_view upload_id
) {
    auto r = impl_->call(
        impl_->make("DELETE", bucket, key, "uploadId=" + encoding::uri_encode(upload_id)),
        "AbortMultipartUpload " + s3_uri(bucket, key),
        "NoSuchUpload"
    );
    if (!r) return r.error();
    return {};
}

// Presigned URLs ---------------------------------------------------------------------

result<std::string> client::presign_get(
    std::string_view bucket,
    std::string_view key,
    std::chrono::seconds expires
) {
    auto req = impl_->make("GET", bucket, key);
    const auto& o = impl_->opts;
    auto p = sigv4::signing_params::make(o.credentials, o.region, "s3", o.time->now());
    auto url = sigv4::presign(req, p, expires);
    if (!url) return url.error().wrap("presign GET " + s3_uri(bucket, key));
    return url;
}

result<std::string> client::presign_put(
    std::string_view bucket,
    std::string_view key,
    std::chrono::seconds expires,
    std::string_view content_type
) {
    auto req = impl_->make("PUT", bucket, key);
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", std::string(content_type));
    const auto& o = impl_->opts;
    auto p = sigv4::signing_params::make(o.credentials, o.region, "s3", o.time->now());
    auto url = sigv4::presign(req, p, expires);
    if (!url) return url.error().wrap("presign PUT " + s3_uri(bucket, key));
    return url;
}

// Notifications ----------------------------------------------------------------------

result<notification_config> client::get_bucket_notification(std::string_view bucket) {
    const std::string context = "GetBucketNotificationConfiguration " + s3_uri(bucket, {});
    auto r = impl_->call(impl_->make("GET", bucket, {}, "notification="), context, "NoSuchBucket");
    if (!r) return r.error();
    if (encoding::trim(r->body).empty()) return notification_config{};
    auto c = parse_notification_xml(r->body);
    if (!c) return c.error().wrap(context);
    return c;
}

result<void> client::put_bucket_notification(std::string_view bucket, const notification_config& c) {
    const std::string context = "PutBucketNotificationConfiguration " + s3_uri(bucket, {});
    if (auto ok = validate(c); !ok) return ok.error().wrap(context);
    auto req = impl_->make("PUT", bucket, {}, "notification=");
    req.body = to_xml(c);
    auto r = impl_->call(req, context, "NoSuchBucket");
    if (!r) return r.error();
    return {};
}

}  // namespace scar::s3
