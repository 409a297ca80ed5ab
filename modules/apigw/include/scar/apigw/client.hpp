#pragma once
/// @file
/// The API Gateway (REST API, v1) client: the control-plane calls SCAR makes to put an HTTP
/// endpoint in front of a function — on AWS or on the local emulator (same wire protocol,
/// different endpoint) — and the invoke URL of a deployed stage.
///
/// @code
/// scar::apigw::client api({"http://127.0.0.1:4566", "us-east-1", creds});
/// auto made = api.create_rest_api({.name = "grayify", .binary_media_types = {"*/*"}}).value();
/// auto proxy = api.create_resource(made.id, made.root_resource_id, "{proxy+}").value();
/// api.put_method(made.id, proxy.id, {}).value();
/// api.put_integration(made.id, proxy.id, "ANY", {.uri = scar::apigw::lambda_uri("us-east-1",
/// fn_arn)}).value(); api.create_deployment(made.id, "scar").value();
/// @endcode

#include <scar/core/aws_config.hpp>
#include <scar/core/error.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::apigw {

/// Where and as whom to call API Gateway's control plane.
struct endpoint {
    std::string url;  ///< "http://127.0.0.1:4566" or "https://apigateway.us-east-1.amazonaws.com"
    std::string region = "us-east-1";
    aws::credentials credentials;
};

/// What CreateRestApi needs.
struct rest_api_request {
    std::string name;
    std::string description;
    /// Content types passed to the function as base64 (and decoded on the way back when
    /// the caller accepts them); `*/*` makes every body binary.
    std::vector<std::string> binary_media_types;
    /// "REGIONAL", "EDGE" or "PRIVATE"; empty: AWS's default (EDGE).
    std::string endpoint_type;
};

/// A REST API as GetRestApi answers.
struct rest_api {
    std::string id;
    std::string name;
    std::string description;
    std::string root_resource_id;
    std::vector<std::string> binary_media_types;
    std::int64_t created_date = 0;  ///< seconds since the epoch
};

/// A resource (a path of the API).
struct resource {
    std::string id;
    std::string parent_id;  ///< empty for the root
    std::string path_part;  ///< "{proxy+}"; empty for the root
    std::string path;       ///< "/", "/{proxy+}", "/items/{id}"
    std::vector<std::string> methods;
};

/// What PutMethod needs.
struct method_request {
    std::string http_method = "ANY";
    std::string authorization_type = "NONE";
    /// "method.request.header.X-Amz-Invocation-Type" → required?
    std::map<std::string, bool> request_parameters;
};

/// What PutIntegration needs.
struct integration_request {
    std::string type = "AWS_PROXY";
    std::string http_method = "POST";  ///< how API Gateway calls Lambda (always POST)
    std::string uri;                   ///< see `lambda_uri`
    /// "integration.request.header.X-Amz-Invocation-Type" → "method.request.header.X-Amz-Invocation-Type"
    std::map<std::string, std::string> request_parameters;
    std::optional<int> timeout_ms;  ///< 50–29000; unset: 29000
};

/// A deployment (a snapshot of the API that stages serve).
struct deployment {
    std::string id;
    std::string description;
    std::int64_t created_date = 0;
};

/// A stage: a name in the invoke URL and the deployment it serves.
struct stage {
    std::string name;
    std::string deployment_id;
    std::map<std::string, std::string> variables;
};

/// The integration URI of an AWS_PROXY integration to a Lambda function:
/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations`.
[[nodiscard]] std::string lambda_uri(std::string_view region, std::string_view function_arn);

/// The invoke URL of `path` ("launch", no leading slash needed) on a stage: on AWS
/// `https://{id}.execute-api.{region}.amazonaws.com/{stage}/{path}`; on the emulator (any
/// `endpoint_url` not on amazonaws.com) `{endpoint_url}/restapis/{id}/{stage}/_user_request_/{path}`.
[[nodiscard]] std::string invoke_url(
    std::string_view endpoint_url,
    std::string_view region,
    std::string_view api_id,
    std::string_view stage,
    std::string_view path = {}
);

/// The source ARN API Gateway invokes a function as, for Lambda AddPermission:
/// `arn:aws:execute-api:{region}:{account}:{api_id}/{rest}` (`rest` "*" or "scar/ANY/…").
[[nodiscard]] std::string execute_api_arn(
    std::string_view region,
    std::string_view account,
    std::string_view api_id,
    std::string_view rest
);

/// An API Gateway control-plane client. Errors carry API Gateway's codes:
/// `NotFoundException` (404: no such API, resource, method or stage),
/// `BadRequestException` (400), `ConflictException` (409: the resource or method exists),
/// `TooManyRequestsException` (429, retried), `UnauthorizedException`; network failures are
/// `NetworkError`. Messages name the operation and the object.
///
/// @par Thread safety
/// One client per thread (it keeps a connection).
class client {
public:
    explicit client(endpoint ep);
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;

    /// CreateRestApi.
    [[nodiscard]] result<rest_api> create_rest_api(const rest_api_request& req);
    /// GetRestApi; `NotFoundException` when there is none with that id.
    [[nodiscard]] result<rest_api> get_rest_api(const std::string& id);
    /// GetRestApis, every page.
    [[nodiscard]] result<std::vector<rest_api>> list_rest_apis();
    /// DeleteRestApi; `NotFoundException` when there is none with that id.
    [[nodiscard]] result<void> delete_rest_api(const std::string& id);
    /// GetResources, every page.
    [[nodiscard]] result<std::vector<resource>> get_resources(const std::string& api_id);
    /// CreateResource `path_part` under `parent_id`.
    [[nodiscard]] result<resource> create_resource(
        const std::string& api_id,
        const std::string& parent_id,
        const std::string& path_part
    );
    /// PutMethod on a resource.
    [[nodiscard]] result<void> put_method(
        const std::string& api_id,
        const std::string& resource_id,
        const method_request& req
    );
    /// PutIntegration for a resource's method.
    [[nodiscard]] result<void> put_integration(
        const std::string& api_id,
        const std::string& resource_id,
        const std::string& http_method,
        const integration_request& req
    );
    /// CreateDeployment, creating or moving the stage `stage_name`.
    [[nodiscard]] result<deployment> create_deployment(
        const std::string& api_id,
        const std::string& stage_name,
        const std::string& description = {}
    );
    /// GetStages.
    [[nodiscard]] result<std::vector<stage>> get_stages(const std::string& api_id);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace scar::apigw
