#pragma once
// Internals shared by the signer and the verifier.

#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>

#include <string>
#include <string_view>

namespace scar::sigv4::detail {

/// Appends the canonical header lines of every signable header in `headers` to
/// `canonical` and their names, `;`-separated, to `signed_names`.
void canonical_headers(const http::header_list& headers, std::string& canonical, std::string& signed_names);

/// The canonical request from its six parts.
[[nodiscard]] std::string canonical_request(
    std::string_view method,
    std::string_view canonical_uri,
    std::string_view canonical_query,
    std::string_view canonical_headers,
    std::string_view signed_headers,
    std::string_view payload_hash
);

/// Hex HMAC of `sts` under `key`.
[[nodiscard]] std::string hex_signature(const signing_key& key, std::string_view sts);

/// The key for (secret, date, region, service), from `cache` when given.
[[nodiscard]] std::shared_ptr<const signing_key> key_for(
    key_cache* cache,
    std::string_view secret,
    std::string_view date8,
    std::string_view region,
    std::string_view service
);

}  // namespace scar::sigv4::detail
