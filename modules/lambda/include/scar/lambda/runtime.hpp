#pragma once
/// @file
/// A client of the Lambda Runtime API: the loop a custom runtime (scar-supervisor) runs
/// inside an execution environment, on AWS or on the emulator.
///
/// It speaks HTTP/1.1 itself over one kept-alive connection (not `scar::http::client`), so a
/// runtime's cold start does not load libcurl. Errors: `NetworkError` (retryable) when the
/// API cannot be reached or drops the connection; `InvalidRequest` when the address is not
/// host:port[/path]; the API's own `errorType` (e.g. `InvalidStateTransition`) with its
/// HTTP status for answers other than 200 (`next`) or 202 (the others).
///
/// @code
/// scar::lambda::runtime_client rt(std::getenv("AWS_LAMBDA_RUNTIME_API"));
/// for (;;) {
///     auto inv = rt.next().value();
///     rt.respond(inv.request_id, handle(inv.payload)).value();
/// }
/// @endcode

#include <scar/core/error.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace scar::lambda {

/// One invocation handed out by `next`.
struct next_invocation {
    std::string request_id;
    std::int64_t deadline_ms = 0;  ///< Unix epoch milliseconds
    std::string function_arn;
    std::string trace_id;
    std::string client_context;  ///< JSON text, when the invoker sent one
    std::string payload;

    /// Milliseconds left before the deadline (negative when past).
    [[nodiscard]] std::int64_t remaining_ms() const noexcept;
};

/// @par Thread safety
/// One invocation at a time, from one thread (as the Runtime API requires).
class runtime_client {
public:
    /// `api` is the value of `AWS_LAMBDA_RUNTIME_API` ("127.0.0.1:9001", or an address with
    /// a path prefix as the emulator hands out).
    explicit runtime_client(std::string api);
    ~runtime_client();
    runtime_client(runtime_client&&) noexcept;
    runtime_client& operator=(runtime_client&&) noexcept;

    /// Blocks until the next invocation (no timeout, as the API requires).
    [[nodiscard]] result<next_invocation> next();
    /// Posts the result of `request_id`.
    [[nodiscard]] result<void> respond(
        const std::string& request_id,
        std::string_view body,
        std::string_view content_type = "application/json"
    );
    /// Reports that the function failed; the invoker gets
    /// {"errorMessage","errorType","stackTrace":[]} with `X-Amz-Function-Error`.
    [[nodiscard]] result<void> fail(
        const std::string& request_id,
        std::string_view error_type,
        std::string_view message
    );
    /// Reports a failed initialisation (before the first `next`); the runtime should exit.
    [[nodiscard]] result<void> init_error(std::string_view error_type, std::string_view message);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace scar::lambda
