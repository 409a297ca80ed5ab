#include "service.hpp"

#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <span>

#include "../json_fields.hpp"
#include "../util.hpp"

namespace scar::emulator::apigw {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

/// API Gateway's request payload limit.
constexpr std::uint64_t max_request = 10ull << 20;
constexpr std::int64_t max_timeout_ms = 29'000;
constexpr std::string_view invocation_type_param = "integration.request.header.X-Amz-Invocation-Type";

error bad_request(std::string message) {
    return make_error("BadRequestException", std::move(message), 400);
}

error not_found(std::string message) {
    return make_error("NotFoundException", std::move(message), 404);
}

error conflict(std::string message) {
    return make_error("ConflictException", std::move(message), 409);
}

std::string new_id(std::size_t bytes) {
    return random_hex(bytes, false);
}

std::string uuid() {
    const auto h = random_hex(16, false);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20);
}

std::int64_t now_s() {
    return now_ms() / 1000;
}

/// The decoded, non-empty segments of a path.
result<std::vector<std::string>> split_path(std::string_view path) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i <= path.size()) {
        const auto slash = std::min(path.find('/', i), path.size());
        if (slash > i) {
            auto seg = encoding::uri_decode(path.substr(i, slash - i));
            if (!seg) return bad_request("the path '" + std::string(path) + "' has a malformed %-escape");
            out.push_back(std::move(*seg));
        }
        i = slash + 1;
    }
    return out;
}

/// The request's JSON object body ("{}" when empty).
result<json::object> body_object(const exchange& ex) {
    const std::string& text = ex.body ? *ex.body : std::string();
    if (text.empty()) return json::object{};
    boost::system::error_code ec;
    auto doc = json::parse(text, ec);
    if (ec || !doc.is_object()) return bad_request("the request body is not a JSON object");
    return std::move(doc.as_object());
}

json::array string_array(const json::value* v) {
    json::array out;
    if (v != nullptr && v->is_array())
        for (const auto& s : v->as_array())
            if (s.is_string()) out.push_back(s);
    return out;
}

/// `{"item": [...]}` (the wire name of every API Gateway list; SDKs call it `items`) with
/// AWS's `limit`/`position` paging (position = index of the next item).
json::object page(const json::array& all, const exchange& ex, std::string_view key = "item") {
    // A parameter that is not a number (or out of range) keeps its default.
    const auto number = [&ex](const char* name, std::size_t fallback) {
        std::size_t n = fallback;
        if (const auto* v = ex.param(name)) std::from_chars(v->data(), v->data() + v->size(), n);
        return n;
    };
    const std::size_t from = number("position", 0);
    const std::size_t limit = std::clamp<std::size_t>(number("limit", 500), 1, 500);
    json::array items;
    for (std::size_t i = from; i < all.size() && items.size() < limit; ++i) items.push_back(all[i]);
    json::object out{{key, std::move(items)}};
    if (from + limit < all.size()) out["position"] = std::to_string(from + limit);
    return out;
}

bool is_variable(std::string_view part) {
    return part.size() > 2 && part.front() == '{' && part.back() == '}';
}

bool is_greedy(std::string_view part) {
    return is_variable(part) && part[part.size() - 2] == '+';
}

/// A resource as GetResources answers without `embed=methods`: methods named, not detailed.
json::object resource_summary(const json::object& r) {
    json::object out = r;
    if (const auto* m = r.if_contains("resourceMethods"); m != nullptr && m->is_object()) {
        json::object names;
        for (const auto& [k, v] : m->as_object()) names[k] = json::object{};
        out["resourceMethods"] = std::move(names);
    }
    return out;
}

json::object* find_resource(json::array& resources, std::string_view id) {
    for (auto& r : resources)
        if (r.as_object().at("id").as_string() == id) return &r.as_object();
    return nullptr;
}

const char* const http_methods[] = {"ANY", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};

