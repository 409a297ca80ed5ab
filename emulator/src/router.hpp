#pragma once
// Picks the service for a request (SigV4 credential scope, else the path), verifies the
// signature and hands the request over.

#include <scar/sigv4/verifier.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "service.hpp"

namespace scar::emulator {

class router {
public:
    explicit router(sigv4::verifier verifier) : verifier_(std::move(verifier)) {}

    void add(std::shared_ptr<service> s) { services_.push_back(std::move(s)); }

    /// Requests under `prefix` go to `handler` without authentication (the Lambda Runtime
    /// API, which AWS serves inside the execution environment, unsigned).
    void add_unauthenticated(std::string prefix, std::function<net::awaitable<void>(exchange&)> handler) {
        open_routes_.emplace_back(
            [prefix = std::move(prefix)](const exchange& ex) { return ex.path.starts_with(prefix); },
            std::move(handler)
        );
    }

    /// Requests `match` accepts go to `handler` without authentication (API Gateway's invoke
    /// URLs, public as on AWS). Checked in the order added, before the signed services.
    void add_unauthenticated_if(
        std::function<bool(const exchange&)> match,
        std::function<net::awaitable<void>(exchange&)> handler
    ) {
        open_routes_.emplace_back(std::move(match), std::move(handler));
    }

    /// Handles one request: the response is left on `ex`.
    net::awaitable<void> handle(exchange& ex);

    /// The service a request is meant for: the signing scope's service, else guessed from
    /// the path (S3 when nothing else fits, as on AWS's S3 endpoint).
    [[nodiscard]] std::string_view service_name_for(const exchange& ex) const;

private:
    [[nodiscard]] service* find(std::string_view name) const noexcept;

    sigv4::verifier verifier_;
    std::vector<std::shared_ptr<service>> services_;
    std::vector<
        std::pair<std::function<bool(const exchange&)>, std::function<net::awaitable<void>(exchange&)>>>
        open_routes_;
};

}  // namespace scar::emulator
