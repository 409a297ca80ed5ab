#include "service.hpp"

#include <scar/core/clock.hpp>
#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>
#include <scar/s3/event.hpp>
#include <scar/s3/notification.hpp>
#include <scar/s3/xml.hpp>
#include <scar/sigv4/chunked.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <sys/stat.h>
#include <unistd.h>

namespace scar::emulator::s3 {
namespace {

namespace json = boost::json;

constexpr std::string_view xmlns = R"( xmlns="http://s3.amazonaws.com/doc/2006-03-01/")";
constexpr std::uint64_t max_put_size = 5ull << 30;  // PutObject and UploadPart: 5 GiB
constexpr std::uint64_t max_xml_body = 2ull << 20;  // DeleteObjects, Complete…, notification
constexpr std::string_view owner_id = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";

error not_implemented(std::string_view what) {
    return make_error(
        "NotImplemented",
        "A header or query you provided requested a function that is not implemented: the emulator "
        "does not support " +
            std::string(what) + " (yet)",
        501
    );
}

error no_such_bucket(const std::string& name) {
    return make_error("NoSuchBucket", "The specified bucket does not exist: '" + name + "'", 404);
}

error method_not_allowed() {
    return make_error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405);
}

std::string etag_quoted(std::string_view etag) {
    return "\"" + std::string(etag) + "\"";
}

std::string unquoted(std::string_view etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    return std::string(etag);
}

bool is_hex64(std::string_view s) noexcept {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

/// Representation headers S3 stores with an object and returns on GET/HEAD.
constexpr std::array<std::string_view, 6> stored_headers = {
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "x-amz-website-redirect-location"};

/// Metadata of a new object from the request headers.
object_meta meta_from_request(const exchange& ex, std::string key) {
    object_meta m;
    m.key = std::move(key);
    m.last_modified_ms = now_ms();
    if (const auto ct = ex.header("content-type"); ct && !ct->empty()) m.content_type = *ct;
    if (const auto tagging = ex.header("x-amz-tagging")) {
        for (auto& [k, v] : parse_query(*tagging)) m.tags.emplace_back(std::move(k), std::move(v));
    }
    for (const auto& [name, value] : ex.headers) {
        const auto lower = encoding::to_lower(name);
        if (lower.starts_with("x-amz-meta-")) {
            m.user_meta.emplace_back(lower.substr(11), value);
        } else if (std::find(stored_headers.begin(), stored_headers.end(), lower) != stored_headers.end()) {
            if (lower == "content-encoding") {
                // aws-chunked is the transfer framing, not the object's encoding.
                std::string kept;
                std::size_t start = 0;
                while (start <= value.size()) {
                    auto end = value.find(',', start);
                    if (end == std::string::npos) end = value.size();
                    auto part = std::string_view(value).substr(start, end - start);
                    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
                    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
                    if (!part.empty() && part != "aws-chunked") {
                        if (!kept.empty()) kept.append(",");
                        kept.append(part);
                    }
                    start = end + 1;
                }
                if (!kept.empty()) m.headers.emplace_back(name, kept);
            } else {
                m.headers.emplace_back(name, value);
            }
        } else if (lower.starts_with("x-amz-checksum-") && lower != "x-amz-checksum-algorithm" &&
                   lower != "x-amz-checksum-type") {
            m.headers.emplace_back(lower, value);
        }
    }
    return m;
}

void put_object_headers(exchange& ex, const object_meta& m) {
    ex.set_header("ETag", etag_quoted(m.etag));
    ex.set_header("Last-Modified", http_date(m.last_modified_ms));
    ex.set_header("Content-Type", m.content_type);
    ex.set_header("Accept-Ranges", "bytes");
    for (const auto& [n, v] : m.headers) {
        if (!encoding::iequals(n, "content-type")) ex.response_headers.emplace_back(n, v);
    }
    for (const auto& [n, v] : m.user_meta) ex.response_headers.emplace_back("x-amz-meta-" + n, v);
    if (m.parts != 0) ex.set_header("x-amz-mp-parts-count", std::to_string(m.parts));
    if (!m.tags.empty()) ex.set_header("x-amz-tagging-count", std::to_string(m.tags.size()));
}

/// "bytes=a-b" → [first, last] within `size`; nullopt for no or unsupported range; an
/// error when it cannot be satisfied.
result<std::optional<std::pair<std::uint64_t, std::uint64_t>>> parse_range(
    std::string_view spec,
    std::uint64_t size
) {
    using range = std::optional<std::pair<std::uint64_t, std::uint64_t>>;
    if (!spec.starts_with("bytes=") || spec.find(',') != std::string_view::npos) return range{};
    spec.remove_prefix(6);
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return range{};
    const auto a = spec.substr(0, dash);
    const auto b = spec.substr(dash + 1);
    const auto num = [](std::string_view s, std::uint64_t& v) {
        return !s.empty() && std::from_chars(s.data(), s.data() + s.size(), v).ptr == s.data() + s.size();
    };
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    const auto unsatisfiable = make_error(
        "InvalidRange",
        "The requested range is not satisfiable: '" + std::string(spec) + "' of an object of " +
            std::to_string(size) + " bytes",
        416
    );
    if (a.empty()) {  // suffix: the last N bytes
        if (!num(b, last)) return range{};
        if (last == 0) return unsatisfiable;
        if (size == 0) return range{};
        return range{std::pair{size - std::min(last, size), size - 1}};
    }
    if (!num(a, first)) return range{};
    if (b.empty()) {
        last = size == 0 ? 0 : size - 1;
    } else if (!num(b, last) || last < first) {
        return range{};
    }
    if (first >= size) return unsatisfiable;
    return range{std::pair{first, std::min(last, size - 1)}};
}

std::string owner_xml() {
    return "<Owner><ID>" + std::string(owner_id) + "</ID><DisplayName>scar</DisplayName></Owner>";
}

/// Decodes the request path to (bucket, key), from the Host header when it names the
/// bucket (virtual-hosted style), else from the first path segment.
std::pair<std::string, std::optional<std::string>> locate(const exchange& ex) {
    std::string host(ex.header("host").value_or(""));
    if (const auto colon = host.rfind(':');
        colon != std::string::npos && host.find(']') == std::string::npos) {
        host.resize(colon);
    }
    host = encoding::to_lower(host);
    std::string bucket;
    if (const auto s3 = host.find(".s3."); s3 != std::string::npos && s3 > 0) {
        bucket = host.substr(0, s3);
    } else if (host.ends_with(".localhost") && host != "s3.localhost" && host.find(".execute-api.") == std::string::npos) {
        bucket = host.substr(0, host.size() - 10);
    }
    const auto decode = [](std::string_view raw) {
        auto d = encoding::uri_decode(raw);
        return d ? std::move(*d) : std::string(raw);
    };
    std::string_view path = ex.path;
    if (path.starts_with('/')) path.remove_prefix(1);
    if (bucket.empty()) {
        const auto slash = path.find('/');
        bucket = decode(path.substr(0, slash));
        if (slash == std::string_view::npos) return {bucket, std::nullopt};
        path.remove_prefix(slash + 1);
    }
    if (path.empty()) return {bucket, std::nullopt};
    return {bucket, decode(path)};
}

}  // namespace

struct service::request {
    exchange& ex;
    const sigv4::verified_request& auth;
    std::string bucket;
    std::optional<std::string> key;
};

result<std::shared_ptr<service>> make_service(const settings& s) {
    auto st = store::open(s.root, s.fsync);
    if (!st) return st.error().wrap("opening the S3 data directory '" + s.root.string() + "'");
    return std::make_shared<service>(std::move(*st), s);
}

void service::write_error(exchange& ex, const error& e) const {
    ex.status = e.http_status != 0 ? e.http_status : 500;
    ex.response_file.reset();
    ex.head_length.reset();
    ex.response_body.clear();
    if (ex.method == "HEAD") return;  // HEAD errors have no body
    ex.set_header("Content-Type", "application/xml");
    std::string& b = ex.response_body;
    b.append(model::xml::declaration).append("\n<Error>");
    model::xml::append_element(b, "Code", e.code);
    model::xml::append_element(b, "Message", e.message);
    model::xml::append_element(b, "RequestId", ex.request_id);
    model::xml::append_element(b, "HostId", "scar-emulator");
    b.append("</Error>");
}

net::awaitable<void> service::handle(exchange& ex, const sigv4::verified_request& auth) {
    auto [bucket, key] = locate(ex);
    request r{ex, auth, std::move(bucket), std::move(key)};
    ex.set_header("x-amz-id-2", encoding::base64_encode(ex.request_id));
    co_await dispatch(r);
}

net::awaitable<void> service::dispatch(request& r) {
    exchange& ex = r.ex;
    const std::string& m = ex.method;
    if (r.bucket.empty()) {
        if (m == "GET") {
            list_buckets(r);
        } else {
            write_error(ex, method_not_allowed());
        }
        co_return;
    }
    if (auto ok = validate_bucket_name(r.bucket); !ok && !(m == "PUT" && !r.key)) {
        // An invalid name can't exist; answer as AWS does for a missing bucket.
        write_error(ex, no_such_bucket(r.bucket));
        co_return;
    }
    static constexpr std::array<std::string_view, 14> unsupported = {
        "acl",
        "policy",
        "tagging",
        "cors",
        "lifecycle",
        "website",
        "replication",
        "logging",
        "encryption",
        "object-lock",
        "retention",
        "legal-hold",
        "accelerate",
        "analytics"};
    for (const auto sub : unsupported) {
        if (ex.has_param(sub) && !(sub == "tagging" && r.key)) {
            write_error(ex, not_implemented("the '" + std::string(sub) + "' subresource"));
            co_return;
        }
    }
    if (!r.key) {
        if (m == "PUT") {
            if (ex.has_param("notification")) {
                co_await put_bucket_notification(r);
            } else if (ex.has_param("versioning")) {
                write_error(ex, not_implemented("bucket versioning"));
            } else {
                co_await create_bucket(r);
            }
        } else if (m == "GET") {
            const bool sub =
                ex.has_param("notification") || ex.has_param("location") || ex.has_param("versioning");
            const auto b = store_->bucket(r.bucket);
            if (sub && !b) {
                write_error(ex, no_such_bucket(r.bucket));
                co_return;
            }
            if (sub) ex.set_header("Content-Type", "application/xml");
            if (ex.has_param("notification")) {
                ex.response_body = b->notification_xml.empty()
                                       ? std::string(model::xml::declaration) + "<NotificationConfiguration" +
                                             std::string(xmlns) + "/>"
                                       : b->notification_xml;
            } else if (ex.has_param("location")) {
                ex.response_body = std::string(model::xml::declaration) + "<LocationConstraint" +
                                   std::string(xmlns) + ">" + (b->region == "us-east-1" ? "" : b->region) +
                                   "</LocationConstraint>";
            } else if (ex.has_param("versioning")) {
                ex.response_body = std::string(model::xml::declaration) + "<VersioningConfiguration" +
                                   std::string(xmlns) + "/>";
            } else if (ex.has_param("uploads")) {
                list_uploads(r);
            } else {
                const auto* lt = ex.param("list-type");
                list_objects(r, lt != nullptr && *lt == "2");
            }
        } else if (m == "HEAD") {
            if (auto b = store_->bucket(r.bucket); !b) {
                write_error(ex, make_error("NoSuchBucket", "", 404));
            } else {
                ex.set_header("x-amz-bucket-region", b->region);
            }
        } else if (m == "DELETE") {
            if (auto ok = store_->delete_bucket(r.bucket); !ok) {
                write_error(ex, ok.error());
            } else {
                ex.status = 204;
                const std::lock_guard lock(configs_mutex_);
                configs_.erase(r.bucket);
            }
        } else if (m == "POST" && ex.has_param("delete")) {
            co_await delete_objects(r);
        } else {
            write_error(ex, method_not_allowed());
        }
        co_return;
    }
    if (ex.has_param("tagging")) {
        co_await object_tagging(r);
        co_return;
    }
    if (m == "PUT") {
        if (ex.has_param("uploadId") && ex.has_param("partNumber")) {
            co_await upload_part(r);
        } else if (ex.header("x-amz-copy-source")) {
            copy_object(r);
        } else {
            co_await put_object(r);
        }
    } else if (m == "GET" || m == "HEAD") {
        if (ex.has_param("uploadId")) {
            list_parts(r);
        } else {
            get_object(r, m == "HEAD");
        }
    } else if (m == "DELETE") {
        if (const auto* id = ex.param("uploadId")) {
            if (auto ok = store_->abort_upload(r.bucket, *id); !ok) {
                write_error(ex, ok.error());
            } else {
                ex.status = 204;
            }
        } else {
            delete_object(r);
        }
    } else if (m == "POST") {
        if (ex.has_param("uploads")) {
            co_await create_upload(r);
        } else if (ex.has_param("uploadId")) {
            co_await complete_upload(r);
        } else {
            write_error(ex, not_implemented("POST object (browser form uploads)"));
        }
    } else {
        write_error(ex, method_not_allowed());
    }
}

void service::list_buckets(request& r) {
    std::string& b = r.ex.response_body;
    b.append(model::xml::declaration).append("<ListAllMyBucketsResult").append(xmlns).append(">");
    b.append(owner_xml()).append("<Buckets>");
    for (const auto& info : store_->buckets()) {
        b.append("<Bucket>");
        model::xml::append_element(b, "Name", info.name);
        model::xml::append_element(b, "CreationDate", iso8601_ms(info.created_ms));
        b.append("</Bucket>");
    }
    b.append("</Buckets></ListAllMyBucketsResult>");
    r.ex.set_header("Content-Type", "application/xml");
}

net::awaitable<void> service::create_bucket(request& r) {
    auto body = co_await r.ex.read_body(max_xml_body);
    if (!body) {
        write_error(r.ex, body.error());
        co_return;
    }
    auto location = model::xml::parse_create_bucket_configuration(*body);
    if (!location) {
        write_error(r.ex, location.error());
        co_return;
    }
    const std::string region = location->value_or(settings_.region);
    if (auto ok = store_->create_bucket(r.bucket, region); !ok) {
        write_error(r.ex, ok.error());
        co_return;
    }
    r.ex.set_header("Location", "/" + r.bucket);
}

void service::list_objects(request& r, bool v2) {
    exchange& ex = r.ex;
    const auto param = [&ex](std::string_view n) {
        const auto* v = ex.param(n);
        return v != nullptr ? *v : std::string();
    };
    const std::string prefix = param("prefix");
    const std::string delimiter = param("delimiter");
    const bool url = param("encoding-type") == "url";
    if (!param("encoding-type").empty() && !url) {
        write_error(
            ex,
            make_error(
                "InvalidArgument",
                "Invalid Encoding Method specified in Request: only 'url' is valid",
                400
            )
        );
        return;
    }
    std::size_t max_keys = 1000;
    if (const auto* mk = ex.param("max-keys")) {
        std::uint64_t v = 0;
        if (std::from_chars(mk->data(), mk->data() + mk->size(), v).ptr != mk->data() + mk->size()) {
            write_error(
                ex,
                make_error("InvalidArgument", "Provided max-keys not an integer or within integer range", 400)
            );
            return;
        }
        max_keys = static_cast<std::size_t>(std::min<std::uint64_t>(v, 1000));
    }
    std::string after;
    const std::string token = param("continuation-token");
    if (v2) {
        if (!token.empty()) {
            auto decoded = encoding::base64_decode(token);
            if (!decoded || !decoded->starts_with("1:")) {
                write_error(
                    ex,
                    make_error("InvalidArgument", "The continuation token provided is incorrect", 400)
                );
                return;
            }
            after = decoded->substr(2);
        } else {
            after = param("start-after");
        }
    } else {
        after = param("marker");
    }
    auto page = store_->list(r.bucket, prefix, delimiter, after, max_keys);
    if (!page) {
        write_error(ex, page.error());
        return;
    }
    const auto text = [url](std::string_view s) {
        return url ? encoding::uri_encode(s, true) : std::string(s);
    };
    std::string& b = ex.response_body;
    b.reserve(256 + page->objects.size() * 300);
    b.append(model::xml::declaration).append("<ListBucketResult").append(xmlns).append(">");
    model::xml::append_element(b, "Name", r.bucket);
    model::xml::append_element(b, "Prefix", text(prefix));
    if (v2) {
        if (!token.empty()) model::xml::append_element(b, "ContinuationToken", token);
        if (const auto* sa = ex.param("start-after")) model::xml::append_element(b, "StartAfter", text(*sa));
        model::xml::append_element(
            b,
            "KeyCount",
            std::to_string(page->objects.size() + page->common_prefixes.size())
        );
    } else {
        model::xml::append_element(b, "Marker", text(after));
    }
    model::xml::append_element(b, "MaxKeys", std::to_string(max_keys));
    if (!delimiter.empty()) model::xml::append_element(b, "Delimiter", text(delimiter));
    model::xml::append_element(b, "IsTruncated", page->truncated ? "true" : "false");
    if (page->truncated) {
        if (v2) {
            model::xml::append_element(
                b,
                "NextContinuationToken",
                encoding::base64_encode("1:" + page->last)
            );
        } else if (!delimiter.empty()) {
            model::xml::append_element(b, "NextMarker", text(page->last));
        }
    }
    if (url) model::xml::append_element(b, "EncodingType", "url");
    const bool owner = !v2 || param("fetch-owner") == "true";
    for (const auto& o : page->objects) {
        b.append("<Contents>");
        model::xml::append_element(b, "Key", text(o.key));
        model::xml::append_element(b, "LastModified", iso8601_ms(o.last_modified_ms));
        model::xml::append_element(b, "ETag", etag_quoted(o.etag));
        model::xml::append_element(b, "Size", std::to_string(o.size));
        if (owner) b.append(owner_xml());
        b.append("<StorageClass>STANDARD</StorageClass></Contents>");
    }
    for (const auto& p : page->common_prefixes) {
        b.append("<CommonPrefixes>");
        model::xml::append_element(b, "Prefix", text(p));
        b.append("</CommonPrefixes>");
    }
    b.append("</ListBucketResult>");
    ex.set_header("Content-Type", "application/xml");
}

namespace {

/// A request body received into a staged file, checked against every digest the client sent.
struct received_body {
    staged_file file;
    std::string md5_hex;
    std::uint64_t size = 0;
    http::header_list trailers;
};

}  // namespace

/// Streams the body of a PutObject / UploadPart into a staged file, decoding aws-chunked
/// framing and verifying chunk signatures, the signed payload hash and Content-MD5.
static net::awaitable<result<received_body>> receive_body(
    exchange& ex,
    const sigv4::verified_request& auth,
    store& st
) {
    auto staged = st.stage();
    if (!staged) co_return staged.error();
    received_body out;
    out.file = std::move(*staged);
    crypto::md5 md5;
    crypto::sha256 sha;
    const std::string& hash = auth.payload_hash;
    const bool check_sha = is_hex64(hash);
    std::optional<sigv4::chunked_decoder> decoder;
    if (const auto mode = sigv4::chunked_decoder::mode_for(hash)) {
        if (*mode == sigv4::chunked_decoder::mode::unsigned_trailer) {
            decoder.emplace(*mode);
        } else {
            decoder.emplace(*mode, auth.key, auth.amz_date, auth.scope, auth.signature);
        }
    }
    std::string decoded;
    std::uint64_t size = 0;
    auto& file = out.file;
    const std::function<result<void>(std::string_view)> sink = [&](std::string_view piece) -> result<void> {
        std::string_view data = piece;
        if (decoder) {
            decoded.clear();
            if (auto ok = decoder->feed(piece, decoded); !ok) return ok;
            data = decoded;
        }
        size += data.size();
        if (size > max_put_size) {
            return make_error(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size of 5 GiB; use a multipart upload",
                400
            );
        }
        md5.update(data);
        if (check_sha) sha.update(data);
        return file.write(data);
    };
    if (auto ok = co_await ex.read_body(sink, UINT64_MAX); !ok) co_return ok.error();
    if (decoder) {
        if (auto ok = decoder->finish(); !ok) co_return ok.error();
        out.trailers = decoder->trailers();
        if (const auto dl = ex.header("x-amz-decoded-content-length")) {
            if (*dl != std::to_string(size)) {
                co_return make_error(
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the x-amz-decoded-content-length "
                    "header (" +
                        std::string(*dl) + " announced, " + std::to_string(size) + " received)",
                    400
                );
            }
        }
    } else if (ex.content_length && *ex.content_length != size) {
        co_return make_error(
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
            400
        );
    }
    if (check_sha && encoding::to_hex(sha.finish()) != hash) {
        co_return make_error(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400
        );
    }
    const auto digest = md5.finish();
    if (const auto given = ex.header("content-md5")) {
        const auto raw = encoding::base64_decode(*given);
        if (!raw || raw->size() != 16) {
            co_return make_error("InvalidDigest", "The Content-MD5 you specified was invalid.", 400);
        }
        if (std::memcmp(raw->data(), digest.data(), 16) != 0) {
            co_return make_error(
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
                400
            );
        }
    }
    out.md5_hex = encoding::to_hex(digest);
    out.size = size;
    co_return out;
}

net::awaitable<void> service::put_object(request& r) {
    if (r.key->size() > 1024) {
        write_error(
            r.ex,
            make_error("KeyTooLongError", "Your key is too long: keys are at most 1024 bytes", 400)
        );
        co_return;
    }
    if (!store_->bucket(r.bucket)) {
        write_error(r.ex, no_such_bucket(r.bucket));
        co_return;
    }
    auto body = co_await receive_body(r.ex, r.auth, *store_);
    if (!body) {
        write_error(r.ex, body.error());
        co_return;
    }
    auto meta = meta_from_request(r.ex, *r.key);
    for (const auto& t : body->trailers)
        if (t.first.starts_with("x-amz-checksum-")) meta.headers.push_back(t);
    meta.size = body->size;
    meta.etag = body->md5_hex;
    auto committed = co_await blocking_.run([&] {
        return store_->commit(r.bucket, std::move(meta), std::move(body->file));
    });
    if (!committed) {
        write_error(r.ex, committed.error());
        co_return;
    }
    r.ex.set_header("ETag", etag_quoted(committed->etag));
    for (const auto& [n, v] : committed->headers)
        if (n.starts_with("x-amz-checksum-")) r.ex.set_header(n, v);
    notify(r, "ObjectCreated:Put", *committed);
}

void service::get_object(request& r, bool head) {
    exchange& ex = r.ex;
    auto opened = store_->open_object(r.bucket, *r.key);
    if (!opened) {
        write_error(ex, opened.error());
        return;
    }
    auto& [meta, fd] = *opened;
    const std::string etag = etag_quoted(meta.etag);
    // Conditional requests, in the order RFC 7232 §6 evaluates them.
    if (const auto im = ex.header("if-match"); im && unquoted(*im) != meta.etag && *im != "*") {
        write_error(
            ex,
            make_error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold (If-Match)",
                412
            )
        );
        return;
    }
    if (const auto ius = ex.header("if-unmodified-since"); ius && !ex.header("if-match")) {
        const auto t = parse_http_date_ms(*ius);
        if (t >= 0 && meta.last_modified_ms / 1000 > t / 1000) {
            write_error(
                ex,
                make_error(
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold (If-Unmodified-Since)",
                    412
                )
            );
            return;
        }
    }
    const auto inm = ex.header("if-none-match");
    bool not_modified = inm && (unquoted(*inm) == meta.etag || *inm == "*");
    if (const auto ims = ex.header("if-modified-since"); ims && !inm) {
        const auto t = parse_http_date_ms(*ims);
        not_modified = t >= 0 && meta.last_modified_ms / 1000 <= t / 1000;
    }
    put_object_headers(ex, meta);
    if (not_modified) {
        ex.status = 304;
        return;
    }
    std::uint64_t offset = 0;
    std::uint64_t length = meta.size;
    if (const auto rh = ex.header("range")) {
        auto range = parse_range(*rh, meta.size);
        if (!range) {
            ex.response_headers.clear();
            ex.set_header("x-amz-request-id", ex.request_id);
            ex.set_header("Content-Range", "bytes */" + std::to_string(meta.size));
            write_error(ex, range.error());
            return;
        }
        if (*range) {
            offset = (*range)->first;
            length = (*range)->second - (*range)->first + 1;
            ex.status = 206;
            ex.set_header(
                "Content-Range",
                "bytes " + std::to_string((*range)->first) + "-" + std::to_string((*range)->second) + "/" +
                    std::to_string(meta.size)
            );
        }
    }
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> overrides = {{
        {"response-content-type", "Content-Type"},
        {"response-content-language", "Content-Language"},
        {"response-expires", "Expires"},
        {"response-cache-control", "Cache-Control"},
        {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"},
    }};
    for (const auto& [param, header] : overrides)
        if (const auto* v = ex.param(param)) ex.set_header(header, *v);
    if (head) {
        ex.head_length = length;
        return;
    }
    ex.response_file = file_range{fd, offset, length};
}

result<std::pair<object_meta, std::shared_ptr<const int>>> service::copy_source(const request& r) const {
    std::string_view src = *r.ex.header("x-amz-copy-source");
    if (const auto q = src.find('?'); q != std::string_view::npos) src = src.substr(0, q);
    auto decoded = encoding::uri_decode(src);
    std::string path = decoded ? *decoded : std::string(src);
    if (path.starts_with('/')) path.erase(0, 1);
    const auto slash = path.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == path.size()) {
        return make_error(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey (got '" +
                std::string(src) + "')",
            400
        );
    }
    return store_->open_object(path.substr(0, slash), path.substr(slash + 1));
}

namespace {

result<void> copy_range(int from, std::uint64_t offset, std::uint64_t length, staged_file& to) {
    auto off = static_cast<off_t>(offset);
    while (length > 0) {
        const ssize_t n = ::copy_file_range(from, &off, to.fd(), nullptr, length, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            return make_error(
                "InternalError",
                std::string("copying object data failed: ") + std::strerror(n < 0 ? errno : EIO),
                500
            );
        }
        length -= static_cast<std::uint64_t>(n);
    }
    return {};
}

/// MD5 hex of a file's range (the ETag of a copied object).
result<std::string> md5_of_file(int fd, std::uint64_t offset, std::uint64_t length) {
    crypto::md5 h;
    std::vector<char> buf(1 << 20);
    while (length > 0) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buf.size()));
        const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error("InternalError", "reading object data failed", 500);
        h.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        offset += static_cast<std::uint64_t>(n);
        length -= static_cast<std::uint64_t>(n);
    }
    return encoding::to_hex(h.finish());
}

}  // namespace

