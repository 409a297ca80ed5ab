#pragma once
/// @file
/// Verifying SigV4-signed requests: the emulator's authentication.
///
/// The verifier parses the `Authorization` header or the presigned query, looks up the
/// secret of the access key id, rebuilds the canonical request from the raw request with
/// the client's `SignedHeaders`, and compares signatures in constant time. It enforces the
/// 15-minute clock skew window (header form) and presigned expiry (query form).
///
/// Errors carry the code AWS would answer with for the service named in the credential
/// scope (S3 codes for "s3", the JSON services' codes otherwise):
///
/// - no signature at all: S3 403 AccessDenied; others 403 MissingAuthenticationTokenException
/// - header or query parts missing: S3 400 AuthorizationHeaderMalformed or
///   AuthorizationQueryParametersError; others 403 IncompleteSignature
/// - unknown access key id: S3 403 InvalidAccessKeyId; others 403 UnrecognizedClientException
/// - wrong session token: S3 400 InvalidToken; others 403 UnrecognizedClientException
/// - signature mismatch: S3 403 SignatureDoesNotMatch; others 403 InvalidSignatureException
/// - date outside ±15 min: S3 403 RequestTimeTooSkewed; others 403 InvalidSignatureException
/// - presigned URL expired: S3 403 AccessDenied; others 403 AccessDeniedException
/// - X-Amz-Expires over 7 days: S3 400 AuthorizationQueryParametersError; others 403 IncompleteSignature
/// - unsupported algorithm: S3 400 InvalidArgument; others 403 IncompleteSignature

#include <scar/core/aws_config.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/error.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace scar::sigv4 {

/// A request as the server received it.
struct incoming_request {
    std::string_view method;
    /// The raw request-target: "/path?query", exactly as on the request line.
    std::string_view target;
    const http::header_list* headers = nullptr;
    /// The body, when the caller has it in memory. Needed only for non-S3 services whose
    /// clients sign the body hash without sending `x-amz-content-sha256`.
    std::optional<std::string_view> body;
    /// The service the request was sent to (its endpoint), whose error codes apply when the
    /// request names none itself: unsigned, or malformed before the credential scope.
    /// Empty: S3.
    std::string_view service = {};
};

/// The credentials for an access key id, or nullopt when the key is unknown.
using credentials_lookup = std::function<std::optional<aws::credentials>(std::string_view access_key_id)>;

struct verify_options {
    const clock* time_source = &clock::system();
    std::chrono::seconds max_skew{900};
    /// Normalise paths of non-S3 services (AWS does); off only to check signers that don't.
    bool normalize_paths = true;
    key_cache* cache = &key_cache::global();
};

/// What a successful verification established.
struct verified_request {
    std::string access_key_id;
    std::string region;
    std::string service;
    std::string amz_date;
    std::string scope;
    /// The payload hash that was signed: a hex hash, `UNSIGNED-PAYLOAD` or a `STREAMING-…`
    /// literal. For a hex hash from `x-amz-content-sha256`, the server must still check
    /// the body against it (`body_matches`).
    std::string payload_hash;
    std::string signature;  ///< the seed signature of a chunked upload
    bool presigned = false;
    std::shared_ptr<const signing_key> key;

    /// True if `payload_hash` is not a hex hash or equals the hash of `body`.
    [[nodiscard]] bool body_matches(std::string_view body) const;
};

class verifier {
public:
    explicit verifier(credentials_lookup lookup, verify_options opts = {});

    /// Verifies `req`; see the file comment for the errors.
    [[nodiscard]] result<verified_request> verify(const incoming_request& req) const;

    /// True when `req` carries SigV4 authentication (header or query), false when it is
    /// anonymous.
    [[nodiscard]] static bool is_signed(const incoming_request& req) noexcept;

private:
    credentials_lookup lookup_;
    verify_options opts_;
};

}  // namespace scar::sigv4
