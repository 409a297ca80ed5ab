#include "scar/lambda/client.hpp"

#include <scar/core/aws_error.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>

#include <boost/json.hpp>

#include <iterator>
#include <thread>

namespace scar::lambda {
namespace {

namespace json = boost::json;

std::string field(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

int int_field(const json::object& o, std::string_view k, int fallback) {
    const auto* v = o.if_contains(k);
    if (v != nullptr && v->is_int64()) return static_cast<int>(v->as_int64());
    if (v != nullptr && v->is_uint64()) return static_cast<int>(v->as_uint64());
    return fallback;
}

function_config config_from(const json::object& c) {
    function_config f;
    f.name = field(c, "FunctionName");
    f.arn = field(c, "FunctionArn");
    f.package_type = field(c, "PackageType");
    f.runtime = field(c, "Runtime");
    f.handler = field(c, "Handler");
    f.role = field(c, "Role");
    f.description = field(c, "Description");
    f.memory_mb = int_field(c, "MemorySize", 128);
    f.timeout_s = int_field(c, "Timeout", 3);
    if (const auto* e = c.if_contains("EphemeralStorage"); e != nullptr && e->is_object()) {
        f.ephemeral_mb = int_field(e->as_object(), "Size", 512);
    }
    if (const auto* e = c.if_contains("Environment"); e != nullptr && e->is_object()) {
        if (const auto* v = e->as_object().if_contains("Variables"); v != nullptr && v->is_object()) {
            for (const auto& [k, val] : v->as_object())
                if (val.is_string()) f.environment[std::string(k)] = std::string(val.as_string());
        }
    }
    if (const auto* a = c.if_contains("Architectures");
        a != nullptr && a->is_array() && !a->as_array().empty() && a->as_array()[0].is_string()) {
        f.architecture = std::string(a->as_array()[0].as_string());
    }
    f.state = field(c, "State");
    f.last_update_status = field(c, "LastUpdateStatus");
    f.code_sha256 = field(c, "CodeSha256");
    if (const auto* v = c.if_contains("CodeSize"); v != nullptr && v->is_int64()) f.code_size = v->as_int64();
    f.last_modified = field(c, "LastModified");
    return f;
}

json::object env_json(const std::map<std::string, std::string>& env) {
    json::object vars;
    for (const auto& [k, v] : env) vars[k] = v;
    return {{"Variables", vars}};
}

json::array strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
}

/// The error Lambda answered, with its code, its message and what to do about it.
error lambda_error(const http::response& r, std::string_view what) {
    auto e = aws::json_error(r, what, "InvalidRequestException");
    if (e.code == "ResourceNotFoundException") e.message += "; check the function name (scar ls lists them)";
    if (e.code == "TooManyRequestsException")
        e.message += "; the function's concurrency is used up, retry later";
    return e;
}

constexpr std::string_view dead_letter_path = "/_scar/lambda/dead-letters";

}  // namespace

error emulator_only_error(std::string_view where) {
    return make_error(
        "EmulatorOnly",
        "the dead-letter store is a feature of scar's local emulator, and " + std::string(where) +
            " is not the emulator. On AWS, keep the events that fail every attempt with an on-failure "
            "destination (an SQS queue, SNS topic, S3 bucket, EventBridge bus or another function): aws "
            "lambda "
            "put-function-event-invoke-config --function-name FUNCTION --destination-config "
            "'OnFailure={Destination=arn:aws:sqs:REGION:ACCOUNT:QUEUE}'"
    );
}

namespace {

dead_letter dead_letter_from(const json::object& o) {
    dead_letter d;
    d.id = field(o, "Id");
    d.function_name = field(o, "FunctionName");
    d.function_arn = field(o, "FunctionArn");
    d.request_id = field(o, "RequestId");
    d.payload = field(o, "Payload");
    d.condition = field(o, "Condition");
    d.error_type = field(o, "ErrorType");
    d.error_message = field(o, "ErrorMessage");
    d.attempts = int_field(o, "Attempts", 0);
    d.accepted = field(o, "Accepted");
    d.first_attempt = field(o, "FirstAttempt");
    d.last_attempt = field(o, "LastAttempt");
    d.dead_lettered = field(o, "DeadLettered");
    return d;
}

}  // namespace

struct client::impl {
    explicit impl(endpoint e) : ep(std::move(e)) {
        http::options o;
        o.retry.retry_on = [](const http::response& r) {
            return r.status >= 500;
        };  // 429 is the caller's call
        http_client = std::make_unique<http::client>(o);
    }

