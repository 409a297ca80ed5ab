#include "scar/sigv4/verifier.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include "detail.hpp"

namespace scar::sigv4 {
namespace {

enum class failure {
    missing,
    malformed,
    unknown_key,
    bad_token,
    mismatch,
    skewed,
    expired,
    expiry_too_long,
    unsupported,
    headers_not_signed,
    missing_content_sha256,
};

/// The error AWS answers with for `f` on `service` (S3's XML codes or the JSON services').
error fail(failure f, std::string_view service, std::string detail) {
    const bool s3 = service_rules::for_service(service).content_sha256_header;
    switch (f) {
        case failure::missing:
            return s3 ? make_error("AccessDenied", "Access Denied: the request is not signed; " + detail, 403)
                      : make_error(
                            "MissingAuthenticationTokenException",
                            "Missing Authentication Token: " + detail,
                            403
                        );
        case failure::malformed:
            return s3 ? make_error("AuthorizationHeaderMalformed", detail, 400)
                      : make_error("IncompleteSignature", detail, 403);
        case failure::unknown_key:
            return s3 ? make_error(
                            "InvalidAccessKeyId",
                            "The AWS Access Key Id you provided does not exist in our records: " + detail,
                            403
                        )
                      : make_error(
                            "UnrecognizedClientException",
                            "The security token included in the request is invalid: " + detail,
                            403
                        );
        case failure::bad_token:
            return s3 ? make_error(
                            "InvalidToken",
                            "The provided token is malformed or otherwise invalid: " + detail,
                            400
                        )
                      : make_error(
                            "UnrecognizedClientException",
                            "The security token included in the request is invalid: " + detail,
                            403
                        );
        case failure::mismatch: {
            std::string m =
                "The request signature we calculated does not match the signature you provided. Check your "
                "key and signing method. " +
                detail;
            return s3 ? make_error("SignatureDoesNotMatch", std::move(m), 403)
                      : make_error("InvalidSignatureException", std::move(m), 403);
        }
        case failure::skewed:
            return s3 ? make_error(
                            "RequestTimeTooSkewed",
                            "The difference between the request time and the current time is too large: " +
                                detail,
                            403
                        )
                      : make_error("InvalidSignatureException", "Signature expired: " + detail, 403);
        case failure::expired:
            return s3 ? make_error("AccessDenied", "Request has expired: " + detail, 403)
                      : make_error("AccessDeniedException", "Request has expired: " + detail, 403);
        case failure::expiry_too_long:
            return s3 ? make_error("AuthorizationQueryParametersError", detail, 400)
                      : make_error("IncompleteSignature", detail, 403);
        case failure::unsupported:
            return s3 ? make_error("InvalidArgument", detail, 400)
                      : make_error("IncompleteSignature", detail, 403);
        case failure::headers_not_signed:
            return make_error(
                "AccessDenied",
                "There were headers present in the request which were not signed: " + detail,
                403
            );
        case failure::missing_content_sha256:
            return make_error(
                "InvalidRequest",
                "Missing required header for this request: x-amz-content-sha256",
                400
            );
    }
    return make_error("InternalFailure", detail, 500);
}

/// The value of query parameter `name` (decoded), if present.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    std::size_t start = 0;
    while (start <= query.size()) {
        auto end = query.find('&', start);
        if (end == std::string_view::npos) end = query.size();
        const auto pair = query.substr(start, end - start);
        start = end + 1;
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            if (eq == std::string_view::npos) return std::string();
            auto v = encoding::uri_decode(pair.substr(eq + 1));
            return v ? std::move(*v) : std::string(pair.substr(eq + 1));
        }
    }
    return std::nullopt;
}

