#include "scar/apigw/client.hpp"

#include <scar/core/aws_error.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>

#include <boost/json.hpp>

namespace scar::apigw {
namespace {

namespace json = boost::json;

std::string field(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::vector<std::string> strings(const json::object& o, std::string_view k) {
    std::vector<std::string> out;
    if (const auto* v = o.if_contains(k); v != nullptr && v->is_array())
        for (const auto& s : v->as_array())
            if (s.is_string()) out.emplace_back(s.as_string());
    return out;
}

std::int64_t seconds(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
    if (v->is_double() && v->as_double() > -9.2e18 && v->as_double() < 9.2e18)
        return static_cast<std::int64_t>(v->as_double());
    return 0;
}

rest_api api_from(const json::object& o) {
    return {
        field(o, "id"),
        field(o, "name"),
        field(o, "description"),
        field(o, "rootResourceId"),
        strings(o, "binaryMediaTypes"),
        seconds(o, "createdDate")};
}

resource resource_from(const json::object& o) {
    resource r{field(o, "id"), field(o, "parentId"), field(o, "pathPart"), field(o, "path"), {}};
    if (const auto* ms = o.if_contains("resourceMethods"); ms != nullptr && ms->is_object())
        for (const auto& [k, v] : ms->as_object()) r.methods.emplace_back(k);
    return r;
}

/// The error API Gateway answered.
error gateway_error(const http::response& r, std::string_view what) {
    return aws::json_error(r, what, "BadRequestException");
}

}  // namespace

std::string lambda_uri(std::string_view region, std::string_view function_arn) {
    return "arn:aws:apigateway:" + std::string(region) + ":lambda:path/2015-03-31/functions/" +
           std::string(function_arn) + "/invocations";
}

std::string invoke_url(
    std::string_view endpoint_url,
    std::string_view region,
    std::string_view api_id,
    std::string_view stage,
    std::string_view path
) {
    while (path.starts_with('/')) path.remove_prefix(1);
    std::string base(endpoint_url);
    while (base.ends_with('/')) base.pop_back();
    if (base.empty() || base.find(".amazonaws.com") != std::string::npos) {
        return "https://" + std::string(api_id) + ".execute-api." + std::string(region) + ".amazonaws.com/" +
               std::string(stage) + "/" + std::string(path);
    }
    return base + "/restapis/" + std::string(api_id) + "/" + std::string(stage) + "/_user_request_/" +
           std::string(path);
}

std::string execute_api_arn(
    std::string_view region,
    std::string_view account,
    std::string_view api_id,
    std::string_view rest
) {
    return "arn:aws:execute-api:" + std::string(region) + ":" + std::string(account) + ":" +
           std::string(api_id) + "/" + std::string(rest);
}

struct client::impl {
    explicit impl(endpoint e) : ep(std::move(e)) {
        http::options o;
        // AWS throttles the control plane hard (CreateRestApi: a few per minute per account).
        o.retry.retry_on = [](const http::response& r) { return r.status == 429 || r.status >= 500; };
        http_client = std::make_unique<http::client>(o);
    }

    /// Sends a signed request; the answer's JSON (null for an empty body) when its status
    /// is `expect`, else API Gateway's error.
    result<json::value> call(
        std::string method,
        const std::string& path,
        const json::value* body,
        int expect,
        std::string_view what
    ) {
        http::request req;
        req.method = std::move(method);
        req.url = ep.url + path;
        if (body != nullptr) {
            req.body = json::serialize(*body);
            req.headers.emplace_back("Content-Type", "application/json");
        }
        req.headers.emplace_back("Accept", "application/json");
        auto p = sigv4::signing_params::make(ep.credentials, ep.region, "apigateway", clock::system().now());
        if (auto s = sigv4::sign(req, p); !s) return s.error();
        auto r = http_client->send(req);
        if (!r) return r.error().wrap(what);
        if (r->status != expect) return gateway_error(*r, what);
        if (r->body.empty()) return json::value(nullptr);
        boost::system::error_code ec;
        auto doc = json::parse(r->body, ec);
        if (ec) return make_error("ServiceException", std::string(what) + ": the answer is not JSON");
        return doc;
    }

    /// Every item of a paged list (`items` + `position`).
    result<json::array> all_pages(const std::string& path, std::string_view what) {
        json::array out;
        std::string position;
        for (;;) {
            std::string url = path + (path.find('?') == std::string::npos ? "?" : "&") + "limit=500";
            if (!position.empty()) url += "&position=" + encoding::uri_encode(position);
            auto page = call("GET", url, nullptr, 200, what);
            if (!page) return page.error();
            if (!page->is_object())
                return make_error("ServiceException", std::string(what) + ": unexpected answer");
            // Lists go on the wire as "item" (SDKs rename it "items").
            const auto* items = page->as_object().if_contains("item");
            if (items == nullptr) items = page->as_object().if_contains("items");
            if (items != nullptr && items->is_array())
                for (const auto& i : items->as_array()) out.push_back(i);
            position = field(page->as_object(), "position");
            if (position.empty()) return out;
        }
    }

