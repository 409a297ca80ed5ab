#pragma once
/// @file
/// A deployed function's HTTP endpoint (API Gateway), as `scar invoke` calls it.
///
/// `scar init` makes the endpoint when the definition has `[function.api_gateway] name`:
/// a REST API with the root and `/{proxy+}` resources, method ANY with an AWS_PROXY
/// integration to the function, a deployment to the configured stage and the permission for
/// `apigateway.amazonaws.com` to invoke the function. The API's id is recorded in the
/// function's variable `API_GATEWAY_ID` (as SCAR does), its stage and path in
/// `SCAR_API_PATH` (`scar/launch`).
///
/// @code
/// auto t = scar::deploy::resolve_target({.local_endpoint = url}).value();
/// auto r = scar::deploy::invoke(t, {.name = "grayify", .data_binary = "cat.png"}).value();
/// // r.body: the processed image, byte for byte
/// @endcode

#include <scar/core/error.hpp>
#include <scar/deploy/deploy.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace scar::deploy {

/// Names of the variables that record a function's endpoint.
inline constexpr std::string_view env_api_id = "API_GATEWAY_ID";   ///< the REST API's id
inline constexpr std::string_view env_api_path = "SCAR_API_PATH";  ///< "<stage>/<path>"

/// The invoke URL of a deployed function's endpoint (without query), or empty when the
/// function has none. `environment` is the function's Lambda variables.
[[nodiscard]] std::string api_url(const target& t, const std::map<std::string, std::string>& environment);

/// What `scar invoke` sends.
struct invoke_request {
    std::string name;
    /// The request body, sent as is with `Content-Type: application/octet-stream` (API
    /// Gateway hands it to the function base64-encoded).
    std::optional<std::filesystem::path> data_binary;
    /// A JSON body (`Content-Type: application/json`); at most one of the two bodies.
    std::optional<std::string> json_data;
    /// Query parameters; the function's script sees them as `CONT_VAR_<name>`.
    std::vector<std::pair<std::string, std::string>> parameters;
    /// Asynchronous: `X-Amz-Invocation-Type: Event`, the call returns once the invocation
    /// is queued.
    bool asynchronous = false;
};

/// What the endpoint answered.
struct invoke_result {
    int status = 0;
    std::string body;               ///< the function's output, byte for byte
    std::string request_id;         ///< API Gateway's (`x-amzn-RequestId`)
    std::string lambda_request_id;  ///< the function's (`amz-lambda-request-id`), when it says
    std::string url;                ///< what was called
    bool launched = false;          ///< an asynchronous invocation was accepted
};

/// Calls the function's endpoint: GET without a body, else POST. Errors: `NoApiEndpoint`
/// (the function has none: deploy it with `[function.api_gateway] name` set),
/// `ResourceNotFoundException` (no such function), `InvalidParameterValue` (both bodies,
/// an unreadable file), `NetworkError`, and `HttpError` with the endpoint's status and
/// message for a non-2xx answer (502: the function failed; 504: it took longer than 29 s,
/// use `asynchronous`; 413: the body is over 10 MB).
[[nodiscard]] result<invoke_result> invoke(const target& t, const invoke_request& req);

}  // namespace scar::deploy