void service::copy_object(request& r) {
    exchange& ex = r.ex;
    auto src = copy_source(r);
    if (!src) {
        write_error(ex, src.error());
        return;
    }
    auto& [src_meta, fd] = *src;
    const auto directive = ex.header("x-amz-metadata-directive").value_or("COPY");
    const bool replace = directive == "REPLACE";
    if (!replace && directive != "COPY") {
        write_error(
            ex,
            make_error(
                "InvalidArgument",
                "Unknown metadata directive '" + std::string(directive) + "': use COPY or REPLACE",
                400
            )
        );
        return;
    }
    std::string src_path(ex.header("x-amz-copy-source").value_or(""));
    auto decoded = encoding::uri_decode(src_path);
    if (decoded) src_path = *decoded;
    if (src_path.starts_with('/')) src_path.erase(0, 1);
    if (!replace && src_path == r.bucket + "/" + *r.key) {
        write_error(
            ex,
            make_error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself without "
                "changing the "
                "object's metadata, storage class, website redirect location or encryption attributes.",
                400
            )
        );
        return;
    }
    if (const auto im = ex.header("x-amz-copy-source-if-match"); im && unquoted(*im) != src_meta.etag) {
        write_error(
            ex,
            make_error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold (x-amz-copy-source-if-match)",
                412
            )
        );
        return;
    }
    if (const auto inm = ex.header("x-amz-copy-source-if-none-match");
        inm && unquoted(*inm) == src_meta.etag) {
        write_error(
            ex,
            make_error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold "
                "(x-amz-copy-source-if-none-match)",
                412
            )
        );
        return;
    }
    auto staged = store_->stage();
    if (!staged) {
        write_error(ex, staged.error());
        return;
    }
    if (auto ok = copy_range(*fd, 0, src_meta.size, *staged); !ok) {
        write_error(ex, ok.error());
        return;
    }
    object_meta meta = replace ? meta_from_request(ex, *r.key) : src_meta;
    if (ex.header("x-amz-tagging-directive").value_or("COPY") == "REPLACE") {
        meta.tags = meta_from_request(ex, *r.key).tags;
    } else {
        meta.tags = src_meta.tags;
    }
    meta.key = *r.key;
    meta.size = src_meta.size;
    meta.last_modified_ms = now_ms();
    meta.parts = 0;
    if (src_meta.parts == 0) {
        meta.etag = src_meta.etag;
    } else {
        auto md5 = md5_of_file(*fd, 0, src_meta.size);
        if (!md5) {
            write_error(ex, md5.error());
            return;
        }
        meta.etag = *md5;
    }
    auto committed = store_->commit(r.bucket, std::move(meta), std::move(*staged));
    if (!committed) {
        write_error(ex, committed.error());
        return;
    }
    ex.set_header("Content-Type", "application/xml");
    std::string& b = ex.response_body;
    b.append(model::xml::declaration).append("<CopyObjectResult").append(xmlns).append(">");
    model::xml::append_element(b, "LastModified", iso8601_ms(committed->last_modified_ms));
    model::xml::append_element(b, "ETag", etag_quoted(committed->etag));
    b.append("</CopyObjectResult>");
    notify(r, "ObjectCreated:Copy", *committed);
}

