#include "scar/core/aws_error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace scar::aws {
namespace {

std::string string_field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

error json_error(const http::response& r, std::string_view what, std::string_view client_fallback) {
    std::string code(r.header("x-amzn-errortype").value_or(""));
    if (const auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
    std::string message;
    boost::system::error_code ec;
    const auto doc = boost::json::parse(r.body, ec);
    if (!ec && doc.is_object()) {
        message = string_field(doc.as_object(), "message");
        if (message.empty()) message = string_field(doc.as_object(), "Message");
        if (code.empty()) code = string_field(doc.as_object(), "__type");
    }
    if (const auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
    if (code.empty()) code = r.status >= 500 ? "ServiceException" : std::string(client_fallback);
    if (message.empty()) message = "HTTP " + std::to_string(r.status);
    return make_error(code, std::string(what) + ": " + message, r.status, r.status == 429 || r.status >= 500);
}

}  // namespace scar::aws