bool is_hex64(std::string_view s) noexcept {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

struct credential {
    std::string_view access_key_id, date8, region, service;
};

std::optional<credential> parse_credential(std::string_view c) {
    std::array<std::string_view, 5> parts;
    for (std::size_t i = 0; i < 5; ++i) {
        const auto slash = c.find('/');
        if ((slash == std::string_view::npos) != (i == 4)) return std::nullopt;
        parts[i] = c.substr(0, slash);
        if (parts[i].empty()) return std::nullopt;
        if (slash != std::string_view::npos) c.remove_prefix(slash + 1);
    }
    if (parts[4] != "aws4_request" || parts[1].size() != 8) return std::nullopt;
    return credential{parts[0], parts[1], parts[2], parts[3]};
}

/// The parts of an Authorization header or presigned query.
struct auth_fields {
    std::string credential;
    std::string signed_headers;
    std::string signature;
    std::string amz_date;
    std::optional<std::string> expires;
    std::optional<std::string> token;
    std::optional<std::string> content_sha256;  // presigned only
};

}  // namespace

bool verified_request::body_matches(std::string_view body) const {
    if (!is_hex64(payload_hash)) return true;
    return encoding::to_hex(crypto::sha256_of(body)) == payload_hash;
}

verifier::verifier(credentials_lookup lookup, verify_options opts)
    : lookup_(std::move(lookup)), opts_(opts) {}

bool verifier::is_signed(const incoming_request& req) noexcept {
    if (req.headers != nullptr && http::find_header(*req.headers, "authorization")) return true;
    const auto q = split_target(req.target).query;
    return q.find("X-Amz-Algorithm=") != std::string_view::npos ||
           q.find("X-Amz-Signature=") != std::string_view::npos;
}