void service::delete_object(request& r) {
    auto removed = store_->remove(r.bucket, *r.key);
    if (!removed) {
        write_error(r.ex, removed.error());
        return;
    }
    r.ex.status = 204;
    if (*removed) notify(r, "ObjectRemoved:Delete", **removed);
}

net::awaitable<void> service::delete_objects(request& r) {
    auto body = co_await r.ex.read_body(max_xml_body);
    if (!body) {
        write_error(r.ex, body.error());
        co_return;
    }
    auto wanted = model::xml::parse_delete_objects(*body);
    if (!wanted) {
        write_error(r.ex, wanted.error());
        co_return;
    }
    const bool quiet = wanted->quiet;
    const auto& keys = wanted->keys;
    if (!store_->bucket(r.bucket)) {
        write_error(r.ex, no_such_bucket(r.bucket));
        co_return;
    }
    std::string& b = r.ex.response_body;
    b.append(model::xml::declaration).append("<DeleteResult").append(xmlns).append(">");
    for (const auto& key : keys) {
        auto removed = store_->remove(r.bucket, key);
        if (!removed) {
            b.append("<Error>");
            model::xml::append_element(b, "Key", key);
            model::xml::append_element(b, "Code", removed.error().code);
            model::xml::append_element(b, "Message", removed.error().message);
            b.append("</Error>");
            continue;
        }
        if (*removed) notify(r, "ObjectRemoved:Delete", **removed);
        if (!quiet) {
            b.append("<Deleted>");
            model::xml::append_element(b, "Key", key);
            b.append("</Deleted>");
        }
    }
    b.append("</DeleteResult>");
    r.ex.set_header("Content-Type", "application/xml");
}

