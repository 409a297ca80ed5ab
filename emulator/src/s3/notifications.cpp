#include "notifications.hpp"

#include <scar/core/encoding.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <array>

#include "../util.hpp"

namespace scar::emulator::s3 {
namespace {

/// The event types of the S3 model's `Event` enum.
constexpr std::array<std::string_view, 30> known_events = {
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAnnotation:*",
    "s3:ObjectAnnotation:Put",
    "s3:ObjectAnnotation:Delete"};

error invalid_argument(std::string message) {
    return make_error("InvalidArgument", std::move(message), 400);
}

/// Events that overlap: the same, or one is the family wildcard of the other.
bool events_overlap(std::string_view a, std::string_view b) noexcept {
    if (a == b) return true;
    const auto family = [](std::string_view e) { return e.substr(0, e.rfind(':') + 1); };
    if (a.ends_with(":*") && family(a) == family(b)) return true;
    if (b.ends_with(":*") && family(a) == family(b)) return true;
    return false;
}

bool affix_overlap(const std::optional<std::string>& a, const std::optional<std::string>& b, bool prefix) {
    const std::string x = a.value_or("");
    const std::string y = b.value_or("");
    if (prefix) return x.starts_with(y) || y.starts_with(x);
    return x.ends_with(y) || y.ends_with(x);
}

}  // namespace

bool event_matches(std::string_view configured, std::string_view event_name) noexcept {
    if (configured.starts_with("s3:")) configured.remove_prefix(3);
    if (configured == event_name) return true;
    if (configured.ends_with(":*")) {
        configured.remove_suffix(1);  // keep the ':'
        return event_name.starts_with(configured);
    }
    return false;
}

std::string event_key(std::string_view key) {
    std::string out;
    out.reserve(key.size());
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : key) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '*' || c == '/') {
            out.push_back(c);
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 15]);
        }
    }
    return out;
}

bool rule_matches(const notification_rule& rule, std::string_view event_name, std::string_view key) {
    const bool event = std::any_of(rule.events.begin(), rule.events.end(), [&](const std::string& e) {
        return event_matches(e, event_name);
    });
    if (!event) return false;
    if (!rule.prefix && !rule.suffix) return true;
    const std::string encoded = event_key(key);
    if (rule.prefix && !encoded.starts_with(*rule.prefix)) return false;
    if (rule.suffix && !encoded.ends_with(*rule.suffix)) return false;
    return true;
}

result<notification_config> parse_notification_config(std::string_view xml) {
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size())) {
        return make_error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
            400
        );
    }
    const auto root = doc.child("NotificationConfiguration");
    if (!root) {
        return make_error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema: "
            "expected <NotificationConfiguration>",
            400
        );
    }
    for (const auto child : root.children()) {
        const std::string_view name = child.name();
        if (child.type() == pugi::node_element && name != "CloudFunctionConfiguration" &&
            name != "LambdaFunctionConfiguration" && name != "QueueConfiguration" &&
            name != "TopicConfiguration" && name != "EventBridgeConfiguration") {
            return make_error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema: "
                "unexpected element <" +
                    std::string(name) + "> in <NotificationConfiguration>",
                400
            );
        }
    }
    notification_config c;
    struct kind_names {
        const char* element;
        const char* kind;
        const char* arn_element;
        const char* alt_arn_element;
    };
    static constexpr std::array<kind_names, 4> kinds = {{
        {"CloudFunctionConfiguration", "CloudFunction", "CloudFunction", "LambdaFunctionArn"},
        {"LambdaFunctionConfiguration", "CloudFunction", "LambdaFunctionArn", "CloudFunction"},
        {"QueueConfiguration", "Queue", "Queue", "QueueArn"},
        {"TopicConfiguration", "Topic", "Topic", "TopicArn"},
    }};
    for (const auto& k : kinds) {
        for (const auto node : root.children(k.element)) {
            notification_rule r;
            r.kind = k.kind;
            r.id = node.child_value("Id");
            if (r.id.empty()) r.id = random_hex(16, false);
            r.destination = node.child_value(k.arn_element);
            if (r.destination.empty()) r.destination = node.child_value(k.alt_arn_element);
            if (!r.destination.starts_with("arn:") ||
                std::count(r.destination.begin(), r.destination.end(), ':') < 5) {
                return invalid_argument(
                    "The ARN could not be parsed: '" + r.destination +
                    "' (expected e.g. "
                    "arn:aws:lambda:us-east-1:000000000000:function:NAME)"
                );
            }
            for (const auto e : node.children("Event")) {
                const std::string name = e.child_value();
                if (std::find(known_events.begin(), known_events.end(), name) == known_events.end()) {
                    return invalid_argument(
                        "The event is not supported for notifications: '" + name +
                        "' (e.g. s3:ObjectCreated:*, s3:ObjectCreated:Put, s3:ObjectRemoved:*)"
                    );
                }
                r.events.push_back(name);
            }
            if (r.events.empty()) {
                return invalid_argument(
                    "A notification configuration needs at least one Event (" + r.id + ")"
                );
            }
            for (const auto f : node.child("Filter").child("S3Key").children("FilterRule")) {
                const std::string name = encoding::to_lower(f.child_value("Name"));
                std::optional<std::string>* slot = name == "prefix"   ? &r.prefix
                                                   : name == "suffix" ? &r.suffix
                                                                      : nullptr;
                if (slot == nullptr)
                    return invalid_argument("filter rule name must be either prefix or suffix");
                if (*slot) {
                    return invalid_argument(
                        "Cannot specify more than one " + name + " rule in a filter (" + r.id + ")"
                    );
                }
                *slot = f.child_value("Value");
            }
            c.rules.push_back(std::move(r));
        }
    }
    c.event_bridge = static_cast<bool>(root.child("EventBridgeConfiguration"));
    for (std::size_t i = 0; i < c.rules.size(); ++i) {
        for (std::size_t j = i + 1; j < c.rules.size(); ++j) {
            const auto& a = c.rules[i];
            const auto& b = c.rules[j];
            bool events = false;
            for (const auto& x : a.events)
                for (const auto& y : b.events) events = events || events_overlap(x, y);
            if (events && affix_overlap(a.prefix, b.prefix, true) &&
                affix_overlap(a.suffix, b.suffix, false)) {
                return invalid_argument(
                    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if "
                    "the "
                    "prefixes are overlapping for the same event type."
                );
            }
        }
    }
    return c;
}

std::string to_xml(const notification_config& c) {
    std::string b = R"(<?xml version="1.0" encoding="UTF-8"?>)";
    b.append(R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)");
    for (const auto& r : c.rules) {
        const std::string element = r.kind + "Configuration";
        b.append("<").append(element).append(">");
        append_xml_element(b, "Id", r.id);
        append_xml_element(b, r.kind, r.destination);
        for (const auto& e : r.events) append_xml_element(b, "Event", e);
        if (r.prefix || r.suffix) {
            b.append("<Filter><S3Key>");
            if (r.prefix) {
                b.append("<FilterRule><Name>Prefix</Name>");
                append_xml_element(b, "Value", *r.prefix);
                b.append("</FilterRule>");
            }
            if (r.suffix) {
                b.append("<FilterRule><Name>Suffix</Name>");
                append_xml_element(b, "Value", *r.suffix);
                b.append("</FilterRule>");
            }
            b.append("</S3Key></Filter>");
        }
        b.append("</").append(element).append(">");
    }
    if (c.event_bridge) b.append("<EventBridgeConfiguration/>");
    b.append("</NotificationConfiguration>");
    return b;
}

}  // namespace scar::emulator::s3
