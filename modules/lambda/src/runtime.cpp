#include "scar/lambda/runtime.hpp"

#include <scar/core/http.hpp>

#include <boost/json.hpp>

#include <chrono>

#include "runtime_transport.hpp"

namespace scar::lambda {
namespace {

namespace json = boost::json;

error runtime_error(const http::response& r, std::string_view what) {
    std::string type = "RuntimeApiError";
    std::string message = r.body;
    boost::system::error_code ec;
    const auto doc = json::parse(r.body, ec);
    if (!ec && doc.is_object()) {
        if (const auto* t = doc.as_object().if_contains("errorType"); t != nullptr && t->is_string())
            type = t->as_string();
        if (const auto* m = doc.as_object().if_contains("errorMessage"); m != nullptr && m->is_string())
            message = m->as_string();
    }
    return make_error(
        type,
        std::string(what) + ": HTTP " + std::to_string(r.status) + ": " + message,
        r.status
    );
}

}  // namespace

std::int64_t next_invocation::remaining_ms() const noexcept {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()
    )
                         .count();
    return deadline_ms - now;
}

// The Runtime API goes through a transport of its own (runtime_transport.hpp), not
// scar::http::client: no time limit (`next` may block for hours), no retries, and no
// libcurl to load before the first `next`.
struct runtime_client::impl {
    explicit impl(const std::string& api) : transport(api) {}

    result<void> post(
        const std::string& path,
        std::string_view body,
        const http::header_list& headers,
        std::string_view what
    ) {
        auto r = transport.send("POST", std::string(prefix) + path, headers, body);
        if (!r) return r.error().wrap(what);
        if (r->status != 202) return runtime_error(*r, what);
        return {};
    }

    static constexpr std::string_view prefix = "/2018-06-01/runtime/";
    detail::runtime_transport transport;
};

runtime_client::runtime_client(std::string api) : impl_(std::make_unique<impl>(api)) {}
runtime_client::~runtime_client() = default;
runtime_client::runtime_client(runtime_client&&) noexcept = default;
runtime_client& runtime_client::operator=(runtime_client&&) noexcept = default;

result<next_invocation> runtime_client::next() {
    auto r = impl_->transport.send("GET", std::string(impl::prefix) + "invocation/next", {}, {});
    if (!r) return r.error().wrap("Runtime API next");
    if (r->status != 200) return runtime_error(*r, "Runtime API next");
    next_invocation inv;
    inv.request_id = std::string(r->header("lambda-runtime-aws-request-id").value_or(""));
    if (inv.request_id.empty()) {
        return make_error(
            "RuntimeApiError",
            "Runtime API next: the answer has no Lambda-Runtime-Aws-Request-Id header"
        );
    }
    inv.deadline_ms = std::atoll(std::string(r->header("lambda-runtime-deadline-ms").value_or("0")).c_str());
    inv.function_arn = std::string(r->header("lambda-runtime-invoked-function-arn").value_or(""));
    inv.trace_id = std::string(r->header("lambda-runtime-trace-id").value_or(""));
    inv.client_context = std::string(r->header("lambda-runtime-client-context").value_or(""));
    inv.payload = std::move(r->body);
    return inv;
}

result<void> runtime_client::respond(
    const std::string& request_id,
    std::string_view body,
    std::string_view content_type
) {
    return impl_->post(
        "invocation/" + request_id + "/response",
        body,
        {{"Content-Type", std::string(content_type)}},
        "Runtime API response"
    );
}

result<void> runtime_client::fail(
    const std::string& request_id,
    std::string_view error_type,
    std::string_view message
) {
    const json::object body{
        {"errorMessage", message},
        {"errorType", error_type},
        {"stackTrace", json::array{}}};
    return impl_->post(
        "invocation/" + request_id + "/error",
        json::serialize(body),
        {{"Content-Type", "application/json"},
         {"Lambda-Runtime-Function-Error-Type", std::string(error_type)}},
        "Runtime API error"
    );
}

result<void> runtime_client::init_error(std::string_view error_type, std::string_view message) {
    const json::object body{
        {"errorMessage", message},
        {"errorType", error_type},
        {"stackTrace", json::array{}}};
    return impl_->post(
        "init/error",
        json::serialize(body),
        {{"Content-Type", "application/json"},
         {"Lambda-Runtime-Function-Error-Type", std::string(error_type)}},
        "Runtime API init error"
    );
}

}  // namespace scar::lambda
