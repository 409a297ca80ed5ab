#include "scar/lambda/runtime.hpp"

#include <scar/core/http.hpp>

#include <boost/json.hpp>

#include <chrono>

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

struct runtime_client::impl {
    explicit impl(std::string api) : base("http://" + std::move(api) + "/2018-06-01/runtime/") {
        http::options o;
        o.timeout = std::chrono::milliseconds(0);  // `next` may block for hours
        o.low_speed_bytes = 0;                     // both zero: no stall detection
        o.low_speed_time = std::chrono::seconds(0);
        o.retry.max_attempts = 1;
        client = std::make_unique<http::client>(o);
    }

    result<void> post(
        const std::string& path,
        std::string body,
        http::header_list headers,
        std::string_view what
    ) {
        http::request req;
        req.method = "POST";
        req.url = base + path;
        req.body = std::move(body);
        req.headers = std::move(headers);
        auto r = client->send(req);
        if (!r) return r.error().wrap(what);
        if (r->status != 202) return runtime_error(*r, what);
        return {};
    }

    std::string base;
    std::unique_ptr<http::client> client;
};

runtime_client::runtime_client(std::string api) : impl_(std::make_unique<impl>(std::move(api))) {}
runtime_client::~runtime_client() = default;
runtime_client::runtime_client(runtime_client&&) noexcept = default;
runtime_client& runtime_client::operator=(runtime_client&&) noexcept = default;

result<next_invocation> runtime_client::next() {
    http::request req;
    req.url = impl_->base + "invocation/next";
    auto r = impl_->client->send(req);
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
        std::string(body),
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
