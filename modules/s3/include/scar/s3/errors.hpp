#pragma once
/// @file
/// S3 error responses mapped to `scar::error`: the AWS code (`NoSuchKey`, `NoSuchBucket`,
/// `AccessDenied`, `SignatureDoesNotMatch`, …) kept verbatim, S3's message followed by what
/// to do about it, the HTTP status, and whether the request may succeed if retried.
///
/// @code
/// auto r = http.send(req);
/// if (r && r->status >= 300) return s3::error_from_response(*r, "GET s3://bucket/key");
/// @endcode

#include <scar/core/error.hpp>
#include <scar/core/http.hpp>

#include <string>
#include <string_view>

namespace scar::s3 {

/// What an error body said, before it becomes a `scar::error`.
struct error_body {
    std::string code;        ///< `<Code>`
    std::string message;     ///< `<Message>`
    std::string request_id;  ///< `<RequestId>`
    std::string region;      ///< `<Region>` of a PermanentRedirect / AuthorizationHeaderMalformed
    std::string endpoint;    ///< `<Endpoint>` of a PermanentRedirect
};

/// Parses an S3 `<Error>` document; `code` is empty when `xml` is not one.
[[nodiscard]] error_body parse_error_body(std::string_view xml);

/// The error for a response with status >= 300 (or a 200 whose body is an `<Error>`, as
/// CompleteMultipartUpload and CopyObject may send). `context` names the operation and the
/// object ("PUT s3://bucket/key") and starts the message.
///
/// Bodiless answers (HEAD) are named from their status: 404 → `NotFound` (or `not_found_code`
/// when the caller knows better, e.g. `NoSuchKey` for HeadObject), 403 → `AccessDenied`,
/// 400 → `BadRequest`, 301 → `PermanentRedirect` (with the bucket's region from
/// `x-amz-bucket-region`), 412 → `PreconditionFailed`, 5xx → `InternalError` / `ServiceUnavailable`.
///
/// `retryable` is set for 5xx, `SlowDown`, `RequestTimeout`, `InternalError`,
/// `ServiceUnavailable`, `RequestTimeTooSkewed` (after a clock fix) is not.
[[nodiscard]] error error_from_response(
    const http::response& r,
    std::string_view context,
    std::string_view not_found_code = "NotFound"
);

/// The advice appended to S3's message for `code` ("create the bucket first, or check its
/// name"); empty for codes without one.
[[nodiscard]] std::string_view advice_for(std::string_view code) noexcept;

}  // namespace scar::s3
