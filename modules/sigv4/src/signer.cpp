#include "scar/sigv4/signer.hpp"

#include <scar/core/encoding.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>
#include <vector>

#include "detail.hpp"

namespace scar::sigv4 {
namespace {

/// The Host header value for an authority, without the scheme's default port.
std::string host_for(std::string_view url, std::string_view authority) {
    if (url.starts_with("http://") && authority.ends_with(":80")) authority.remove_suffix(3);
    if (url.starts_with("https://") && authority.ends_with(":443")) authority.remove_suffix(4);
    return std::string(authority);
}

result<std::string> hash_file(const http::file_body& f) {
    std::ifstream in(f.path, std::ios::binary);
    if (!in) {
        return make_error(
            "LocalIOError",
            "cannot read request body file '" + f.path.string() + "': " + std::strerror(errno) +
                "; check that it exists and is readable"
        );
    }
    in.seekg(static_cast<std::streamoff>(f.offset));
    crypto::sha256 h;
    std::array<char, 65536> buf{};
    std::uint64_t left = f.length.value_or(UINT64_MAX);
    while (left > 0 && in) {
        in.read(buf.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size())));
        const auto n = static_cast<std::size_t>(in.gcount());
        if (n == 0) break;
        h.update(std::string_view(buf.data(), n));
        left -= n;
    }
    if (f.length && left != 0) {
        return make_error(
            "LocalIOError",
            "request body file '" + f.path.string() + "' is shorter than the " + std::to_string(*f.length) +
                " bytes to send from offset " + std::to_string(f.offset)
        );
    }
    return encoding::to_hex(h.finish());
}

result<std::string> payload_hash_of(const http::request& req, std::string_view given) {
    if (!given.empty()) return std::string(given);
    if (req.body_file) return hash_file(*req.body_file);
    return encoding::to_hex(crypto::sha256_of(req.body));
}

result<void> check_params(const signing_params& p) {
    if (p.access_key_id.empty() || p.secret_access_key.empty()) {
        return make_error(
            "MissingCredentials",
            "cannot sign the request: the access key id or secret access key is empty; set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or configure a profile"
        );
    }
    if (p.region.empty() || p.service.empty()) {
        return make_error("InvalidRequest", "cannot sign the request: the region or service name is empty");
    }
    return {};
}

}  // namespace

namespace detail {

void canonical_headers(const http::header_list& headers, std::string& canonical, std::string& signed_names) {
    // Names are compared and written lower-cased on the fly, so nothing is copied.
    struct entry {
        std::string_view name;
        std::string_view value;
    };
    constexpr auto lower = [](char c) noexcept {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    const auto less = [lower](const entry& a, const entry& b) noexcept {
        return std::lexicographical_compare(
            a.name.begin(),
            a.name.end(),
            b.name.begin(),
            b.name.end(),
            [lower](char x, char y) { return lower(x) < lower(y); }
        );
    };
    std::vector<entry> entries;
    entries.reserve(headers.size());
    std::size_t size = 0;
    for (const auto& [name, value] : headers) {
        if (is_unsigned_header(name)) continue;
        entries.push_back({name, value});
        size += name.size() + value.size() + 2;
    }
    std::stable_sort(entries.begin(), entries.end(), less);
    canonical.reserve(canonical.size() + size);
    signed_names.reserve(signed_names.size() + size / 2);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const bool continues = i != 0 && encoding::iequals(entries[i].name, entries[i - 1].name);
        if (continues) {
            canonical.push_back(',');
        } else {
            if (i != 0) {
                canonical.push_back('\n');
                signed_names.push_back(';');
            }
            for (const char c : entries[i].name) {
                canonical.push_back(lower(c));
                signed_names.push_back(lower(c));
            }
            canonical.push_back(':');
        }
        append_canonical_value(canonical, entries[i].value);
    }
    if (!entries.empty()) canonical.push_back('\n');
}

std::string canonical_request(
    std::string_view method,
    std::string_view canonical_uri,
    std::string_view canonical_query,
    std::string_view canonical_headers,
    std::string_view signed_headers,
    std::string_view payload_hash
) {
    std::string out;
    out.reserve(
        method.size() + canonical_uri.size() + canonical_query.size() + canonical_headers.size() +
        signed_headers.size() + payload_hash.size() + 8
    );
    out.append(method).push_back('\n');
    out.append(canonical_uri).push_back('\n');
    out.append(canonical_query).push_back('\n');
    out.append(canonical_headers).push_back('\n');
    out.append(signed_headers).push_back('\n');
    out.append(payload_hash);
    return out;
}

std::string hex_signature(const signing_key& key, std::string_view sts) {
    return encoding::to_hex(key.mac(sts));
}

std::shared_ptr<const signing_key> key_for(
    key_cache* cache,
    std::string_view secret,
    std::string_view date8,
    std::string_view region,
    std::string_view service
) {
    if (cache != nullptr) return cache->get(secret, date8, region, service);
    return std::make_shared<const signing_key>(derive_signing_key(secret, date8, region, service));
}

}  // namespace detail