net::awaitable<void> service::create_upload(request& r) {
    if (r.key->size() > 1024) {
        write_error(
            r.ex,
            make_error("KeyTooLongError", "Your key is too long: keys are at most 1024 bytes", 400)
        );
        co_return;
    }
    auto up = store_->create_upload(r.bucket, meta_from_request(r.ex, *r.key));
    if (!up) {
        write_error(r.ex, up.error());
        co_return;
    }
    std::string& b = r.ex.response_body;
    b.append(model::xml::declaration).append("<InitiateMultipartUploadResult").append(xmlns).append(">");
    model::xml::append_element(b, "Bucket", r.bucket);
    model::xml::append_element(b, "Key", *r.key);
    model::xml::append_element(b, "UploadId", up->id);
    b.append("</InitiateMultipartUploadResult>");
    r.ex.set_header("Content-Type", "application/xml");
}

net::awaitable<void> service::upload_part(request& r) {
    exchange& ex = r.ex;
    const std::string& id = *ex.param("uploadId");
    std::uint32_t number = 0;
    const std::string& pn = *ex.param("partNumber");
    if (std::from_chars(pn.data(), pn.data() + pn.size(), number).ptr != pn.data() + pn.size() ||
        number < 1 || number > 10000) {
        write_error(
            ex,
            make_error(
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive",
                400
            )
        );
        co_return;
    }
    if (auto up = store_->upload(r.bucket, id); !up) {
        write_error(ex, up.error());
        co_return;
    }
    if (ex.header("x-amz-copy-source")) {  // UploadPartCopy
        auto src = copy_source(r);
        if (!src) {
            write_error(ex, src.error());
            co_return;
        }
        auto& [src_meta, fd] = *src;
        std::uint64_t first = 0;
        std::uint64_t length = src_meta.size;
        if (const auto range = ex.header("x-amz-copy-source-range")) {
            auto parsed = parse_range(*range, src_meta.size);
            if (!parsed || !*parsed) {
                write_error(
                    ex,
                    make_error(
                        "InvalidArgument",
                        "The x-amz-copy-source-range value must be of the form bytes=first-last where first "
                        "and last are the zero-based offsets of the first and last bytes to copy",
                        400
                    )
                );
                co_return;
            }
            first = (*parsed)->first;
            length = (*parsed)->second - first + 1;
        }
        auto staged = store_->stage();
        if (!staged) {
            write_error(ex, staged.error());
            co_return;
        }
        if (auto ok = copy_range(*fd, first, length, *staged); !ok) {
            write_error(ex, ok.error());
            co_return;
        }
        auto md5 = md5_of_file(*fd, first, length);
        if (!md5) {
            write_error(ex, md5.error());
            co_return;
        }
        auto part = co_await blocking_.run([&] {
            return store_->put_part(r.bucket, id, number, std::move(*staged), *md5);
        });
        if (!part) {
            write_error(ex, part.error());
            co_return;
        }
        std::string& b = ex.response_body;
        b.append(model::xml::declaration).append("<CopyPartResult").append(xmlns).append(">");
        model::xml::append_element(b, "LastModified", iso8601_ms(part->last_modified_ms));
        model::xml::append_element(b, "ETag", etag_quoted(part->etag));
        b.append("</CopyPartResult>");
        ex.set_header("Content-Type", "application/xml");
        co_return;
    }
    auto body = co_await receive_body(ex, r.auth, *store_);
    if (!body) {
        write_error(ex, body.error());
        co_return;
    }
    auto part = co_await blocking_.run([&] {
        return store_->put_part(r.bucket, id, number, std::move(body->file), body->md5_hex);
    });
    if (!part) {
        write_error(ex, part.error());
        co_return;
    }
    ex.set_header("ETag", etag_quoted(part->etag));
}

