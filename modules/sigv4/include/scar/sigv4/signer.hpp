#pragma once
/// @file
/// Signing requests with AWS Signature Version 4: the `Authorization` header form and the
/// presigned-URL (query) form, with session tokens, S3's rules, `UNSIGNED-PAYLOAD` and the
/// seed signature of streaming chunked uploads (see `chunked.hpp`).
///
/// @code
/// auto creds = scar::aws::load_credentials(src).value();
/// http::request req{.method = "PUT", .url = endpoint + "/bucket/key", .body = data};
/// auto params = sigv4::signing_params::make(creds, "us-east-1", "s3", clock::system().now());
/// sigv4::sign(req, params).value();      // adds Host, X-Amz-Date, X-Amz-Content-Sha256, Authorization
/// @endcode
///
/// Signing keys are derived once per (secret, date, region, service) and kept in a
/// `key_cache` (process-wide by default), so a signature with a cached key costs one
/// SHA-256 of the canonical request and one prepared HMAC.

#include <scar/core/aws_config.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/crypto.hpp>
#include <scar/core/error.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/canonical.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace scar::sigv4 {

inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view streaming_payload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view streaming_payload_trailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view streaming_unsigned_payload_trailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Longest validity of a presigned URL: 7 days.
inline constexpr std::chrono::seconds max_presign_expiry{604'800};

/// The SigV4 signing key `kSigning`, prepared for HMAC.
using signing_key = crypto::hmac_sha256_key;

/// Derives kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date8), region), service), "aws4_request").
[[nodiscard]] signing_key derive_signing_key(
    std::string_view secret_access_key,
    std::string_view date8,
    std::string_view region,
    std::string_view service
);

/// Derived signing keys by (secret, date, region, service).
///
/// @par Thread safety
/// All members may be called concurrently.
class key_cache {
public:
    /// Holds at most `capacity` keys; when full it starts afresh (keys live one day).
    explicit key_cache(std::size_t capacity = 1024) : capacity_(capacity) {}

    /// The cached key, derived on first use.
    [[nodiscard]] std::shared_ptr<const signing_key> get(
        std::string_view secret_access_key,
        std::string_view date8,
        std::string_view region,
        std::string_view service
    );

    /// The process-wide cache used by default.
    [[nodiscard]] static key_cache& global();

private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<const signing_key>> keys_;
    std::size_t capacity_;
};

/// Everything a signature depends on besides the request. Strings are views: the caller
/// keeps the credentials alive for the duration of the call.
struct signing_params {
    std::string_view access_key_id;
    std::string_view secret_access_key;
    std::string_view session_token;  ///< empty: none
    std::string_view region;
    std::string_view service;
    clock::time_point time;
    service_rules rules;
    /// The payload hash to sign: empty means the hex SHA-256 of the body (a file body is
    /// read); or `unsigned_payload`, `streaming_payload`, … or a precomputed hex hash.
    std::string_view payload_hash;
    /// Also send and sign `x-amz-content-sha256` (always on under S3 rules).
    bool content_sha256_header = false;
    /// Send the session token without signing it (the few services that want it added
    /// after signing; aws-c-auth `omit_session_token`).
    bool omit_session_token = false;
    /// Where derived keys are cached; nullptr derives every time.
    key_cache* cache = &key_cache::global();

    /// Parameters for `creds` with the rules of `service`. The parameters point into
    /// `creds`, which must outlive them.
    [[nodiscard]] static signing_params make(
        const aws::credentials& creds,
        std::string_view region,
        std::string_view service,
        clock::time_point time
    ) noexcept;
    /// A temporary `creds` would be gone before the parameters are used.
    static signing_params make(aws::credentials&&, std::string_view, std::string_view, clock::time_point) = delete;
};

/// What a signature was computed from; returned for debugging, tests and chunk signing.
struct signing_details {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;       ///< 64 lower-case hex digits
    std::string signed_headers;  ///< "host;x-amz-date"
    std::string scope;           ///< "20150830/us-east-1/service/aws4_request"
    std::string amz_date;        ///< "20150830T123600Z"
    std::shared_ptr<const signing_key> key;
};

/// Signs `req` in place: sets `Host` (from the URL, when absent), `X-Amz-Date`,
/// `X-Amz-Security-Token` (temporary credentials), `X-Amz-Content-Sha256` (S3 rules or
/// `content_sha256_header`) and `Authorization`. Every other header present is signed,
/// except those proxies may rewrite (`is_unsigned_header`).
///
/// Errors: `InvalidRequest` (a URL without a path, no host), `LocalIOError` (an unreadable
/// body file), `MissingCredentials` (empty access key id or secret).
[[nodiscard]] result<signing_details> sign(http::request& req, const signing_params& p);

/// A presigned URL for `req` valid for `expires` (1 s … 7 days): the request's URL with
/// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
/// `X-Amz-SignedHeaders`, `X-Amz-Security-Token` and `X-Amz-Signature` added to its query.
/// Signs `Host` and any other headers `req` has (the user of the URL must send them).
/// The payload is `UNSIGNED-PAYLOAD` for S3, the body's hash otherwise.
///
/// Errors: as `sign`, plus `InvalidParameterValue` for an expiry outside 1 s … 7 days.
[[nodiscard]] result<std::string> presign(
    const http::request& req,
    const signing_params& p,
    std::chrono::seconds expires,
    signing_details* details = nullptr
);

}  // namespace scar::sigv4