signing_key derive_signing_key(
    std::string_view secret_access_key,
    std::string_view date8,
    std::string_view region,
    std::string_view service
) {
    std::string k = "AWS4";
    k.append(secret_access_key);
    const auto k_date = crypto::hmac_sha256(k, date8);
    const auto k_region = crypto::hmac_sha256(k_date, region);
    const auto k_service = crypto::hmac_sha256(k_region, service);
    const auto k_signing = crypto::hmac_sha256(k_service, "aws4_request");
    return signing_key(k_signing);
}

std::shared_ptr<const signing_key> key_cache::get(
    std::string_view secret_access_key,
    std::string_view date8,
    std::string_view region,
    std::string_view service
) {
    // Most callers sign with one key at a time: a per-thread memo of the last key answers
    // without allocating or locking.
    struct memo {
        const key_cache* owner = nullptr;
        std::string secret, date, region_name, service_name;
        std::shared_ptr<const signing_key> key;
    };
    thread_local memo last;
    if (last.owner == this && last.date == date8 && last.region_name == region &&
        last.service_name == service && crypto::constant_time_equal(last.secret, secret_access_key)) {
        return last.key;
    }
    std::string id;
    id.reserve(secret_access_key.size() + date8.size() + region.size() + service.size() + 3);
    id.append(secret_access_key).append(1, '\0').append(date8).append(1, '\0').append(region).append(1, '\0');
    id.append(service);
    std::shared_ptr<const signing_key> found;
    {
        const std::lock_guard lock(mutex_);
        if (const auto it = keys_.find(id); it != keys_.end()) found = it->second;
    }
    if (!found) {
        auto key =
            std::make_shared<const signing_key>(derive_signing_key(secret_access_key, date8, region, service)
            );
        const std::lock_guard lock(mutex_);
        if (keys_.size() >= capacity_) keys_.clear();
        found = keys_.try_emplace(std::move(id), std::move(key)).first->second;
    }
    last.owner = this;
    last.secret = secret_access_key;
    last.date = date8;
    last.region_name = region;
    last.service_name = service;
    last.key = found;
    return found;
}

key_cache& key_cache::global() {
    static key_cache cache;
    return cache;
}

signing_params signing_params::make(
    const aws::credentials& creds,
    std::string_view region,
    std::string_view service,
    clock::time_point time
) noexcept {
    signing_params p;
    p.access_key_id = creds.access_key_id;
    p.secret_access_key = creds.secret_access_key;
    p.session_token = creds.session_token;
    p.region = region;
    p.service = service;
    p.time = time;
    p.rules = service_rules::for_service(service);
    return p;
}

result<signing_details> sign(http::request& req, const signing_params& p) {
    if (auto ok = check_params(p); !ok) return ok.error();
    const target_parts parts = split_target(req.url);
    if (!http::find_header(req.headers, "host")) {
        if (parts.authority.empty()) {
            return make_error(
                "InvalidRequest",
                "cannot sign a request to '" + req.url + "': the URL has no host and there is no Host header"
            );
        }
        req.headers.emplace_back("Host", host_for(req.url, parts.authority));
    }
    auto payload = payload_hash_of(req, p.payload_hash);
    if (!payload) return payload.error();
    req.headers.reserve(req.headers.size() + 4);  // date, token, content hash, authorization

    signing_details d;
    d.amz_date = format_amz_date(p.time);
    const std::string_view date8 = std::string_view(d.amz_date).substr(0, 8);
    d.scope = credential_scope(date8, p.region, p.service);

    http::remove_header(req.headers, "authorization");
    http::set_header(req.headers, "X-Amz-Date", d.amz_date);
    const bool send_token = !p.session_token.empty();
    if (send_token && !p.omit_session_token) {
        http::set_header(req.headers, "X-Amz-Security-Token", std::string(p.session_token));
    } else {
        http::remove_header(req.headers, "x-amz-security-token");
    }
    if (p.content_sha256_header || p.rules.content_sha256_header) {
        http::set_header(req.headers, "X-Amz-Content-Sha256", *payload);
    }

    std::string headers;
    detail::canonical_headers(req.headers, headers, d.signed_headers);
    d.canonical_request = detail::canonical_request(
        req.method,
        canonical_path(parts.path, p.rules),
        canonical_query(parts.query),
        headers,
        d.signed_headers,
        *payload
    );
    d.string_to_sign = string_to_sign(d.amz_date, d.scope, d.canonical_request);
    d.key = detail::key_for(p.cache, p.secret_access_key, date8, p.region, p.service);
    d.signature = detail::hex_signature(*d.key, d.string_to_sign);

    std::string auth;
    auth.reserve(160 + d.signed_headers.size());
    auth.append(algorithm)
        .append(" Credential=")
        .append(p.access_key_id)
        .append("/")
        .append(d.scope)
        .append(", SignedHeaders=")
        .append(d.signed_headers)
        .append(", Signature=")
        .append(d.signature);
    req.headers.emplace_back("Authorization", std::move(auth));
    if (send_token && p.omit_session_token) {
        req.headers.emplace_back("X-Amz-Security-Token", std::string(p.session_token));
    }
    return d;
}