net::awaitable<void> service::complete_upload(request& r) {
    exchange& ex = r.ex;
    auto body = co_await ex.read_body(max_xml_body);
    if (!body) {
        write_error(ex, body.error());
        co_return;
    }
    auto parts = model::xml::parse_complete_multipart_upload(*body);
    if (!parts) {
        write_error(ex, parts.error());
        co_return;
    }
    auto done = co_await blocking_.run([&] {
        return store_->complete_upload(r.bucket, *ex.param("uploadId"), *parts);
    });
    if (!done) {
        write_error(ex, done.error());
        co_return;
    }
    std::string& b = ex.response_body;
    b.append(model::xml::declaration).append("<CompleteMultipartUploadResult").append(xmlns).append(">");
    std::string host(ex.header("host").value_or("127.0.0.1"));
    model::xml::append_element(
        b,
        "Location",
        "http://" + host + "/" + r.bucket + "/" + encoding::uri_encode(*r.key, true)
    );
    model::xml::append_element(b, "Bucket", r.bucket);
    model::xml::append_element(b, "Key", *r.key);
    model::xml::append_element(b, "ETag", etag_quoted(done->etag));
    b.append("</CompleteMultipartUploadResult>");
    ex.set_header("Content-Type", "application/xml");
    notify(r, "ObjectCreated:CompleteMultipartUpload", *done);
}