/// The Lambda function ARN of an AWS_PROXY integration URI
/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations`.
std::string lambda_of_uri(std::string_view uri) {
    constexpr std::string_view marker = ":lambda:path/2015-03-31/functions/";
    constexpr std::string_view tail = "/invocations";
    const auto at = uri.find(marker);
    if (!uri.starts_with("arn:aws:apigateway:") || at == std::string_view::npos || !uri.ends_with(tail))
        return {};
    const auto start = at + marker.size();
    if (uri.size() <= start + tail.size()) return {};
    return std::string(uri.substr(start, uri.size() - tail.size() - start));
}

/// Whether `type` (a Content-Type or Accept media type, parameters allowed) matches
/// `pattern` (a binaryMediaTypes entry, `*` standing for a type or subtype).
bool media_matches(std::string_view pattern, std::string_view type) {
    type = encoding::trim(type.substr(0, type.find(';')));
    const auto ps = pattern.find('/');
    const auto ts = type.find('/');
    if (ps == std::string_view::npos || ts == std::string_view::npos) return false;
    const auto part_matches = [](std::string_view p, std::string_view t) {
        return p == "*" || encoding::iequals(p, t);
    };
    return part_matches(pattern.substr(0, ps), type.substr(0, ts)) &&
           part_matches(pattern.substr(ps + 1), type.substr(ts + 1));
}

bool any_media_matches(const std::vector<std::string>& patterns, std::string_view type) {
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
        return media_matches(p, type);
    });
}

/// What the data plane needs of a matched route, copied out of the state.
struct route {
    std::string api_id;
    std::string stage;
    std::string deployment_id;
    std::string resource_id;
    std::string resource_path;
    json::value path_parameters;  ///< null or {name: value}
    json::value stage_variables;  ///< null or {name: value}
    std::vector<std::string> binary_types;
    std::string function_arn;
    std::string invocation_type_source;  ///< the integration's X-Amz-Invocation-Type mapping
    std::int64_t timeout_ms = max_timeout_ms;
};

/// The method of `r` serving `verb` (its own, else ANY), or null.
const json::object* method_of(const json::object& r, std::string_view verb) {
    const auto* ms = r.if_contains("resourceMethods");
    if (ms == nullptr || !ms->is_object()) return nullptr;
    if (const auto* m = ms->as_object().if_contains(verb)) return &m->as_object();
    if (const auto* m = ms->as_object().if_contains("ANY")) return &m->as_object();
    return nullptr;
}

/// Finds the resource under `parent` serving `segs` with `verb`: a literal path part first,
/// then a `{name}` variable, then a greedy `{name+}` (which takes the rest, at least one
/// segment). Variables are recorded in `params`.
const json::object* match_route(
    const json::array& resources,
    const json::object& parent,
    std::span<const std::string> segs,
    std::string_view verb,
    json::object& params
) {
    if (segs.empty()) return method_of(parent, verb) != nullptr ? &parent : nullptr;
    const std::string_view parent_id = parent.at("id").as_string();
    std::vector<const json::object*> literal;
    std::vector<const json::object*> variable;
    std::vector<const json::object*> greedy;
    for (const auto& v : resources) {
        const auto& r = v.as_object();
        const auto* pid = r.if_contains("parentId");
        if (pid == nullptr || pid->as_string() != parent_id) continue;
        const std::string_view part = r.at("pathPart").as_string();
        if (is_greedy(part)) {
            greedy.push_back(&r);
        } else if (is_variable(part)) {
            variable.push_back(&r);
        } else if (part == segs[0]) {
            literal.push_back(&r);
        }
    }
    for (const auto* r : literal)
        if (const auto* hit = match_route(resources, *r, segs.subspan(1), verb, params)) return hit;
    for (const auto* r : variable) {
        const std::string_view part = r->at("pathPart").as_string();
        const std::string name(part.substr(1, part.size() - 2));
        params[name] = segs[0];
        if (const auto* hit = match_route(resources, *r, segs.subspan(1), verb, params)) return hit;
        params.erase(name);
    }
    for (const auto* r : greedy) {
        if (method_of(*r, verb) == nullptr) continue;
        const std::string_view part = r->at("pathPart").as_string();
        std::string rest;
        for (const auto& s : segs) rest += (rest.empty() ? "" : "/") + s;
        params[std::string(part.substr(1, part.size() - 3))] = rest;
        return r;
    }
    return nullptr;
}

/// "23/Feb/2019:11:36:11 +0000"
std::string request_time(std::int64_t ms) {
    const std::time_t t = ms / 1000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    return buf;
}

/// The function's proxy response, as API Gateway maps it to HTTP.
struct proxy_reply {
    int status = 200;
    http::header_list headers;
    std::string body;
    bool base64 = false;
};

std::string header_value(const json::value& v) {
    if (v.is_string()) return std::string(v.as_string());
    if (v.is_null()) return {};
    return json::serialize(v);
}

/// Validates and reads a proxy response; the error says what is malformed (API Gateway
/// answers 502 and logs "Malformed Lambda proxy response").
result<proxy_reply> parse_proxy(std::string_view payload) {
    const auto malformed = [](std::string why) {
        return make_error("MalformedProxyResponse", "Malformed Lambda proxy response: " + why, 502);
    };
    boost::system::error_code ec;
    const auto doc = json::parse(payload, ec);
    if (ec || !doc.is_object()) return malformed("not a JSON object");
    const auto& o = doc.as_object();
    for (const auto& [k, v] : o) {
        if (k != "statusCode" && k != "headers" && k != "multiValueHeaders" && k != "body" &&
            k != "isBase64Encoded") {
            return malformed(
                "unknown key '" + std::string(k) +
                "'; only statusCode, headers, multiValueHeaders, body and isBase64Encoded are allowed"
            );
        }
    }
    proxy_reply out;
    const auto* code = o.if_contains("statusCode");
    if (code == nullptr) return malformed("no statusCode");
    // A number or a string of digits; anything outside 100–599 (however large) is out of range.
    std::int64_t status = -1;
    if (code->is_int64()) {
        status = code->as_int64();
    } else if (code->is_uint64()) {
        status = 1000;
    } else if (code->is_string()) {
        const auto& text = code->as_string();
        const auto [end, range] = std::from_chars(text.data(), text.data() + text.size(), status);
        if (text.empty() || end != text.data() + text.size()) return malformed("statusCode is not a number");
        if (range == std::errc::result_out_of_range) status = 1000;
    } else {
        return malformed("statusCode is not a number");
    }
    if (status < 100 || status > 599) return malformed("statusCode out of range");
    out.status = static_cast<int>(status);
    // multiValueHeaders first: a name in both keeps its multi-value casing, values joined.
    std::map<std::string, std::pair<std::string, std::vector<std::string>>> merged;
    std::vector<std::string> order;
    const auto add = [&](std::string_view name, std::string value) {
        const auto key = encoding::to_lower(name);
        auto [it, fresh] = merged.try_emplace(key, std::string(name), std::vector<std::string>{});
        if (fresh) order.push_back(key);
        it->second.second.push_back(std::move(value));
    };
    if (const auto* mv = o.if_contains("multiValueHeaders"); mv != nullptr && !mv->is_null()) {
        if (!mv->is_object()) return malformed("multiValueHeaders is not an object");
        for (const auto& [k, v] : mv->as_object()) {
            if (!v.is_array()) return malformed("multiValueHeaders." + std::string(k) + " is not a list");
            for (const auto& e : v.as_array()) add(k, header_value(e));
        }
    }
    std::map<std::string, bool> joined;
    if (const auto* hs = o.if_contains("headers"); hs != nullptr && !hs->is_null()) {
        if (!hs->is_object()) return malformed("headers is not an object");
        for (const auto& [k, v] : hs->as_object()) {
            if (v.is_object() || v.is_array())
                return malformed("headers." + std::string(k) + " is not a string");
            if (merged.contains(encoding::to_lower(k))) joined[encoding::to_lower(k)] = true;
            add(k, header_value(v));
        }
    }
    for (const auto& key : order) {
        const auto& [name, values] = merged.at(key);
        if (joined.contains(key)) {
            std::string all;
            for (const auto& v : values) all += (all.empty() ? "" : ", ") + v;
            out.headers.emplace_back(name, std::move(all));
        } else {
            for (const auto& v : values) out.headers.emplace_back(name, v);
        }
    }
    if (const auto* b = o.if_contains("body"); b != nullptr && !b->is_null()) {
        if (!b->is_string()) return malformed("body is not a string");
        out.body = std::string(b->as_string());
    }
    if (const auto* b = o.if_contains("isBase64Encoded"); b != nullptr && !b->is_null()) {
        if (!b->is_bool()) return malformed("isBase64Encoded is not a boolean");
        out.base64 = b->as_bool();
    }
    return out;
}

/// API Gateway's own answers on the data plane: `{"message": …}`.
void gateway_answer(exchange& ex, int status, std::string_view type, std::string_view message) {
    ex.status = status;
    ex.set_header("Content-Type", "application/json");
    ex.set_header("x-amzn-ErrorType", std::string(type));
    ex.response_body = json::serialize(json::object{{"message", message}});
}

/// Response headers API Gateway does not pass through under their own name.
bool remapped(std::string_view name) {
    static constexpr std::string_view names[] = {
        "authorization",
        "connection",
        "content-length",
        "content-md5",
        "date",
        "max-forwards",
        "server",
        "transfer-encoding",
        "user-agent",
        "www-authenticate"};
    return std::any_of(std::begin(names), std::end(names), [&](std::string_view n) {
        return encoding::iequals(n, name);
    });
}

/// A sync invocation running on its own, so the integration timeout can give up on it
/// while the function goes on (as on AWS).
struct pending_call {
    explicit pending_call(const net::any_io_executor& ex) : done(ex, 1) {}
    net::experimental::concurrent_channel<void(boost::system::error_code)> done;
    result<lambda::outcome> value = lambda::outcome{};
};

}  // namespace

result<std::shared_ptr<service>> service::open(settings s, std::shared_ptr<lambda::service> lambda) {
    auto svc = std::make_shared<service>(std::move(s), std::move(lambda));
    if (auto ok = svc->load(); !ok) return ok.error();
    return svc;
}

result<void> service::load() {
    std::error_code ec;
    fs::create_directories(settings_.root, ec);
    if (ec) {
        return make_error(
            "DataDirError",
            "cannot create '" + settings_.root.string() + "': " + ec.message() +
                "; choose a writable --data-dir"
        );
    }
    std::ifstream in(settings_.root / "apis.json");
    if (!in) return {};
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::system::error_code jec;
    auto doc = json::parse(text, jec);
    if (jec || !doc.is_object()) {
        return make_error(
            "DataDirError",
            "'" + (settings_.root / "apis.json").string() +
                "' is not the JSON the emulator wrote; move it away to start without REST APIs"
        );
    }
    apis_ = std::move(doc.as_object());
    return {};
}

result<void> service::save() const {
    return replace_file(settings_.root / "apis.json", json::serialize(apis_), "InternalError");
}

result<json::object*> service::api(const std::string& id) {
    auto* a = apis_.if_contains(id);
    if (a == nullptr) return not_found("Invalid API identifier specified " + settings_.account + ":" + id);
    return &a->as_object();
}

void service::write_error(exchange& ex, const error& e) const {
    ex.status = e.http_status != 0 ? e.http_status : 500;
    ex.set_header("Content-Type", "application/json");
    ex.set_header("x-amzn-ErrorType", e.code);
    ex.set_header("x-amzn-RequestId", ex.request_id);
    ex.response_body = json::serialize(json::object{{"message", e.message}});
}

net::awaitable<void> service::handle(exchange& ex, const sigv4::verified_request&) {
    auto segs = split_path(ex.path);
    if (!segs) {
        write_error(ex, segs.error());
        co_return;
    }
    int status = 200;
    result<std::string> out = std::string();
    {
        const std::lock_guard lock(mutex_);
        out = dispatch(ex.method, *segs, ex, status);
    }
    if (!out) {
        write_error(ex, out.error());
        co_return;
    }
    ex.status = status;
    ex.set_header("x-amzn-RequestId", ex.request_id);
    if (!out->empty()) ex.set_header("Content-Type", "application/json");
    ex.response_body = std::move(*out);
}

result<std::string> service::dispatch(
    const std::string& method,
    const std::vector<std::string>& segs,
    const exchange& ex,
    int& status
) {
    const auto unknown = [&]() -> error {
        return make_error(
            "UnknownOperationException",
            "the emulator's API Gateway does not serve " + method + " " + ex.path +
                "; it serves REST APIs, resources, methods, integrations, deployments and stages "
                "(docs/api-gateway.md)",
            404
        );
    };
    if (segs.empty() || segs[0] != "restapis") return unknown();
    auto in = body_object(ex);
    if (!in) return in.error();
    const std::size_t n = segs.size();

    // /restapis
    if (n == 1) {
        if (method == "GET") {
            json::array all;
            for (const auto& [id, a] : apis_) all.push_back(a.as_object().at("api"));
            std::sort(all.begin(), all.end(), [](const json::value& x, const json::value& y) {
                return x.at("createdDate").to_number<std::int64_t>() <
                           y.at("createdDate").to_number<std::int64_t>() ||
                       (x.at("createdDate") == y.at("createdDate") &&
                        x.at("id").as_string() < y.at("id").as_string());
            });
            return json::serialize(page(all, ex));
        }
        if (method != "POST") return unknown();
        const auto name = json_string(*in, "name");
        if (name.empty())
            return bad_request("Invalid REST API name specified: give the API a non-empty name");
        std::string id = new_id(5);
        while (apis_.contains(id)) id = new_id(5);
        const std::string root_id = new_id(5);
        json::object a{
            {"id", id},
            {"name", name},
            {"createdDate", now_s()},
            {"apiKeySource", in->contains("apiKeySource") ? in->at("apiKeySource") : json::value("HEADER")},
            {"endpointConfiguration", {{"types", json::array{"EDGE"}}}},
            {"disableExecuteApiEndpoint", false},
            {"rootResourceId", root_id}};
        if (const auto d = json_string(*in, "description"); !d.empty()) a["description"] = d;
        if (const auto v = json_string(*in, "version"); !v.empty()) a["version"] = v;
        if (auto types = string_array(in->if_contains("binaryMediaTypes")); !types.empty())
            a["binaryMediaTypes"] = std::move(types);
        if (const auto* ec = in->if_contains("endpointConfiguration"); ec != nullptr && ec->is_object()) {
            if (auto types = string_array(ec->as_object().if_contains("types")); !types.empty())
                a["endpointConfiguration"] = json::object{{"types", std::move(types)}};
        }
        if (const auto* t = in->if_contains("tags"); t != nullptr && t->is_object()) a["tags"] = *t;
        if (const auto* d = in->if_contains("disableExecuteApiEndpoint"); d != nullptr && d->is_bool())
            a["disableExecuteApiEndpoint"] = *d;
        json::array resources{json::object{{"id", root_id}, {"path", "/"}}};
        apis_[id] = json::object{
            {"api", a},
            {"resources", std::move(resources)},
            {"deployments", json::object{}},
            {"stages", json::object{}}};
        if (auto ok = save(); !ok) {
            apis_.erase(id);
            return ok.error();
        }
        status = 201;
        return json::serialize(a);
    }

    auto found = api(segs[1]);
    if (!found) return found.error();
    json::object& state = **found;
    json::object& rest_api = state.at("api").as_object();
    json::array& resources = state.at("resources").as_array();
    json::object& deployments = state.at("deployments").as_object();
    json::object& stages = state.at("stages").as_object();
    const auto saved = [&](std::string body, int code) -> result<std::string> {
        if (auto ok = save(); !ok) return ok.error();
        status = code;
        return body;
    };

    // /restapis/{id}
    if (n == 2) {
        if (method == "GET") return json::serialize(rest_api);
        if (method == "DELETE") {
            apis_.erase(segs[1]);
            return saved({}, 202);
        }
        if (method == "PATCH") {
            // UpdateRestApi: the patch operations of the fields the emulator keeps.
            const auto* ops = in->if_contains("patchOperations");
            if (ops == nullptr || !ops->is_array()) return bad_request("patchOperations must be a list");
            for (const auto& o : ops->as_array()) {
                if (!o.is_object()) return bad_request("each patch operation must be an object");
                const auto op = json_string(o.as_object(), "op");
                const auto path = json_string(o.as_object(), "path");
                const auto value = json_string(o.as_object(), "value");
                if (path.starts_with("/binaryMediaTypes/") && (op == "add" || op == "remove")) {
                    // "/binaryMediaTypes/image~1png": '/' is written "~1" (JSON pointer).
                    std::string type = path.substr(18);
                    for (auto at = type.find("~1"); at != std::string::npos; at = type.find("~1"))
                        type.replace(at, 2, "/");
                    auto types = string_array(rest_api.if_contains("binaryMediaTypes"));
                    types.erase(std::remove(types.begin(), types.end(), json::value(type)), types.end());
                    if (op == "add") types.emplace_back(type);
                    if (types.empty()) {
                        rest_api.erase("binaryMediaTypes");
                    } else {
                        rest_api["binaryMediaTypes"] = std::move(types);
                    }
                } else if (op == "replace" && (path == "/name" || path == "/description")) {
                    rest_api[path.substr(1)] = value;
                } else {
                    return bad_request(
                        "the emulator's UpdateRestApi supports add/remove /binaryMediaTypes/<type> and "
                        "replace /name and /description, not " +
                        op + " " + path
                    );
                }
            }
            return saved(json::serialize(rest_api), 200);
        }
        return unknown();
    }

    const std::string& kind = segs[2];
    if (kind == "resources") {
        if (n == 3) {
            if (method != "GET") return unknown();
            const auto* embed = ex.param("embed");
            const bool full = embed != nullptr && embed->find("methods") != std::string::npos;
            json::array all;
            for (const auto& r : resources)
                all.push_back(full ? r.as_object() : resource_summary(r.as_object()));
            return json::serialize(page(all, ex));
        }
        json::object* res = find_resource(resources, segs[3]);
        if (res == nullptr) return not_found("Invalid Resource identifier specified");
        if (n == 4) {
            if (method == "GET") return json::serialize(*res);
            if (method == "DELETE") {
                if (res->at("path") == "/") return bad_request("Cannot delete the root resource of an API");
                // The resource and everything under it.
                const std::string prefix = std::string(res->at("path").as_string()) + "/";
                const std::string path(res->at("path").as_string());
                const auto gone =
                    std::remove_if(resources.begin(), resources.end(), [&](const json::value& r) {
                        const std::string_view p = r.at("path").as_string();
                        return p == path || p.starts_with(prefix);
                    });
                resources.erase(gone, resources.end());
                return saved({}, 202);
            }
            if (method != "POST") return unknown();
            // CreateResource under `res`.
            const auto part = json_string(*in, "pathPart");
            static const std::regex valid(R"(^(\{[A-Za-z0-9._-]+\+?\}|[A-Za-z0-9._:@~$-]+)$)");
            if (!std::regex_match(part, valid)) {
                return bad_request(
                    "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the "
                    "end and an optional plus sign before the closing brace: '" +
                    part + "'"
                );
            }
            const std::string parent_path(res->at("path").as_string());
            const auto parent_part = json_string(*res, "pathPart");
            if (is_greedy(parent_part)) {
                return bad_request(
                    "Cannot create a child of a resource with a greedy path variable: " + parent_part
                );
            }
            for (const auto& r : resources) {
                const auto& o = r.as_object();
                if (json_string(o, "parentId") != segs[3]) continue;
                const auto sibling = json_string(o, "pathPart");
                if (sibling == part)
                    return conflict("Another resource with the same parent already has this name: " + part);
                if (is_variable(sibling) && is_variable(part)) {
                    return bad_request(
                        "A sibling (" + sibling +
                        ") of this resource already has a variable path part -- only one is allowed"
                    );
                }
            }
            json::object r{
                {"id", new_id(5)},
                {"parentId", segs[3]},
                {"pathPart", part},
                {"path", (parent_path == "/" ? "" : parent_path) + "/" + part}};
            resources.push_back(r);
            return saved(json::serialize(r), 201);
        }
        if (segs[4] != "methods" || n < 6) return unknown();
        const std::string& verb = segs[5];
        if (std::find(std::begin(http_methods), std::end(http_methods), verb) == std::end(http_methods)) {
            return bad_request(
                "Invalid HttpMethod specified: '" + verb +
                "'; use ANY, GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS"
            );
        }
        if (!res->contains("resourceMethods")) (*res)["resourceMethods"] = json::object{};
        json::object& methods = res->at("resourceMethods").as_object();
        json::value* m = methods.if_contains(verb);
        if (n == 6) {
            if (method == "PUT") {
                if (m != nullptr) return conflict("Method already exists for this resource");
                const auto auth = json_string(*in, "authorizationType");
                if (auth.empty()) {
                    return bad_request(
                        "Invalid authorizationType specified: set it, e.g. NONE (the emulator does not "
                        "check authorizers)"
                    );
                }
                json::object md{
                    {"httpMethod", verb},
                    {"authorizationType", auth},
                    {"apiKeyRequired", in->contains("apiKeyRequired") ? in->at("apiKeyRequired") : false}};
                if (const auto* p = in->if_contains("requestParameters"); p != nullptr && p->is_object())
                    md["requestParameters"] = *p;
                methods[verb] = md;
                return saved(json::serialize(md), 201);
            }
            if (m == nullptr) return not_found("Invalid Method identifier specified");
            if (method == "GET") return json::serialize(*m);
            if (method == "DELETE") {
                methods.erase(verb);
                return saved({}, 204);
            }
            return unknown();
        }
        if (segs[6] != "integration" || n != 7) return unknown();
        if (m == nullptr) return not_found("Invalid Method identifier specified");
        json::object& md = m->as_object();
        if (method == "PUT") {
            const auto type = json_string(*in, "type");
            if (type != "AWS_PROXY") {
                return bad_request(
                    "the emulator's API Gateway serves AWS_PROXY integrations to Lambda functions only, not "
                    "'" +
                    type + "'; use --type AWS_PROXY"
                );
            }
            const auto verb_out = json_string(*in, "httpMethod");
            if (verb_out.empty()) return bad_request("Enumeration value for HttpMethod must be non-empty");
            const auto uri = json_string(*in, "uri");
            if (lambda_of_uri(uri).empty()) {
                return bad_request(
                    "Invalid ARN specified in the request: '" + uri +
                    "'; an AWS_PROXY integration to Lambda needs "
                    "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations"
                );
            }
            std::int64_t timeout = max_timeout_ms;
            if (const auto t = json_int(*in, "timeoutInMillis")) {
                if (*t < 50 || *t > max_timeout_ms)
                    return bad_request("Timeout should be between 50 ms and 29000 ms");
                timeout = *t;
            }
            json::object integ{
                {"type", type},
                {"httpMethod", verb_out},
                {"uri", uri},
                {"passthroughBehavior",
                 in->contains("passthroughBehavior") ? in->at("passthroughBehavior")
                                                     : json::value("WHEN_NO_MATCH")},
                {"timeoutInMillis", timeout},
                {"cacheNamespace", segs[3]},
                {"cacheKeyParameters", json::array{}}};
            if (const auto* p = in->if_contains("requestParameters"); p != nullptr && p->is_object())
                integ["requestParameters"] = *p;
            if (const auto c = json_string(*in, "contentHandling"); !c.empty()) integ["contentHandling"] = c;
            md["methodIntegration"] = integ;
            return saved(json::serialize(integ), 201);
        }
        const auto* integ = md.if_contains("methodIntegration");
        if (integ == nullptr) return not_found("Invalid Integration identifier specified");
        if (method == "GET") return json::serialize(*integ);
        if (method == "DELETE") {
            md.erase("methodIntegration");
            return saved({}, 204);
        }
        return unknown();
    }

    if (kind == "deployments") {
        if (n == 3 && method == "GET") {
            json::array all;
            for (const auto& [id, d] : deployments) all.push_back(d.at("deployment"));
            return json::serialize(page(all, ex));
        }
        if (n == 3 && method == "POST") {
            bool any_method = false;
            for (const auto& r : resources) {
                const auto* ms = r.as_object().if_contains("resourceMethods");
                if (ms == nullptr) continue;
                for (const auto& [verb, md] : ms->as_object()) {
                    any_method = true;
                    if (!md.as_object().contains("methodIntegration")) {
                        return bad_request(
                            "No integration defined for method " + std::string(verb) + " " +
                            std::string(r.at("path").as_string()) +
                            "; put one (PutIntegration) before deploying"
                        );
                    }
                }
            }
            if (!any_method) return bad_request("The REST API doesn't contain any methods");
            const std::string id = new_id(3);
            json::object d{{"id", id}, {"createdDate", now_s()}};
            if (const auto desc = json_string(*in, "description"); !desc.empty()) d["description"] = desc;
            deployments[id] = json::object{{"deployment", d}, {"resources", resources}};
            if (const auto stage_name = json_string(*in, "stageName"); !stage_name.empty()) {
                json::object& st = stages[stage_name].emplace_object();
                if (st.empty()) {
                    st = json::object{
                        {"stageName", stage_name},
                        {"createdDate", now_s()},
                        {"cacheClusterEnabled", false},
                        {"cacheClusterStatus", "NOT_AVAILABLE"},
                        {"methodSettings", json::object{}},
                        {"tracingEnabled", false}};
                }
                st["deploymentId"] = id;
                st["lastUpdatedDate"] = now_s();
                if (const auto sd = json_string(*in, "stageDescription"); !sd.empty()) st["description"] = sd;
                if (const auto* v = in->if_contains("variables"); v != nullptr && v->is_object())
                    st["variables"] = *v;
            }
            return saved(json::serialize(d), 201);
        }
        if (n == 4) {
            auto* d = deployments.if_contains(segs[3]);
            if (d == nullptr) return not_found("Invalid Deployment identifier specified");
            if (method == "GET") return json::serialize(d->at("deployment"));
            if (method == "DELETE") {
                for (const auto& [name, st] : stages) {
                    if (st.at("deploymentId").as_string() == segs[3]) {
                        return bad_request(
                            "Active stages pointing to this deployment must be moved or deleted (stage " +
                            std::string(name) + ")"
                        );
                    }
                }
                deployments.erase(segs[3]);
                return saved({}, 202);
            }
        }
        return unknown();
    }

    if (kind == "stages") {
        if (n == 3 && method == "GET") {
            json::array all;
            for (const auto& [name, st] : stages) all.push_back(st);
            return json::serialize(json::object{{"item", all}});
        }
        if (n == 3 && method == "POST") {
            const auto stage_name = json_string(*in, "stageName");
            const auto deployment = json_string(*in, "deploymentId");
            if (stage_name.empty()) return bad_request("Stage name must be non-empty");
            if (!deployments.contains(deployment))
                return not_found("Invalid Deployment identifier specified");
            if (stages.contains(stage_name)) return conflict("Stage already exists");
            json::object st{
                {"stageName", stage_name},
                {"deploymentId", deployment},
                {"createdDate", now_s()},
                {"lastUpdatedDate", now_s()},
                {"cacheClusterEnabled", false},
                {"cacheClusterStatus", "NOT_AVAILABLE"},
                {"methodSettings", json::object{}},
                {"tracingEnabled", false}};
            if (const auto d = json_string(*in, "description"); !d.empty()) st["description"] = d;
            if (const auto* v = in->if_contains("variables"); v != nullptr && v->is_object())
                st["variables"] = *v;
            stages[stage_name] = st;
            return saved(json::serialize(st), 201);
        }
        if (n == 4) {
            auto* st = stages.if_contains(segs[3]);
            if (st == nullptr) return not_found("Invalid Stage identifier specified");
            if (method == "GET") return json::serialize(*st);
            if (method == "DELETE") {
                stages.erase(segs[3]);
                return saved({}, 202);
            }
        }
        return unknown();
    }
    return unknown();
}

bool service::is_invoke(const exchange& ex) {
    if (const auto host = ex.header("host");
        host && encoding::to_lower(*host).find(".execute-api.") != std::string::npos)
        return true;
    const std::string_view p = ex.path;
    if (!p.starts_with("/restapis/")) return false;
    std::size_t pos = 10;
    for (int i = 0; i < 2; ++i) {
        pos = p.find('/', pos);
        if (pos == std::string_view::npos) return false;
        ++pos;
    }
    const auto rest = p.substr(pos);
    return rest == "_user_request_" || rest.starts_with("_user_request_/");
}

net::awaitable<void> service::handle_invoke(exchange& ex) {
    using namespace net::experimental::awaitable_operators;
    const std::int64_t started = now_ms();
    const std::string request_id = uuid();
    ex.set_header("x-amzn-RequestId", request_id);
    ex.set_header("x-amz-apigw-id", random_hex(8, false));

    // Which API, stage and path: /restapis/{id}/{stage}/_user_request_/{path} or
    // {id}.execute-api.{host}/{stage}/{path}.
    route rt;
    std::string raw_path;
    std::string domain;
    const std::string host = encoding::to_lower(ex.header("host").value_or(""));
    if (const auto at = host.find(".execute-api.");
        at != std::string::npos && !ex.path.starts_with("/restapis/")) {
        rt.api_id = host.substr(0, at);
        domain = host.substr(0, host.rfind(':') > at ? host.rfind(':') : host.size());
        const std::string_view p = std::string_view(ex.path).substr(1);
        const auto slash = p.find('/');
        rt.stage = std::string(p.substr(0, slash));
        raw_path = slash == std::string_view::npos ? std::string() : std::string(p.substr(slash));
    } else {
        const std::string_view p = std::string_view(ex.path).substr(10);
        const auto s1 = p.find('/');
        const auto s2 = p.find('/', s1 + 1);
        rt.api_id = std::string(p.substr(0, s1));
        rt.stage = std::string(p.substr(s1 + 1, s2 - s1 - 1));
        raw_path = std::string(p.substr(s2 + 1 + std::string_view("_user_request_").size()));
        domain = rt.api_id + ".execute-api.localhost";
    }
    if (raw_path.empty()) raw_path = "/";
    auto segs = split_path(raw_path);
    const auto user_path = encoding::uri_decode(raw_path);
    if (!segs || !user_path) {
        gateway_answer(ex, 400, "BadRequestException", "Bad Request");
        co_return;
    }
    if (auto stage = encoding::uri_decode(rt.stage)) rt.stage = *stage;

    {
        const std::lock_guard lock(mutex_);
        const auto* a = apis_.if_contains(rt.api_id);
        if (a == nullptr) {
            log::info("apigateway: no REST API '", rt.api_id, "' (", ex.method, " ", ex.path, ")");
            gateway_answer(ex, 404, "NotFoundException", "Not Found");
            co_return;
        }
        const auto& state = a->as_object();
        const auto* st = state.at("stages").as_object().if_contains(rt.stage);
        if (st == nullptr) {
            log::info(
                "apigateway: REST API ",
                rt.api_id,
                " has no stage '",
                rt.stage,
                "'; deploy to it first"
            );
            gateway_answer(ex, 403, "ForbiddenException", "Forbidden");
            co_return;
        }
        rt.deployment_id = json_string(st->as_object(), "deploymentId");
        const auto* vars = st->as_object().if_contains("variables");
        rt.stage_variables =
            vars != nullptr && vars->is_object() && !vars->as_object().empty() ? *vars : nullptr;
        const auto& snapshot =
            state.at("deployments").at(rt.deployment_id).as_object().at("resources").as_array();
        const json::object* root = nullptr;
        for (const auto& r : snapshot)
            if (r.at("path") == "/") root = &r.as_object();
        json::object params;
        const json::object* hit =
            root == nullptr ? nullptr : match_route(snapshot, *root, *segs, ex.method, params);
        if (hit == nullptr) {
            log::info(
                "apigateway: ",
                ex.method,
                " ",
                *user_path,
                " matches no resource and method of stage ",
                rt.stage,
                " of REST API ",
                rt.api_id
            );
            gateway_answer(ex, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
            co_return;
        }
        rt.resource_id = json_string(*hit, "id");
        rt.resource_path = json_string(*hit, "path");
        rt.path_parameters = params.empty() ? json::value(nullptr) : json::value(std::move(params));
        const auto& integ = method_of(*hit, ex.method)->at("methodIntegration").as_object();
        rt.function_arn = lambda_of_uri(json_string(integ, "uri"));
        rt.timeout_ms = json_int(integ, "timeoutInMillis").value_or(max_timeout_ms);
        if (const auto* rp = integ.if_contains("requestParameters"); rp != nullptr && rp->is_object())
            rt.invocation_type_source = json_string(rp->as_object(), invocation_type_param);
        for (const auto& t : string_array(state.at("api").as_object().if_contains("binaryMediaTypes")))
            rt.binary_types.emplace_back(t.as_string());
    }

    auto body = co_await ex.read_body(max_request);
    if (!body) {
        if (body.error().code == "EntityTooLarge") {
            gateway_answer(ex, 413, "RequestTooLargeException", "Request Too Long");
        } else {
            gateway_answer(ex, 400, "BadRequestException", body.error().message);
        }
        co_return;
    }

    // The proxy event, payload format 1.0.
    json::object headers;
    json::object multi_headers;
    for (const auto& [name, value] : ex.headers) {
        headers[name] = value;  // the last of repeated headers, as on AWS
        auto& all = multi_headers[name];
        if (!all.is_array()) all.emplace_array();
        all.as_array().emplace_back(value);
    }
    const auto port = host.rfind(':') != std::string::npos && host.rfind(':') > host.rfind(']')
                          ? host.substr(host.rfind(':') + 1)
                          : std::string("80");
    const std::string trace = "Root=1-" + random_hex(4, false) + "-" + random_hex(12, false);
    for (const auto& [name, value] :
         {std::pair<std::string, std::string>{"X-Forwarded-For", ex.remote_address},
          {"X-Forwarded-Port", port},
          {"X-Forwarded-Proto", "http"},
          {"X-Amzn-Trace-Id", trace}}) {
        if (http::find_header(ex.headers, name)) continue;
        headers[name] = value;
        multi_headers[name] = json::array{json::value(value)};
    }
    json::value query = nullptr;
    json::value multi_query = nullptr;
    if (!ex.params.empty()) {
        json::object q;
        json::object mq;
        for (const auto& [k, v] : ex.params) {
            q[k] = v;
            if (!mq.contains(k)) mq[k] = json::array{};
            mq[k].as_array().emplace_back(v);
        }
        query = std::move(q);
        multi_query = std::move(mq);
    }
    const std::string content_type(ex.header("content-type").value_or(""));
    const bool binary_in = !body->empty() && any_media_matches(rt.binary_types, content_type);
    json::value event_body = nullptr;
    if (!body->empty()) event_body = binary_in ? encoding::base64_encode(*body) : *body;
    const std::string user_agent(ex.header("user-agent").value_or(""));
    const json::object identity{
        {"accessKey", nullptr},
        {"accountId", nullptr},
        {"caller", nullptr},
        {"cognitoAuthenticationProvider", nullptr},
        {"cognitoAuthenticationType", nullptr},
        {"cognitoIdentityId", nullptr},
        {"cognitoIdentityPoolId", nullptr},
        {"principalOrgId", nullptr},
        {"sourceIp", ex.remote_address},
        {"user", nullptr},
        {"userAgent", user_agent},
        {"userArn", nullptr}};
    const std::string context_path = "/" + rt.stage + (*user_path == "/" ? "/" : *user_path);
    const json::object event{
        {"resource", rt.resource_path},
        {"path", *user_path},
        {"httpMethod", ex.method},
        {"headers", headers},
        {"multiValueHeaders", multi_headers},
        {"queryStringParameters", query},
        {"multiValueQueryStringParameters", multi_query},
        {"pathParameters", rt.path_parameters},
        {"stageVariables", rt.stage_variables},
        {"requestContext",
         {{"accountId", settings_.account},
          {"apiId", rt.api_id},
          {"deploymentId", rt.deployment_id},
          {"domainName", domain},
          {"domainPrefix", domain.substr(0, domain.find('.'))},
          {"extendedRequestId", random_hex(8, false)},
          {"httpMethod", ex.method},
          {"identity", identity},
          {"path", context_path},
          {"protocol", "HTTP/1.1"},
          {"requestId", request_id},
          {"requestTime", request_time(started)},
          {"requestTimeEpoch", started},
          {"resourceId", rt.resource_id},
          {"resourcePath", rt.resource_path},
          {"stage", rt.stage}}},
        {"body", event_body},
        {"isBase64Encoded", binary_in}};
    std::string payload = json::serialize(event);

    // X-Amz-Invocation-Type reaches Lambda when the integration maps it (SCAR maps the
    // method request's header of that name), or is a constant such as 'Event'.
    std::string invocation_type = "RequestResponse";
    const auto& source = rt.invocation_type_source;
    constexpr std::string_view from_header = "method.request.header.";
    if (source.starts_with(from_header)) {
        invocation_type = std::string(ex.header(source.substr(from_header.size())).value_or(invocation_type));
    } else if (source.size() >= 2 && source.front() == '\'' && source.back() == '\'') {
        invocation_type = source.substr(1, source.size() - 2);
    }
    if (invocation_type == "Event") {
        if (payload.size() > (1u << 20)) {
            log::warn(
                "apigateway: the event of ",
                payload.size(),
                " bytes is over Lambda's asynchronous limit"
            );
            gateway_answer(ex, 413, "RequestTooLargeException", "Request Too Long");
            co_return;
        }
        if (!lambda_->invoke_event(rt.function_arn, std::move(payload))) {
            log::warn("apigateway: the integration's function ", rt.function_arn, " does not exist");
            gateway_answer(ex, 500, "InternalServerErrorException", "Internal server error");
            co_return;
        }
        ex.status = 202;
        ex.set_header("Content-Type", "application/json");
        co_return;
    }

    const auto exec = co_await net::this_coro::executor;
    auto call = std::make_shared<pending_call>(exec);
    std::string note = "API Gateway request " + request_id + ": " + ex.method + " " + context_path +
                       " from " + ex.remote_address + " (REST API " + rt.api_id + ")";
    net::co_spawn(
        exec,
        [](std::shared_ptr<lambda::service> fns,
           std::shared_ptr<pending_call> c,
           std::string arn,
           std::string event_text,
           std::string line) -> net::awaitable<void> {
            c->value = co_await fns->invoke_sync(arn, std::move(event_text), std::move(line));
            c->done.try_send(boost::system::error_code{});
        }(lambda_, call, rt.function_arn, std::move(payload), std::move(note)),
        [](const std::exception_ptr& e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& err) {
                log::error("apigateway: an invocation ended by an internal error: ", err.what());
            }
        }
    );
    net::steady_timer timer(exec);
    timer.expires_after(std::min(std::chrono::milliseconds(rt.timeout_ms), settings_.integration_timeout));
    const auto winner = co_await (
        call->done.async_receive(net::as_tuple(net::use_awaitable)) ||
        timer.async_wait(net::as_tuple(net::use_awaitable))
    );
    if (winner.index() == 1) {
        log::warn("apigateway: ", rt.function_arn, " did not answer request ", request_id, " in time");
        gateway_answer(ex, 504, "InternalServerErrorException", "Endpoint request timed out");
        co_return;
    }
    if (!call->value) {
        const auto& e = call->value.error();
        log::warn("apigateway: invoking ", rt.function_arn, " failed: ", e.what());
        if (e.code == "RequestEntityTooLargeException") {
            gateway_answer(ex, 413, "RequestTooLargeException", "Request Too Long");
        } else if (e.code == "ResourceNotFoundException") {
            gateway_answer(ex, 500, "InternalServerErrorException", "Internal server error");
        } else {
            gateway_answer(ex, 502, "InternalServerErrorException", "Internal server error");
        }
        co_return;
    }
    if (call->value->function_error) {
        log::info("apigateway: ", rt.function_arn, " failed request ", request_id, ": ", call->value->body);
        gateway_answer(ex, 502, "InternalServerErrorException", "Internal server error");
        co_return;
    }
    auto reply = parse_proxy(call->value->body);
    if (!reply) {
        log::warn("apigateway: Execution failed due to configuration error: ", reply.error().message);
        gateway_answer(ex, 502, "InternalServerErrorException", "Internal server error");
        co_return;
    }
    // A base64 body is decoded only when the caller accepts a binary media type (the first
    // type of Accept), as on AWS; otherwise the base64 text goes out as it is.
    if (reply->base64) {
        auto accept = std::string(ex.header("accept").value_or(""));
        accept = accept.substr(0, accept.find(','));
        if (any_media_matches(rt.binary_types, accept)) {
            auto decoded = encoding::base64_decode(reply->body);
            if (!decoded) {
                log::warn("apigateway: the function's body is marked isBase64Encoded but is not base64");
                gateway_answer(ex, 502, "InternalServerErrorException", "Internal server error");
                co_return;
            }
            reply->body = std::move(*decoded);
        }
    }
    ex.status = reply->status;
    bool has_type = false;
    for (auto& [name, value] : reply->headers) {
        if (encoding::iequals(name, "content-type")) has_type = true;
        ex.response_headers.emplace_back(remapped(name) ? "X-Amzn-Remapped-" + name : name, std::move(value));
    }
    if (!has_type) ex.set_header("Content-Type", "application/json");
    ex.response_body = std::move(reply->body);
}

}  // namespace scar::emulator::apigw