    endpoint ep;
    std::unique_ptr<http::client> http_client;
};

client::client(endpoint ep) : impl_(std::make_unique<impl>(std::move(ep))) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

static std::string api_path(const std::string& id) {
    return "/restapis/" + encoding::uri_encode(id);
}

result<rest_api> client::create_rest_api(const rest_api_request& req) {
    json::object body{{"name", req.name}};
    if (!req.description.empty()) body["description"] = req.description;
    if (!req.binary_media_types.empty()) {
        json::array types;
        for (const auto& t : req.binary_media_types) types.emplace_back(t);
        body["binaryMediaTypes"] = std::move(types);
    }
    if (!req.endpoint_type.empty())
        body["endpointConfiguration"] = {{"types", json::array{json::value(req.endpoint_type)}}};
    const json::value v = body;
    auto r = impl_->call("POST", "/restapis", &v, 201, "CreateRestApi " + req.name);
    if (!r) return r.error();
    if (!r->is_object()) return make_error("ServiceException", "CreateRestApi: unexpected answer");
    return api_from(r->as_object());
}

result<rest_api> client::get_rest_api(const std::string& id) {
    auto r = impl_->call("GET", api_path(id), nullptr, 200, "GetRestApi " + id);
    if (!r) return r.error();
    if (!r->is_object()) return make_error("ServiceException", "GetRestApi: unexpected answer");
    return api_from(r->as_object());
}

result<std::vector<rest_api>> client::list_rest_apis() {
    auto items = impl_->all_pages("/restapis", "GetRestApis");
    if (!items) return items.error();
    std::vector<rest_api> out;
    for (const auto& i : *items)
        if (i.is_object()) out.push_back(api_from(i.as_object()));
    return out;
}

result<void> client::delete_rest_api(const std::string& id) {
    auto r = impl_->call("DELETE", api_path(id), nullptr, 202, "DeleteRestApi " + id);
    if (!r) return r.error();
    return {};
}

result<std::vector<resource>> client::get_resources(const std::string& api_id) {
    auto items = impl_->all_pages(api_path(api_id) + "/resources", "GetResources " + api_id);
    if (!items) return items.error();
    std::vector<resource> out;
    for (const auto& i : *items)
        if (i.is_object()) out.push_back(resource_from(i.as_object()));
    return out;
}

result<resource> client::create_resource(
    const std::string& api_id,
    const std::string& parent_id,
    const std::string& path_part
) {
    const json::value body = json::object{{"pathPart", path_part}};
    auto r = impl_->call(
        "POST",
        api_path(api_id) + "/resources/" + encoding::uri_encode(parent_id),
        &body,
        201,
        "CreateResource " + path_part + " in API " + api_id
    );
    if (!r) return r.error();
    if (!r->is_object()) return make_error("ServiceException", "CreateResource: unexpected answer");
    return resource_from(r->as_object());
}

result<void> client::put_method(
    const std::string& api_id,
    const std::string& resource_id,
    const method_request& req
) {
    json::object body{{"authorizationType", req.authorization_type}};
    if (!req.request_parameters.empty()) {
        json::object params;
        for (const auto& [k, required] : req.request_parameters) params[k] = required;
        body["requestParameters"] = std::move(params);
    }
    const json::value v = body;
    auto r = impl_->call(
        "PUT",
        api_path(api_id) + "/resources/" + encoding::uri_encode(resource_id) + "/methods/" + req.http_method,
        &v,
        201,
        "PutMethod " + req.http_method + " on resource " + resource_id + " of API " + api_id
    );
    if (!r) return r.error();
    return {};
}

result<void> client::put_integration(
    const std::string& api_id,
    const std::string& resource_id,
    const std::string& http_method,
    const integration_request& req
) {
    json::object body{{"type", req.type}, {"httpMethod", req.http_method}, {"uri", req.uri}};
    if (!req.request_parameters.empty()) {
        json::object params;
        for (const auto& [k, v] : req.request_parameters) params[k] = v;
        body["requestParameters"] = std::move(params);
    }
    if (req.timeout_ms) body["timeoutInMillis"] = *req.timeout_ms;
    const json::value v = body;
    auto r = impl_->call(
        "PUT",
        api_path(api_id) + "/resources/" + encoding::uri_encode(resource_id) + "/methods/" + http_method +
            "/integration",
        &v,
        201,
        "PutIntegration " + http_method + " on resource " + resource_id + " of API " + api_id
    );
    if (!r) return r.error();
    return {};
}

result<deployment> client::create_deployment(
    const std::string& api_id,
    const std::string& stage_name,
    const std::string& description
) {
    json::object body{{"stageName", stage_name}};
    if (!description.empty()) body["description"] = description;
    const json::value v = body;
    auto r = impl_->call(
        "POST",
        api_path(api_id) + "/deployments",
        &v,
        201,
        "CreateDeployment of API " + api_id + " to stage " + stage_name
    );
    if (!r) return r.error();
    if (!r->is_object()) return make_error("ServiceException", "CreateDeployment: unexpected answer");
    return deployment{
        field(r->as_object(), "id"),
        field(r->as_object(), "description"),
        seconds(r->as_object(), "createdDate")};
}

result<std::vector<stage>> client::get_stages(const std::string& api_id) {
    auto r = impl_->call("GET", api_path(api_id) + "/stages", nullptr, 200, "GetStages of API " + api_id);
    if (!r) return r.error();
    std::vector<stage> out;
    if (!r->is_object()) return out;
    if (const auto* items = r->as_object().if_contains("item"); items != nullptr && items->is_array()) {
        for (const auto& i : items->as_array()) {
            if (!i.is_object()) continue;
            stage s{field(i.as_object(), "stageName"), field(i.as_object(), "deploymentId"), {}};
            if (const auto* vars = i.as_object().if_contains("variables");
                vars != nullptr && vars->is_object())
                for (const auto& [k, val] : vars->as_object())
                    if (val.is_string()) s.variables[std::string(k)] = std::string(val.as_string());
            out.push_back(std::move(s));
        }
    }
    return out;
}

}  // namespace scar::apigw