void service::list_parts(request& r) {
    exchange& ex = r.ex;
    auto up = store_->upload(r.bucket, *ex.param("uploadId"));
    if (!up) {
        write_error(ex, up.error());
        return;
    }
    std::uint32_t marker = 0;
    if (const auto* m = ex.param("part-number-marker"))
        std::from_chars(m->data(), m->data() + m->size(), marker);
    std::size_t max_parts = 1000;
    if (const auto* m = ex.param("max-parts")) std::from_chars(m->data(), m->data() + m->size(), max_parts);
    max_parts = std::min<std::size_t>(max_parts, 1000);
    std::string& b = ex.response_body;
    b.append(model::xml::declaration).append("<ListPartsResult").append(xmlns).append(">");
    model::xml::append_element(b, "Bucket", r.bucket);
    model::xml::append_element(b, "Key", up->key);
    model::xml::append_element(b, "UploadId", up->id);
    model::xml::append_element(b, "PartNumberMarker", std::to_string(marker));
    std::string parts;
    std::size_t n = 0;
    std::uint32_t last = marker;
    bool truncated = false;
    for (auto it = up->parts.upper_bound(marker); it != up->parts.end(); ++it) {
        if (n == max_parts) {
            truncated = true;
            break;
        }
        parts.append("<Part>");
        model::xml::append_element(parts, "PartNumber", std::to_string(it->first));
        model::xml::append_element(parts, "LastModified", iso8601_ms(it->second.last_modified_ms));
        model::xml::append_element(parts, "ETag", etag_quoted(it->second.etag));
        model::xml::append_element(parts, "Size", std::to_string(it->second.size));
        parts.append("</Part>");
        last = it->first;
        ++n;
    }
    model::xml::append_element(b, "NextPartNumberMarker", std::to_string(last));
    model::xml::append_element(b, "MaxParts", std::to_string(max_parts));
    model::xml::append_element(b, "IsTruncated", truncated ? "true" : "false");
    b.append(parts);
    b.append("<Initiator><ID>").append(owner_id).append("</ID><DisplayName>scar</DisplayName></Initiator>");
    b.append(owner_xml()).append("<StorageClass>STANDARD</StorageClass></ListPartsResult>");
    ex.set_header("Content-Type", "application/xml");
}

