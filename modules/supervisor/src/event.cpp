#include "scar/supervisor/event.hpp"

#include <scar/core/encoding.hpp>
#include <scar/s3/event.hpp>

#include <boost/json.hpp>

#include <chrono>

namespace scar::supervisor {
namespace {

namespace json = boost::json;

error invalid(std::string message) {
    return make_error("InvalidEvent", std::move(message), 400);
}

const json::value* field(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v != nullptr && !v->is_null() ? v : nullptr;
}

std::string string_or_empty(const json::object& o, std::string_view name) {
    const auto* v = field(o, name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string scalar_text(const json::value& v) {
    if (v.is_string()) return std::string(v.as_string());
    return json::serialize(v);
}

/// Epoch milliseconds (a number or a numeric string) → ISO 8601, or empty.
std::string epoch_ms_to_iso(const json::value* v) {
    if (v == nullptr) return {};
    // A time_point holds nanoseconds in 64 bits: up to 2262 (found by fuzzing: a larger
    // requestTimeEpoch overflowed).
    constexpr double last_ms = 9'000'000'000'000.0;
    double ms = 0;
    if (v->is_int64()) {
        ms = static_cast<double>(v->as_int64());
    } else if (v->is_uint64()) {
        ms = static_cast<double>(v->as_uint64());
    } else if (v->is_double()) {
        ms = v->as_double();
    } else {
        return {};
    }
    if (!(ms >= 0 && ms < last_ms)) return {};
    return s3::format_event_time(clock::time_point(std::chrono::milliseconds(static_cast<std::int64_t>(ms))));
}

/// Records[0] of an S3/MinIO notification, or nullopt when `o` is not one.
result<std::optional<event>> storage_event(const json::object& o, std::string_view text) {
    const auto* records = field(o, "Records");
    if (records == nullptr) return std::optional<event>();
    if (!records->is_array() || records->as_array().empty()) return std::optional<event>();
    const auto& first = records->as_array().front();
    if (!first.is_object()) return std::optional<event>();
    const std::string source = string_or_empty(first.as_object(), "eventSource");
    if (source != "aws:s3" && source != "minio:s3") return std::optional<event>();
    auto batch = s3::parse_event_json(text);
    if (!batch) {
        return invalid(
            "the event looks like an S3 notification but cannot be read (" + batch.error().message +
            "); send the record as S3 writes it"
        );
    }
    const auto& r = batch->records.front();
    if (r.bucket_name.empty()) return invalid("the S3 event record has no s3.bucket.name");
    event ev;
    ev.kind = event_kind::storage;
    ev.time = s3::format_event_time(r.event_time);
    storage_object obj;
    obj.source = source;
    obj.region = r.aws_region;
    obj.bucket = r.bucket_name;
    obj.key = r.key;
    obj.size = r.size;
    ev.object = std::move(obj);
    return std::optional<event>(std::move(ev));
}

result<std::vector<std::string>> cmd_args_of(const json::value& v) {
    const json::value* list = &v;
    json::value parsed;
    if (v.is_string()) {
        boost::system::error_code ec;
        parsed = json::parse(v.as_string(), ec);
        if (ec) {
            return invalid(
                "the event's 'cmd_args' is a string that is not a JSON list (" + ec.message() +
                "); send a list of strings, e.g. [\"-c\", \"echo hi\"]"
            );
        }
        list = &parsed;
    }
    if (!list->is_array()) {
        return invalid("the event's 'cmd_args' must be a list of strings, e.g. [\"-c\", \"echo hi\"]");
    }
    std::vector<std::string> args;
    for (const auto& a : list->as_array()) {
        if (!a.is_string()) {
            return invalid(
                "the event's 'cmd_args' holds " + json::serialize(a) +
                ", which is not a string; every argument must be a string"
            );
        }
        args.emplace_back(a.as_string());
    }
    return args;
}

result<event> api_gateway_event(const json::object& o, int version) {
    event ev;
    ev.kind = event_kind::api_gateway;
    ev.api_version = version;
    if (const auto* q = field(o, "queryStringParameters"); q != nullptr && q->is_object()) {
        for (const auto& [k, v] : q->as_object()) {
            if (!v.is_null()) ev.query.emplace_back(std::string(k), scalar_text(v));
        }
    }
    if (const auto* ctx = field(o, "requestContext"); ctx != nullptr && ctx->is_object()) {
        ev.time = epoch_ms_to_iso(field(ctx->as_object(), version == 2 ? "timeEpoch" : "requestTimeEpoch"));
    }
    const auto* body = field(o, "body");
    if (body == nullptr) return ev;
    std::string bytes = scalar_text(*body);
    if (const auto* b64 = field(o, "isBase64Encoded"); b64 != nullptr && b64->is_bool() && b64->as_bool()) {
        auto decoded = encoding::base64_decode(bytes);
        if (!decoded) {
            return invalid(
                "the API Gateway request says isBase64Encoded but its body is not base64; "
                "check the API's binaryMediaTypes and the client's Content-Type"
            );
        }
        bytes = std::move(*decoded);
    }
    if (bytes.empty()) return ev;
    // A body may itself be a storage event (a client forwarding S3 notifications).
    boost::system::error_code ec;
    const auto inner = json::parse(bytes, ec);
    if (!ec && inner.is_object()) {
        auto storage = storage_event(inner.as_object(), bytes);
        if (!storage) return storage.error();
        if (*storage) {
            ev.object = std::move((*storage)->object);
            if (ev.time.empty()) ev.time = (*storage)->time;
            return ev;
        }
    }
    ev.body = std::move(bytes);
    return ev;
}

}  // namespace

std::string_view to_string(event_kind k) noexcept {
    switch (k) {
        case event_kind::storage:
            return "storage";
        case event_kind::api_gateway:
            return "api_gateway";
        case event_kind::script:
            return "script";
        case event_kind::command:
            return "command";
        case event_kind::payload:
            return "payload";
    }
    return "payload";
}

result<event> parse_event(std::string_view payload) {
    event fallback;
    fallback.kind = event_kind::payload;
    if (encoding::trim(payload).empty()) return fallback;
    fallback.body = std::string(payload);

    boost::system::error_code ec;
    const auto doc = json::parse(payload, ec);
    if (ec || !doc.is_object()) return fallback;
    const auto& o = doc.as_object();

    if (const auto* m = field(o, "httpMethod"); m != nullptr && m->is_string())
        return api_gateway_event(o, 1);
    if (string_or_empty(o, "version") == "2.0") {
        if (const auto* ctx = field(o, "requestContext"); ctx != nullptr && ctx->is_object()) {
            if (const auto* h = field(ctx->as_object(), "http"); h != nullptr && h->is_object())
                return api_gateway_event(o, 2);
        }
    }

    auto storage = storage_event(o, payload);
    if (!storage) return storage.error();
    if (*storage) return std::move(**storage);

    // A delegated event: {"event": <storage event>, "storage_provider": "<id>"}.
    if (const auto* inner = field(o, "event");
        inner != nullptr && (inner->is_object() || inner->is_string())) {
        const std::string text =
            inner->is_string() ? std::string(inner->as_string()) : json::serialize(*inner);
        const auto parsed = json::parse(text, ec);
        if (!ec && parsed.is_object()) {
            auto delegated = storage_event(parsed.as_object(), text);
            if (!delegated) return delegated.error();
            if (*delegated) {
                event ev = std::move(**delegated);
                const std::string id = string_or_empty(o, "storage_provider");
                const std::string type = ev.object->source == "minio:s3" ? "minio" : "s3";
                ev.object->provider = type + "." + (id.empty() ? "default" : id);
                return ev;
            }
        }
    }

    const auto* script = field(o, "script");
    const auto* cmd_args = field(o, "cmd_args");
    if (script != nullptr && cmd_args != nullptr) {
        return invalid("the event has both 'script' and 'cmd_args'; send one of them");
    }
    if (script != nullptr) {
        if (!script->is_string()) return invalid("the event's 'script' must be a base64 string");
        auto decoded = encoding::base64_decode(encoding::trim(script->as_string()));
        if (!decoded) {
            return invalid(
                "the event's 'script' is not valid base64; encode the script with base64 (scar run -s "
                "does it for you)"
            );
        }
        event ev;
        ev.kind = event_kind::script;
        ev.script = std::move(*decoded);
        return ev;
    }
    if (cmd_args != nullptr) {
        auto args = cmd_args_of(*cmd_args);
        if (!args) return args.error();
        event ev;
        ev.kind = event_kind::command;
        ev.cmd_args = std::move(*args);
        return ev;
    }
    return fallback;
}

}  // namespace scar::supervisor
