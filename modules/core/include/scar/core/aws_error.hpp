#pragma once
/// @file
/// The error an AWS JSON service answered (REST-JSON: Lambda, Batch, API Gateway; JSON 1.1:
/// Logs, ECR), as one `scar::error`.

#include <scar/core/error.hpp>
#include <scar/core/http.hpp>

#include <string_view>

namespace scar::aws {

/// For a response with status >= 300: the code from `x-amzn-ErrorType` (up to its ':'),
/// else the body's `__type` (after its '#'); the message from the body's `message` or
/// `Message`, prefixed with `what` ("CreateFunction grayify: …"). Without a code:
/// `ServiceException` for 5xx, `client_fallback` otherwise. Retryable for 429 and 5xx.
[[nodiscard]] error json_error(
    const http::response& r,
    std::string_view what,
    std::string_view client_fallback
);

}  // namespace scar::aws
