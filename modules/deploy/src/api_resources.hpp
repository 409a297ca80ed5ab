#pragma once
// The API Gateway steps of init, update, rm and ls (api_resources.cpp).

#include <scar/config/function.hpp>
#include <scar/deploy/deploy.hpp>

#include <map>
#include <string>

namespace scar::deploy::detail {

/// Creates the function's REST API (before the function, whose variables record its id);
/// its id.
[[nodiscard]] result<std::string> create_api(const target& t, const config::function_definition& fn);

/// The variables that record the API in the function's environment.
[[nodiscard]] std::map<std::string, std::string> api_environment(
    const config::function_definition& fn,
    const std::string& api_id
);

/// Once the function exists: the root and `/{proxy+}` resources with method ANY and an
/// AWS_PROXY integration, the deployment to the stage, and the permission for API Gateway
/// to invoke the function.
[[nodiscard]] result<void> wire_api(
    const target& t,
    const config::function_definition& fn,
    const std::string& api_id,
    const std::string& function_arn
);

/// Deletes a REST API; true when it existed.
[[nodiscard]] result<bool> delete_api(const target& t, const std::string& api_id);

/// The REST API id recorded in a deployed function's environment, or "".
[[nodiscard]] std::string recorded_api(const std::map<std::string, std::string>& environment);

/// Copies the API variables of a deployed function's environment into `into` (an update
/// keeps the endpoint).
void keep_api_environment(
    const std::map<std::string, std::string>& from,
    std::map<std::string, std::string>& into
);

}  // namespace scar::deploy::detail
