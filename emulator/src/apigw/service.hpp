#pragma once
// The emulator's API Gateway (REST APIs, v1). The control plane is what SCAR and the aws CLI
// use (`/restapis/…`, signed for `apigateway`); the data plane serves invoke URLs, unsigned
// as on AWS, and turns requests to AWS_PROXY integrations into Lambda proxy events
// (payload format 1.0), mapping the function's proxy response back to HTTP.
//
// State lives in <data>/apigateway/apis.json, rewritten atomically on every change. An API
// keeps its resources as the control plane edits them and, per deployment, a snapshot of
// them: a stage serves its deployment's snapshot, as on AWS (a change needs a new
// deployment before callers see it).

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "../lambda/service.hpp"
#include "../service.hpp"

namespace scar::emulator::apigw {

struct settings {
    std::filesystem::path root;
    std::string region;
    std::string account;
    /// The longest an integration may take: AWS's limit, 29 s, unless shortened (tests).
    /// An integration's own `timeoutInMillis` applies when it is shorter.
    std::chrono::milliseconds integration_timeout{29'000};
};

class service final : public emulator::service {
public:
    service(settings s, std::shared_ptr<lambda::service> lambda)
        : settings_(std::move(s)), lambda_(std::move(lambda)) {}

    /// Opens (creating) the state under `s.root`.
    [[nodiscard]] static result<std::shared_ptr<service>> open(
        settings s,
        std::shared_ptr<lambda::service> lambda
    );

    [[nodiscard]] std::string_view name() const noexcept override { return "apigateway"; }
    void write_error(exchange& ex, const error& e) const override;
    /// The control plane (signed requests).
    net::awaitable<void> handle(exchange& ex, const sigv4::verified_request& auth) override;

    /// True for an invoke URL: `/restapis/{id}/{stage}/_user_request_/…` on any host, or any
    /// path on a host `{id}.execute-api.…` (e.g. `abc123.execute-api.localhost:4566`).
    [[nodiscard]] static bool is_invoke(const exchange& ex);

    /// Serves an invoke URL (no authentication, as a public API on AWS).
    net::awaitable<void> handle_invoke(exchange& ex);

private:
    /// One control-plane operation on the decoded path segments; the response body, with
    /// `status` set to the success status.
    [[nodiscard]] result<std::string> dispatch(
        const std::string& method,
        const std::vector<std::string>& segs,
        const exchange& ex,
        int& status
    );
    [[nodiscard]] result<void> load();
    [[nodiscard]] result<void> save() const;
    [[nodiscard]] result<boost::json::object*> api(const std::string& id);

    settings settings_;
    std::shared_ptr<lambda::service> lambda_;
    mutable std::mutex mutex_;
    /// id → {"api": RestApi, "resources": [Resource…], "deployments": {id: {"deployment":
    /// Deployment, "resources": [snapshot]}}, "stages": {name: Stage}}, in AWS's shapes.
    boost::json::object apis_;
};

}  // namespace scar::emulator::apigw
