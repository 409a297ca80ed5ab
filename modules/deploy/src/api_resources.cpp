#include "api_resources.hpp"

#include <scar/apigw/client.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/deploy/api.hpp>
#include <scar/lambda/client.hpp>

#include <fstream>

namespace scar::deploy {
namespace detail {
namespace {

/// API Gateway's control plane: the emulator's endpoint locally, else AWS's (or
/// AWS_ENDPOINT_URL_API_GATEWAY).
result<apigw::client> apigw_of(const target& t) {
    std::string url = t.lambda_url;
    if (!t.local) {
        auto u = aws::endpoint_url(aws::config_sources::from_process(), "API Gateway", t.region);
        if (!u) return u.error();
        url = *u;
    }
    return apigw::client(apigw::endpoint{url, t.region, t.credentials});
}

/// The account of an ARN "arn:aws:lambda:region:account:function:name".
std::string account_of(std::string_view arn) {
    std::size_t pos = 0;
    for (int i = 0; i < 4 && pos != std::string_view::npos; ++i) pos = arn.find(':', pos + 1);
    if (pos == std::string_view::npos) return {};
    const auto start = arn.rfind(':', pos - 1) + 1;
    return std::string(arn.substr(start, pos - start));
}

constexpr std::string_view invocation_header = "X-Amz-Invocation-Type";

}  // namespace

result<std::string> create_api(const target& t, const config::function_definition& fn) {
    auto api = apigw_of(t);
    if (!api) return api.error();
    const auto& cfg = *fn.api_gateway;
    auto made = api->create_rest_api(
        {cfg.name, "API created by scar for function " + fn.name, cfg.binary_media_types, "REGIONAL"}
    );
    if (!made) return made.error();
    return made->id;
}

std::map<std::string, std::string> api_environment(
    const config::function_definition& fn,
    const std::string& api_id
) {
    return {
        {std::string(env_api_id), api_id},
        {std::string(env_api_path), fn.api_gateway->stage + "/" + fn.api_gateway->path}};
}

result<void> wire_api(
    const target& t,
    const config::function_definition& fn,
    const std::string& api_id,
    const std::string& function_arn
) {
    auto api = apigw_of(t);
    if (!api) return api.error();
    auto resources = api->get_resources(api_id);
    if (!resources) return resources.error();
    std::string root;
    for (const auto& r : *resources)
        if (r.path == "/") root = r.id;
    auto proxy = api->create_resource(api_id, root, "{proxy+}");
    if (!proxy) return proxy.error();
    // As SCAR: the caller's X-Amz-Invocation-Type header reaches Lambda (Event: asynchronous).
    const std::string method_header = "method.request.header." + std::string(invocation_header);
    apigw::integration_request integ;
    integ.uri = apigw::lambda_uri(t.region, function_arn);
    integ.request_parameters = {
        {"integration.request.header." + std::string(invocation_header), method_header}};
    for (const auto& id : {root, proxy->id}) {
        if (auto ok = api->put_method(api_id, id, {"ANY", "NONE", {{method_header, false}}}); !ok)
            return ok.error();
        if (auto ok = api->put_integration(api_id, id, "ANY", integ); !ok) return ok.error();
    }
    if (auto ok = api->create_deployment(api_id, fn.api_gateway->stage); !ok) return ok.error();
    auto fns = lambda::client(lambda::endpoint{t.lambda_url, t.region, t.credentials});
    const auto account = account_of(function_arn);
    for (const auto& [sid, rest] :
         {std::pair<std::string, std::string>{"scar-apigw-" + api_id, "*"},
          {"scar-apigw-" + api_id + "-stage", fn.api_gateway->stage + "/*/*"}}) {
        auto ok = fns.add_permission(
            fn.name,
            sid,
            "apigateway.amazonaws.com",
            apigw::execute_api_arn(t.region, account, api_id, rest)
        );
        if (!ok) return ok.error();
    }
    return {};
}

result<bool> delete_api(const target& t, const std::string& api_id) {
    auto api = apigw_of(t);
    if (!api) return api.error();
    auto gone = api->delete_rest_api(api_id);
    if (gone) return true;
    if (gone.error().code == "NotFoundException") return false;
    return gone.error();
}

std::string recorded_api(const std::map<std::string, std::string>& environment) {
    const auto it = environment.find(std::string(env_api_id));
    return it == environment.end() ? std::string() : it->second;
}

void keep_api_environment(
    const std::map<std::string, std::string>& from,
    std::map<std::string, std::string>& into
) {
    for (const auto key : {env_api_id, env_api_path})
        if (const auto it = from.find(std::string(key)); it != from.end()) into[it->first] = it->second;
}

}  // namespace detail

std::string api_url(const target& t, const std::map<std::string, std::string>& environment) {
    const auto id = environment.find(std::string(env_api_id));
    if (id == environment.end() || id->second.empty()) return {};
    std::string where = "scar/launch";
    if (const auto p = environment.find(std::string(env_api_path)); p != environment.end()) where = p->second;
    const auto slash = where.find('/');
    const std::string stage = where.substr(0, slash);
    const std::string path = slash == std::string::npos ? std::string() : where.substr(slash + 1);
    return apigw::invoke_url(t.local ? t.lambda_url : std::string(), t.region, id->second, stage, path);
}

result<invoke_result> invoke(const target& t, const invoke_request& req) {
    if (req.data_binary && req.json_data) {
        return make_error(
            "InvalidParameterValue",
            "give the body either as a file (-db) or as JSON (-jd), not both"
        );
    }
    auto fns = lambda::client(lambda::endpoint{t.lambda_url, t.region, t.credentials});
    auto fn = fns.get_function(req.name);
    if (!fn) return fn.error();
    invoke_result out;
    out.url = api_url(t, fn->environment);
    if (out.url.empty()) {
        return make_error(
            "NoApiEndpoint",
            "function '" + req.name +
                "' has no API Gateway endpoint; set `[function.api_gateway] name = \"…\"` in its definition "
                "and "
                "deploy it again (scar rm, then scar init)"
        );
    }
    http::request r;
    r.method = "GET";
    r.headers.emplace_back("Accept", "*/*");
    if (req.data_binary) {
        std::ifstream in(*req.data_binary, std::ios::binary);
        if (!in) {
            return make_error(
                "InvalidParameterValue",
                "cannot read '" + req.data_binary->string() + "'; give a readable file to -db"
            );
        }
        r.body.assign(std::istreambuf_iterator<char>(in), {});
        r.method = "POST";
        r.headers.emplace_back("Content-Type", "application/octet-stream");
    } else if (req.json_data) {
        r.body = *req.json_data;
        r.method = "POST";
        r.headers.emplace_back("Content-Type", "application/json");
    }
    if (req.asynchronous) r.headers.emplace_back(std::string(detail::invocation_header), "Event");
    r.url = out.url;
    char sep = '?';
    for (const auto& [k, v] : req.parameters) {
        r.url += sep + encoding::uri_encode(k) + "=" + encoding::uri_encode(v);
        sep = '&';
    }
    http::options o;
    o.retry.max_attempts = 1;  // an invocation is not repeated behind the caller's back
    auto got = http::client(o).send(r);
    if (!got) return got.error().wrap("calling " + out.url);
    out.status = got->status;
    out.request_id = std::string(got->header("x-amzn-requestid").value_or(""));
    out.lambda_request_id = std::string(got->header("amz-lambda-request-id").value_or(""));
    // AWS answers an asynchronous call through an AWS_PROXY integration with 502 (Lambda's
    // empty 202 is no proxy response) although the invocation was queued; SCAR counts it
    // as launched, and so does scar. The emulator answers 202.
    if (req.asynchronous && (got->status == 202 || got->status == 502)) {
        out.launched = true;
        return out;
    }
    if (got->status / 100 != 2) {
        std::string message = got->body.substr(0, 500);
        const std::string hint = got->status == 502   ? "; the function failed, see scar log -n " + req.name
                                 : got->status == 504 ? "; it took longer than API Gateway's 29 s, use -a"
                                 : got->status == 413 ? "; the body is over API Gateway's 10 MB"
                                                      : "";
        return make_error(
            "HttpError",
            out.url + " answered " + std::to_string(got->status) + ": " + message + hint,
            got->status
        );
    }
    out.body = std::move(got->body);
    return out;
}

}  // namespace scar::deploy