void service::list_uploads(request& r) {
    exchange& ex = r.ex;
    auto ups = store_->uploads(r.bucket);
    if (!ups) {
        write_error(ex, ups.error());
        return;
    }
    const auto* prefix = ex.param("prefix");
    std::string& b = ex.response_body;
    b.append(model::xml::declaration).append("<ListMultipartUploadsResult").append(xmlns).append(">");
    model::xml::append_element(b, "Bucket", r.bucket);
    b.append("<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>");
    b.append("<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>");
    for (const auto& u : *ups) {
        if (prefix != nullptr && !u.key.starts_with(*prefix)) continue;
        b.append("<Upload>");
        model::xml::append_element(b, "Key", u.key);
        model::xml::append_element(b, "UploadId", u.id);
        b.append("<Initiator><ID>")
            .append(owner_id)
            .append("</ID><DisplayName>scar</DisplayName></Initiator>");
        b.append(owner_xml()).append("<StorageClass>STANDARD</StorageClass>");
        model::xml::append_element(b, "Initiated", iso8601_ms(u.initiated_ms));
        b.append("</Upload>");
    }
    b.append("</ListMultipartUploadsResult>");
    ex.set_header("Content-Type", "application/xml");
}

net::awaitable<void> service::object_tagging(request& r) {
    exchange& ex = r.ex;
    if (ex.method == "GET") {
        auto meta = store_->head(r.bucket, *r.key);
        if (!meta) {
            write_error(ex, meta.error());
            co_return;
        }
        std::string& b = ex.response_body;
        b.append(model::xml::declaration).append("<Tagging").append(xmlns).append("><TagSet>");
        for (const auto& [k, v] : meta->tags) {
            b.append("<Tag>");
            model::xml::append_element(b, "Key", k);
            model::xml::append_element(b, "Value", v);
            b.append("</Tag>");
        }
        b.append("</TagSet></Tagging>");
        ex.set_header("Content-Type", "application/xml");
        co_return;
    }
    http::header_list tags;
    if (ex.method == "PUT") {
        auto body = co_await ex.read_body(max_xml_body);
        if (!body) {
            write_error(ex, body.error());
            co_return;
        }
        auto parsed = model::xml::parse_tagging(*body);
        if (!parsed) {
            write_error(ex, parsed.error());
            co_return;
        }
        tags = std::move(*parsed);
        if (tags.size() > 10) {
            write_error(ex, make_error("BadRequest", "Object tags cannot be greater than 10", 400));
            co_return;
        }
    } else if (ex.method != "DELETE") {
        write_error(ex, method_not_allowed());
        co_return;
    }
    auto updated = store_->update(r.bucket, *r.key, [&tags](object_meta& m) { m.tags = tags; });
    if (!updated) {
        write_error(ex, updated.error());
        co_return;
    }
    if (ex.method == "DELETE") ex.status = 204;
}

