#pragma once
/// @file
/// The pieces of a SigV4 canonical request, shared by the signer and the verifier.
///
/// Rules (AWS "Create a signed request"; aws-c-auth and botocore agree on all of them):
///   - path: non-S3 services normalise it (remove `.`/`..` segments, collapse `//`) and
///     UriEncode the path as it is on the wire once more ("double encoding"); S3 uses the
///     wire path unchanged;
///   - query: every `name[=value]` is decoded and UriEncoded again, then sorted by name and
///     then value; a name without `=` gets an empty value;
///   - headers: lower-cased names, sorted; values trimmed with inner whitespace runs (and
///     obsolete line folding) collapsed to one space; repeated headers joined with `,`.

#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::sigv4 {

/// How a service canonicalises requests.
struct service_rules {
    bool double_encode_path = true;
    bool normalize_path = true;
    /// Send and sign `x-amz-content-sha256` with the payload hash (S3 requires it).
    bool content_sha256_header = false;
    /// Presigned URLs sign `UNSIGNED-PAYLOAD` rather than the body's hash.
    bool presign_unsigned_payload = false;

    /// S3's rules for "s3" (and "s3-outposts", "s3express"), the general rules otherwise.
    [[nodiscard]] static service_rules for_service(std::string_view service) noexcept;
};

/// A request target split into its raw path (without the query, "/" when empty) and raw
/// query (without `?`). Accepts an absolute URL ("https://host/p?q") or an origin-form
/// target ("/p?q"); a fragment is dropped.
struct target_parts {
    std::string_view authority;  ///< "host:port" of an absolute URL, else empty
    std::string_view path;
    std::string_view query;
};
[[nodiscard]] target_parts split_target(std::string_view url_or_target) noexcept;

/// Removes `.` and `..` segments and empty segments (`//`), keeping a leading and a
/// trailing slash ("/a/./b/../c/" → "/a/c/", "" → "/"), as botocore and aws-c-auth do.
[[nodiscard]] std::string normalize_path(std::string_view path);

/// The canonical URI for `wire_path` under `rules`.
[[nodiscard]] std::string canonical_path(std::string_view wire_path, const service_rules& rules);

/// The canonical query string of the raw query `query`, leaving out the parameters named in
/// `exclude` (the verifier drops `X-Amz-Signature`).
[[nodiscard]] std::string canonical_query(
    std::string_view query,
    std::initializer_list<std::string_view> exclude = {}
);

/// A header value as it enters the canonical request: trimmed, whitespace runs collapsed.
void append_canonical_value(std::string& out, std::string_view value);

/// True for headers a signer must not sign, because proxies rewrite them
/// (botocore's SIGNED_HEADERS_BLACKLIST plus `authorization`); `name` in any case.
[[nodiscard]] bool is_unsigned_header(std::string_view name) noexcept;

/// "20150830T123600Z" for `t` (UTC).
[[nodiscard]] std::string format_amz_date(clock::time_point t);
/// Parses "20150830T123600Z"; nullopt when malformed.
[[nodiscard]] std::optional<clock::time_point> parse_amz_date(std::string_view text) noexcept;
/// Parses an RFC 7231 `Date` header ("Sun, 30 Aug 2015 12:36:00 GMT"); nullopt when malformed.
[[nodiscard]] std::optional<clock::time_point> parse_http_date(std::string_view text) noexcept;

/// "yyyymmdd/region/service/aws4_request".
[[nodiscard]] std::string credential_scope(
    std::string_view date8,
    std::string_view region,
    std::string_view service
);

/// The string to sign for a canonical request.
[[nodiscard]] std::string string_to_sign(
    std::string_view amz_date,
    std::string_view scope,
    std::string_view canonical_request
);

}  // namespace scar::sigv4