    result<http::response> call(
        std::string method,
        const std::string& path,
        std::string body,
        http::header_list headers = {},
        bool json_body = true
    ) {
        http::request req;
        req.method = std::move(method);
        req.url = ep.url + path;
        req.body = std::move(body);
        req.headers = std::move(headers);
        if (json_body && !req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
        auto p = sigv4::signing_params::make(ep.credentials, ep.region, "lambda", clock::system().now());
        if (auto s = sigv4::sign(req, p); !s) return s.error();
        return http_client->send(req);
    }

    result<function_config> config_call(
        std::string method,
        const std::string& path,
        std::string body,
        std::string_view what
    ) {
        auto r = call(std::move(method), path, std::move(body));
        if (!r) return r.error().wrap(what);
        if (r->status / 100 != 2) return lambda_error(*r, what);
        boost::system::error_code ec;
        auto doc = json::parse(r->body, ec);
        if (ec || !doc.is_object())
            return make_error("ServiceException", std::string(what) + ": the answer is not JSON");
        return config_from(doc.as_object());
    }

    /// A call to the emulator's dead-letter store (`suffix` after its path): the JSON
    /// object answered (empty for 204), or the error.
    result<json::object> store_call(std::string method, const std::string& suffix, std::string_view what) {
        auto r = call(std::move(method), std::string(dead_letter_path) + suffix, {});
        if (!r) return r.error().wrap(what);
        if (r->header("server").value_or("") != "scar-emulator") return emulator_only_error(ep.url);
        if (r->status / 100 != 2) return aws::json_error(*r, what, "InvalidRequestException");
        if (r->status == 204) return json::object{};
        boost::system::error_code ec;
        auto doc = json::parse(r->body, ec);
        if (ec || !doc.is_object())
            return make_error("ServiceException", std::string(what) + ": the answer is not JSON");
        return std::move(doc.as_object());
    }

    endpoint ep;
    std::unique_ptr<http::client> http_client;
};

client::client(endpoint ep) : impl_(std::make_unique<impl>(std::move(ep))) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

static std::string function_path(const std::string& name) {
    return "/2015-03-31/functions/" + encoding::uri_encode(name);
}

result<function_config> client::create_function(const create_function_request& req) {
    json::object body{
        {"FunctionName", req.name},
        {"Role", req.role},
        {"Description", req.description},
        {"MemorySize", req.memory_mb},
        {"Timeout", req.timeout_s},
        {"EphemeralStorage", {{"Size", req.ephemeral_mb}}},
        {"Environment", env_json(req.environment)}};
    if (!req.image_uri.empty()) {
        body["PackageType"] = "Image";
        body["Code"] = {{"ImageUri", req.image_uri}};
        json::object ic;
        if (!req.entry_point.empty()) ic["EntryPoint"] = strings(req.entry_point);
        if (!req.command.empty()) ic["Command"] = strings(req.command);
        if (!req.working_directory.empty()) ic["WorkingDirectory"] = req.working_directory;
        if (!ic.empty()) body["ImageConfig"] = ic;
    } else {
        body["PackageType"] = "Zip";
        body["Runtime"] = req.runtime;
        body["Handler"] = req.handler;
        body["Code"] = {{"ZipFile", encoding::base64_encode(req.zip_file)}};
    }
    return impl_
        ->config_call("POST", "/2015-03-31/functions", json::serialize(body), "CreateFunction " + req.name);
}

result<function_config> client::get_function(const std::string& name) {
    auto r = impl_->call("GET", function_path(name), {});
    if (!r) return r.error().wrap("GetFunction " + name);
    if (r->status != 200) return lambda_error(*r, "GetFunction " + name);
    boost::system::error_code ec;
    auto doc = json::parse(r->body, ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("Configuration")) {
        return make_error("ServiceException", "GetFunction " + name + ": unexpected answer");
    }
    auto f = config_from(doc.at("Configuration").as_object());
    if (const auto* code = doc.as_object().if_contains("Code"); code != nullptr && code->is_object()) {
        f.image_uri = field(code->as_object(), "ImageUri");
    }
    if (const auto* c = doc.as_object().if_contains("Concurrency"); c != nullptr && c->is_object()) {
        f.reserved_concurrency = int_field(c->as_object(), "ReservedConcurrentExecutions", 0);
    }
    return f;
}

result<std::vector<function_config>> client::list_functions() {
    std::vector<function_config> out;
    std::string marker;
    for (;;) {
        const std::string path =
            "/2015-03-31/functions/" + (marker.empty() ? "" : "?Marker=" + encoding::uri_encode(marker));
        auto r = impl_->call("GET", path, {});
        if (!r) return r.error().wrap("ListFunctions");
        if (r->status != 200) return lambda_error(*r, "ListFunctions");
        boost::system::error_code ec;
        auto doc = json::parse(r->body, ec);
        if (ec || !doc.is_object())
            return make_error("ServiceException", "ListFunctions: the answer is not JSON");
        if (const auto* fs = doc.as_object().if_contains("Functions"); fs != nullptr && fs->is_array()) {
            for (const auto& f : fs->as_array())
                if (f.is_object()) out.push_back(config_from(f.as_object()));
        }
        marker = field(doc.as_object(), "NextMarker");
        if (marker.empty()) return out;
    }
}

result<function_config> client::update_configuration(const std::string& name, const configuration_update& u) {
    json::object body;
    if (u.memory_mb) body["MemorySize"] = *u.memory_mb;
    if (u.timeout_s) body["Timeout"] = *u.timeout_s;
    if (u.ephemeral_mb) body["EphemeralStorage"] = {{"Size", *u.ephemeral_mb}};
    if (u.environment) body["Environment"] = env_json(*u.environment);
    if (u.description) body["Description"] = *u.description;
    return impl_->config_call(
        "PUT",
        function_path(name) + "/configuration",
        json::serialize(body),
        "UpdateFunctionConfiguration " + name
    );
}

result<function_config> client::update_code_zip(const std::string& name, const std::string& zip_file) {
    const json::object body{{"ZipFile", encoding::base64_encode(zip_file)}};
    return impl_->config_call(
        "PUT",
        function_path(name) + "/code",
        json::serialize(body),
        "UpdateFunctionCode " + name
    );
}

result<function_config> client::update_code_image(const std::string& name, const std::string& image_uri) {
    const json::object body{{"ImageUri", image_uri}};
    return impl_->config_call(
        "PUT",
        function_path(name) + "/code",
        json::serialize(body),
        "UpdateFunctionCode " + name
    );
}

result<void> client::delete_function(const std::string& name) {
    auto r = impl_->call("DELETE", function_path(name), {});
    if (!r) return r.error().wrap("DeleteFunction " + name);
    if (r->status / 100 != 2) return lambda_error(*r, "DeleteFunction " + name);
    return {};
}

result<invoke_result> client::invoke(
    const std::string& name,
    const std::string& payload,
    invocation_type type,
    bool tail
) {
    http::header_list h;
    h.emplace_back(
        "X-Amz-Invocation-Type",
        type == invocation_type::event     ? "Event"
        : type == invocation_type::dry_run ? "DryRun"
                                           : "RequestResponse"
    );
    if (tail) h.emplace_back("X-Amz-Log-Type", "Tail");
    // The payload is a blob to Lambda: sent without a Content-Type, as AWS's SDKs do.
    auto r = impl_->call("POST", function_path(name) + "/invocations", payload, std::move(h), false);
    if (!r) return r.error().wrap("Invoke " + name);
    if (r->status / 100 != 2) return lambda_error(*r, "Invoke " + name);
    invoke_result out;
    out.status = r->status;
    if (const auto fe = r->header("x-amz-function-error")) out.function_error = std::string(*fe);
    if (const auto lr = r->header("x-amz-log-result"))
        out.log_tail = encoding::base64_decode(*lr).value_or("");
    out.request_id = std::string(r->header("x-amzn-requestid").value_or(""));
    out.executed_version = std::string(r->header("x-amz-executed-version").value_or(""));
    out.payload = std::move(r->body);
    return out;
}

result<void> client::put_concurrency(const std::string& name, int reserved) {
    const json::object body{{"ReservedConcurrentExecutions", reserved}};
    auto r = impl_->call(
        "PUT",
        "/2017-10-31/functions/" + encoding::uri_encode(name) + "/concurrency",
        json::serialize(body)
    );
    if (!r) return r.error().wrap("PutFunctionConcurrency " + name);
    if (r->status != 200) return lambda_error(*r, "PutFunctionConcurrency " + name);
    return {};
}

result<void> client::delete_concurrency(const std::string& name) {
    auto r =
        impl_->call("DELETE", "/2017-10-31/functions/" + encoding::uri_encode(name) + "/concurrency", {});
    if (!r) return r.error().wrap("DeleteFunctionConcurrency " + name);
    if (r->status / 100 != 2) return lambda_error(*r, "DeleteFunctionConcurrency " + name);
    return {};
}

result<void> client::add_permission(
    const std::string& name,
    const std::string& statement_id,
    const std::string& principal,
    const std::string& source_arn
) {
    json::object body{
        {"StatementId", statement_id},
        {"Action", "lambda:InvokeFunction"},
        {"Principal", principal}};
    if (!source_arn.empty()) body["SourceArn"] = source_arn;
    auto r = impl_->call("POST", function_path(name) + "/policy", json::serialize(body));
    if (!r) return r.error().wrap("AddPermission " + name);
    if (r->status != 201) return lambda_error(*r, "AddPermission " + name);
    return {};
}

static std::string function_query(const std::string& function, char sep) {
    return function.empty() ? std::string()
                            : sep + std::string("FunctionName=") + encoding::uri_encode(function);
}

result<dead_letter_page> client::list_dead_letters(
    const std::string& function,
    const std::string& marker,
    int max_items
) {
    std::string query = "?MaxItems=" + std::to_string(max_items) + function_query(function, '&');
    if (!marker.empty()) query += "&Marker=" + encoding::uri_encode(marker);
    auto doc = impl_->store_call("GET", query, "listing the dead-letter store");
    if (!doc) return doc.error();
    dead_letter_page page;
    if (const auto* items = doc->if_contains("DeadLetters"); items != nullptr && items->is_array()) {
        for (const auto& i : items->as_array())
            if (i.is_object()) page.items.push_back(dead_letter_from(i.as_object()));
    }
    page.next_marker = field(*doc, "NextMarker");
    return page;
}

result<std::vector<dead_letter>> client::all_dead_letters(const std::string& function) {
    std::vector<dead_letter> all;
    std::string marker;
    do {
        auto page = list_dead_letters(function, marker, 100);
        if (!page) return page.error();
        std::move(page->items.begin(), page->items.end(), std::back_inserter(all));
        marker = std::move(page->next_marker);
    } while (!marker.empty());
    return all;
}

result<void> client::delete_dead_letter(const std::string& id) {
    auto doc = impl_->store_call("DELETE", "/" + encoding::uri_encode(id), "deleting dead letter " + id);
    if (!doc) return doc.error();
    return {};
}

result<std::size_t> client::purge_dead_letters(const std::string& function) {
    auto doc = impl_->store_call("DELETE", function_query(function, '?'), "purging the dead-letter store");
    if (!doc) return doc.error();
    return static_cast<std::size_t>(int_field(*doc, "Deleted", 0));
}

result<redriven_event> client::redrive_dead_letter(const std::string& id) {
    auto doc =
        impl_->store_call("POST", "/" + encoding::uri_encode(id) + "/redrive", "redriving dead letter " + id);
    if (!doc) return doc.error();
    return redriven_event{field(*doc, "Id"), field(*doc, "FunctionName"), field(*doc, "RequestId")};
}

result<redrive_report> client::redrive_dead_letters(const std::string& function) {
    auto doc = impl_->store_call(
        "POST",
        "/redrive" + function_query(function, '?'),
        "redriving the dead-letter store"
    );
    if (!doc) return doc.error();
    redrive_report report;
    if (const auto* r = doc->if_contains("Redriven"); r != nullptr && r->is_array()) {
        for (const auto& e : r->as_array()) {
            if (!e.is_object()) continue;
            const auto& o = e.as_object();
            report.redriven.push_back({field(o, "Id"), field(o, "FunctionName"), field(o, "RequestId")});
        }
    }
    if (const auto* f = doc->if_contains("Failed"); f != nullptr && f->is_array()) {
        for (const auto& e : f->as_array()) {
            if (!e.is_object()) continue;
            const auto& o = e.as_object();
            report.failed.emplace_back(
                field(o, "Id"),
                make_error(field(o, "ErrorCode"), field(o, "FunctionName") + ": " + field(o, "Message"))
            );
        }
    }
    return report;
}

result<function_config> client::wait_active(const std::string& name, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto delay = std::chrono::milliseconds(50);
    for (;;) {
        auto f = get_function(name);
        if (!f) return f;
        if (f->state == "Failed" || f->last_update_status == "Failed") {
            return make_error(
                "FunctionFailed",
                "function " + name + " failed to become active (state " + f->state + ")"
            );
        }
        if (f->state == "Active" && (f->last_update_status.empty() || f->last_update_status == "Successful"))
            return f;
        if (std::chrono::steady_clock::now() + delay > deadline) {
            return make_error(
                "Timeout",
                "function " + name + " is still " + f->state + " after waiting; check its image or code",
                0,
                true
            );
        }
        std::this_thread::sleep_for(delay);  // polling, as the aws CLI waiter does
        delay = std::min(delay * 2, std::chrono::milliseconds(1000));
    }
}

}  // namespace scar::lambda