net::awaitable<void> service::put_bucket_notification(request& r) {
    auto body = co_await r.ex.read_body(max_xml_body);
    if (!body) {
        write_error(r.ex, body.error());
        co_return;
    }
    auto config = model::parse_notification_xml(*body);
    if (!config) {
        write_error(r.ex, config.error());
        co_return;
    }
    if (auto ok = model::validate(*config); !ok) {
        write_error(r.ex, ok.error());
        co_return;
    }
    model::assign_missing_ids(*config);
    if (auto ok =
            store_->set_notification(r.bucket, config->empty() ? std::string() : model::to_xml(*config));
        !ok) {
        write_error(r.ex, ok.error());
        co_return;
    }
    const std::lock_guard lock(configs_mutex_);
    configs_[r.bucket] = std::make_shared<const model::notification_config>(std::move(*config));
}

std::shared_ptr<const model::notification_config> service::config_of(const std::string& bucket) {
    {
        const std::lock_guard lock(configs_mutex_);
        if (const auto it = configs_.find(bucket); it != configs_.end()) return it->second;
    }
    auto info = store_->bucket(bucket);
    auto parsed = std::make_shared<model::notification_config>();
    if (info && !info->notification_xml.empty()) {
        if (auto c = model::parse_notification_xml(info->notification_xml)) *parsed = std::move(*c);
    }
    const std::lock_guard lock(configs_mutex_);
    return configs_.emplace(bucket, std::move(parsed)).first->second;
}

void service::notify(const request& r, std::string event_name, const object_meta& m) {
    if (sinks_.empty()) return;
    const auto config = config_of(r.bucket);
    if (config->empty()) return;
    const auto region = store_->bucket(r.bucket).value_or(bucket_info{}).region;
    model::event_record record;
    record.aws_region = region.empty() ? settings_.region : region;
    record.event_time = clock::system().now();
    record.event_name = event_name;
    record.principal_id = "AWS:" + r.auth.access_key_id;
    record.source_ip = r.ex.remote_address;
    record.request_id = r.ex.request_id;
    record.id2 = encoding::base64_encode(r.ex.request_id);
    record.bucket_name = r.bucket;
    record.bucket_owner = "A" + settings_.account;
    record.bucket_arn = "arn:aws:s3:::" + r.bucket;
    record.key = m.key;
    if (event_name.starts_with("ObjectCreated:")) {
        record.size = m.size;
        record.etag = m.etag;
    }
    record.sequencer = m.sequencer;
    const auto deliver = [&](const std::string& id, const std::string& arn, std::string_view kind) {
        record.configuration_id = id;
        model::event_batch batch;
        batch.records.push_back(record);
        const s3_notification n{arn, std::string(kind), model::to_json(batch), event_name, r.bucket, m.key};
        for (const auto& sink : sinks_) sink(n);
    };
    for (const auto& rule : config->lambda)
        if (model::matches(rule, event_name, m.key)) deliver(rule.id, rule.function_arn, "CloudFunction");
    for (const auto& rule : config->queues)
        if (model::matches(rule, event_name, m.key)) deliver(rule.id, rule.arn, "Queue");
    for (const auto& rule : config->topics)
        if (model::matches(rule, event_name, m.key)) deliver(rule.id, rule.arn, "Topic");
}

}  // namespace scar::emulator::s3