result<std::string> presign(
    const http::request& req,
    const signing_params& p,
    std::chrono::seconds expires,
    signing_details* details
) {
    if (auto ok = check_params(p); !ok) return ok.error();
    if (expires < std::chrono::seconds(1) || expires > max_presign_expiry) {
        return make_error(
            "InvalidParameterValue",
            "a presigned URL must expire after 1 second to 7 days (604800 seconds), not " +
                std::to_string(expires.count()) + " seconds",
            400
        );
    }
    std::string_view url = req.url;
    if (const auto hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
    const target_parts parts = split_target(url);

    http::header_list headers;
    headers.reserve(req.headers.size() + 1);
    if (!http::find_header(req.headers, "host")) {
        if (parts.authority.empty()) {
            return make_error(
                "InvalidRequest",
                "cannot presign '" + req.url + "': the URL has no host and there is no Host header"
            );
        }
        headers.emplace_back("host", host_for(url, parts.authority));
    }
    for (const auto& h : req.headers) {
        if (!encoding::iequals(h.first, "x-amz-date") &&
            !encoding::iequals(h.first, "x-amz-security-token")) {
            headers.push_back(h);
        }
    }

    signing_details d;
    d.amz_date = format_amz_date(p.time);
    const std::string_view date8 = std::string_view(d.amz_date).substr(0, 8);
    d.scope = credential_scope(date8, p.region, p.service);
    std::string canonical_hdrs;
    detail::canonical_headers(headers, canonical_hdrs, d.signed_headers);

    std::string added;
    added.append("X-Amz-Algorithm=").append(algorithm);
    added.append("&X-Amz-Credential=");
    encoding::append_uri_encoded(added, std::string(p.access_key_id) + "/" + d.scope);
    added.append("&X-Amz-Date=").append(d.amz_date);
    added.append("&X-Amz-Expires=").append(std::to_string(expires.count()));
    added.append("&X-Amz-SignedHeaders=");
    encoding::append_uri_encoded(added, d.signed_headers);
    const bool send_token = !p.session_token.empty();
    if (send_token && !p.omit_session_token) {
        added.append("&X-Amz-Security-Token=");
        encoding::append_uri_encoded(added, p.session_token);
    }

    std::string payload;
    if (!p.payload_hash.empty()) {
        payload = p.payload_hash;
    } else if (p.rules.presign_unsigned_payload) {
        payload = unsigned_payload;
    } else {
        auto h = payload_hash_of(req, {});
        if (!h) return h.error();
        payload = std::move(*h);
    }

    std::string query(parts.query);
    if (!query.empty()) query.push_back('&');
    query.append(added);
    d.canonical_request = detail::canonical_request(
        req.method,
        canonical_path(parts.path, p.rules),
        canonical_query(query),
        canonical_hdrs,
        d.signed_headers,
        payload
    );
    d.string_to_sign = string_to_sign(d.amz_date, d.scope, d.canonical_request);
    d.key = detail::key_for(p.cache, p.secret_access_key, date8, p.region, p.service);
    d.signature = detail::hex_signature(*d.key, d.string_to_sign);

    std::string out(url);
    out.push_back(parts.query.empty() && out.find('?') == std::string::npos ? '?' : '&');
    if (out.ends_with("?&")) out.pop_back();
    out.append(added).append("&X-Amz-Signature=").append(d.signature);
    if (send_token && p.omit_session_token) {
        out.append("&X-Amz-Security-Token=");
        encoding::append_uri_encoded(out, p.session_token);
    }
    if (details != nullptr) *details = std::move(d);
    return out;
}

}  // namespace scar::sigv4