result<verified_request> verifier::verify(const incoming_request& req) const {
    static const http::header_list no_headers;
    const http::header_list& headers = req.headers != nullptr ? *req.headers : no_headers;
    const target_parts parts = split_target(req.target);
    const auto authorization = http::find_header(headers, "authorization");
    const bool presigned = !authorization && query_param(parts.query, "X-Amz-Algorithm").has_value();

    // A best guess of the service for errors raised before the credential scope is read.
    std::string_view service_hint = req.service.empty() ? std::string_view("s3") : req.service;
    auth_fields f;
    if (authorization) {
        std::string_view a = encoding::trim(*authorization);
        if (!a.starts_with("AWS4-HMAC-SHA256 ")) {
            return fail(
                failure::unsupported,
                service_hint,
                "unsupported Authorization type '" + std::string(a.substr(0, a.find(' '))) +
                    "': only AWS4-HMAC-SHA256 (Signature Version 4) is accepted"
            );
        }
        a.remove_prefix(17);
        while (!a.empty()) {
            const auto comma = a.find(',');
            const auto item = encoding::trim(a.substr(0, comma));
            a = comma == std::string_view::npos ? std::string_view{} : a.substr(comma + 1);
            const auto eq = item.find('=');
            if (eq == std::string_view::npos) continue;
            const auto key = item.substr(0, eq);
            const auto value = item.substr(eq + 1);
            if (key == "Credential")
                f.credential = value;
            else if (key == "SignedHeaders")
                f.signed_headers = value;
            else if (key == "Signature")
                f.signature = value;
        }
        if (f.credential.empty() || f.signed_headers.empty() || f.signature.empty()) {
            return fail(
                failure::malformed,
                service_hint,
                "the Authorization header must contain Credential=, SignedHeaders= and Signature= (got '" +
                    std::string(*authorization) + "')"
            );
        }
        if (const auto d = http::find_header(headers, "x-amz-date")) {
            f.amz_date = encoding::trim(*d);
        } else if (const auto date = http::find_header(headers, "date")) {
            if (const auto t = parse_http_date(encoding::trim(*date))) f.amz_date = format_amz_date(*t);
        }
        if (const auto t = http::find_header(headers, "x-amz-security-token")) f.token = std::string(*t);
    } else if (presigned) {
        const auto alg = query_param(parts.query, "X-Amz-Algorithm");
        if (*alg != algorithm) {
            return fail(
                failure::unsupported,
                service_hint,
                "X-Amz-Algorithm must be AWS4-HMAC-SHA256, not '" + *alg + "'"
            );
        }
        f.credential = query_param(parts.query, "X-Amz-Credential").value_or("");
        f.signed_headers = query_param(parts.query, "X-Amz-SignedHeaders").value_or("");
        f.signature = query_param(parts.query, "X-Amz-Signature").value_or("");
        f.amz_date = query_param(parts.query, "X-Amz-Date").value_or("");
        f.expires = query_param(parts.query, "X-Amz-Expires");
        f.token = query_param(parts.query, "X-Amz-Security-Token");
        f.content_sha256 = query_param(parts.query, "X-Amz-Content-Sha256");
        if (f.credential.empty() || f.signed_headers.empty() || f.signature.empty() || f.amz_date.empty() ||
            !f.expires) {
            return fail(
                failure::expiry_too_long,  // same code: AuthorizationQueryParametersError
                service_hint,
                "a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and "
                "X-Amz-Signature query parameters"
            );
        }
    } else {
        return fail(failure::missing, service_hint, "add an Authorization header or presign the URL (SigV4)");
    }

    const auto cred = parse_credential(f.credential);
    if (!cred) {
        return fail(
            failure::malformed,
            service_hint,
            "malformed Credential '" + f.credential + "': expected AKID/yyyymmdd/region/service/aws4_request"
        );
    }
    const std::string_view service = cred->service;
    const auto when = parse_amz_date(f.amz_date);
    if (!when) {
        return fail(
            presigned ? failure::expiry_too_long : failure::malformed,
            service,
            f.amz_date.empty() ? "the request has no X-Amz-Date (or Date) header"
                               : "X-Amz-Date '" + f.amz_date + "' is not in the form yyyymmddThhmmssZ"
        );
    }
    if (std::string_view(f.amz_date).substr(0, 8) != cred->date8) {
        return fail(
            failure::malformed,
            service,
            "Invalid credential date: the scope date " + std::string(cred->date8) +
                " is not the date of X-Amz-Date " + f.amz_date
        );
    }

    const auto now = opts_.time_source->now();
    if (presigned) {
        std::int64_t seconds = -1;
        const auto& e = *f.expires;
        if (!e.empty() && e.size() < 10 &&
            std::all_of(e.begin(), e.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            seconds = std::stoll(e);
        }
        if (seconds < 1 || seconds > max_presign_expiry.count()) {
            return fail(
                failure::expiry_too_long,
                service,
                "X-Amz-Expires must be between 1 and 604800 seconds (7 days), not '" + e + "'"
            );
        }
        if (now > *when + std::chrono::seconds(seconds)) {
            return fail(
                failure::expired,
                service,
                "the URL was signed at " + f.amz_date + " for " + e + " seconds"
            );
        }
        if (*when > now + opts_.max_skew) {
            return fail(failure::skewed, service, "the URL is signed at " + f.amz_date + ", in the future");
        }
    } else {
        const auto skew = now > *when ? now - *when : *when - now;
        if (skew > opts_.max_skew) {
            return fail(
                failure::skewed,
                service,
                "the request was signed at " + f.amz_date + ", the server time is " + format_amz_date(now) +
                    "; fix the client's clock (allowed skew: 15 minutes)"
            );
        }
    }

    const auto creds = lookup_(cred->access_key_id);
    if (!creds) return fail(failure::unknown_key, service, "'" + std::string(cred->access_key_id) + "'");
    if (!creds->session_token.empty() &&
        (!f.token || !crypto::constant_time_equal(*f.token, creds->session_token))) {
        return fail(
            failure::bad_token,
            service,
            f.token ? "X-Amz-Security-Token does not match the session of this access key"
                    : "these temporary credentials need X-Amz-Security-Token"
        );
    }

    const service_rules rules = service_rules::for_service(service);

    // Canonical headers from the client's list, in its order.
    std::string canonical_hdrs;
    {
        std::string_view names = f.signed_headers;
        while (true) {
            const auto semi = names.find(';');
            const auto name = names.substr(0, semi);
            bool found = false;
            canonical_hdrs.append(name).push_back(':');
            for (const auto& [n, v] : headers) {
                if (!encoding::iequals(n, name)) continue;
                if (found) canonical_hdrs.push_back(',');
                append_canonical_value(canonical_hdrs, v);
                found = true;
            }
            canonical_hdrs.push_back('\n');
            if (!found) {
                return fail(
                    failure::mismatch,
                    service,
                    "SignedHeaders lists '" + std::string(name) + "' but the request has no such header"
                );
            }
            if (semi == std::string_view::npos) break;
            names.remove_prefix(semi + 1);
        }
    }
    if (rules.content_sha256_header && !presigned) {
        // S3 refuses x-amz-* headers that the signature does not cover.
        const std::string signed_list = ";" + f.signed_headers + ";";
        for (const auto& [n, v] : headers) {
            const std::string lower = encoding::to_lower(n);
            if (lower.starts_with("x-amz-") && signed_list.find(";" + lower + ";") == std::string::npos) {
                return fail(failure::headers_not_signed, service, lower);
            }
        }
    }

    std::string payload;
    if (presigned) {
        if (f.content_sha256)
            payload = *f.content_sha256;
        else if (rules.presign_unsigned_payload)
            payload = unsigned_payload;
        else
            payload = encoding::to_hex(crypto::sha256_of(req.body.value_or("")));
    } else if (const auto h = http::find_header(headers, "x-amz-content-sha256")) {
        payload = encoding::trim(*h);
    } else if (rules.content_sha256_header) {
        return fail(failure::missing_content_sha256, service, {});
    } else {
        payload = encoding::to_hex(crypto::sha256_of(req.body.value_or("")));
    }

    service_rules rules_used = rules;
    rules_used.normalize_path = rules.normalize_path && opts_.normalize_paths;
    const std::string uri = canonical_path(parts.path, rules_used);
    const std::string scope = credential_scope(cred->date8, cred->region, cred->service);
    auto key =
        detail::key_for(opts_.cache, creds->secret_access_key, cred->date8, cred->region, cred->service);
    const auto signature_with = [&](std::string_view canonical_qs) {
        const std::string creq = detail::canonical_request(
            req.method,
            uri,
            canonical_qs,
            canonical_hdrs,
            f.signed_headers,
            payload
        );
        const std::string sts = string_to_sign(f.amz_date, scope, creq);
        const std::string expected = detail::hex_signature(*key, sts);
        if (crypto::constant_time_equal(expected, f.signature)) return true;
        log::debug("SigV4 mismatch; canonical request:\n", creq, "\nstring to sign:\n", sts);
        return false;
    };
    bool ok = presigned ? signature_with(canonical_query(parts.query, {"X-Amz-Signature"}))
                        : signature_with(canonical_query(parts.query));
    if (!ok && presigned && f.token) {
        // Some signers add the session token after signing (aws-c-auth `omit_session_token`).
        ok = signature_with(canonical_query(parts.query, {"X-Amz-Signature", "X-Amz-Security-Token"}));
    }
    if (!ok) return fail(failure::mismatch, service, "(access key " + std::string(cred->access_key_id) + ")");

    verified_request out;
    out.access_key_id = cred->access_key_id;
    out.region = cred->region;
    out.service = cred->service;
    out.amz_date = std::move(f.amz_date);
    out.scope = scope;
    out.payload_hash = std::move(payload);
    out.signature = std::move(f.signature);
    out.presigned = presigned;
    out.key = std::move(key);
    return out;
}

}  // namespace scar::sigv4
