#include "aws_json.hpp"

#include <scar/core/aws_error.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>

#include <boost/json.hpp>

namespace scar::deploy::detail {

namespace json = boost::json;

struct json_service::impl {
    std::string url;
    std::string region;
    aws::credentials creds;
    std::string signing_name;
    std::string target_prefix;
    http::client http;
};

json_service::json_service(
    std::string url,
    std::string region,
    aws::credentials creds,
    std::string signing_name,
    std::string target_prefix
)
    : impl_(std::make_unique<impl>(impl{
          std::move(url),
          std::move(region),
          std::move(creds),
          std::move(signing_name),
          std::move(target_prefix),
          http::client{}})) {}

json_service::~json_service() = default;
json_service::json_service(json_service&&) noexcept = default;
json_service& json_service::operator=(json_service&&) noexcept = default;

std::string string_at(const json::value& v, std::string_view key) {
    if (!v.is_object()) return {};
    const auto* f = v.as_object().if_contains(key);
    return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
}

result<json::value> json_service::call(std::string_view operation, const json::value& request) {
    http::request req;
    req.method = "POST";
    req.url = impl_->url + "/";
    req.headers = {
        {"X-Amz-Target", impl_->target_prefix + "." + std::string(operation)},
        {"Content-Type", "application/x-amz-json-1.1"}};
    req.body = json::serialize(request);
    auto p =
        sigv4::signing_params::make(impl_->creds, impl_->region, impl_->signing_name, clock::system().now());
    if (auto s = sigv4::sign(req, p); !s) return s.error();
    auto r = impl_->http.send(req);
    if (!r) return r.error().wrap(operation);
    boost::system::error_code ec;
    auto doc = r->body.empty() ? json::value(json::object()) : json::parse(r->body, ec);
    if (r->status / 100 != 2) return aws::json_error(*r, operation, "InvalidRequest");
    if (ec) return make_error("ServiceException", std::string(operation) + ": the answer is not JSON");
    return doc;
}

}  // namespace scar::deploy::detail
