#include "scar/s3/notification.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/s3/event.hpp>
#include <scar/s3/xml.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <set>
#include <type_traits>

namespace scar::s3 {
namespace {

error invalid_argument(std::string message) {
    return make_error("InvalidArgument", std::move(message), 400);
}

/// The same fields for every kind of destination, so parsing and checking are written once.
template <bool Const>
struct rule_ref {
    using text = std::conditional_t<Const, const std::string, std::string>;
    text* id;
    text* arn;
    std::conditional_t<Const, const std::vector<std::string>, std::vector<std::string>>* events;
    text* prefix;
    text* suffix;
};
using any_rule = rule_ref<false>;
using const_rule = rule_ref<true>;

result<void> parse_rule(
    const pugi::xml_node& node,
    any_rule r,
    std::string_view arn_a,
    std::string_view arn_b
) {
    *r.id = node.child_value("Id");
    *r.arn = node.child_value(std::string(arn_a).c_str());
    if (r.arn->empty()) *r.arn = node.child_value(std::string(arn_b).c_str());
    for (const auto e : node.children("Event")) r.events->emplace_back(e.child_value());
    bool has_prefix = false;
    bool has_suffix = false;
    for (const auto f : node.child("Filter").child("S3Key").children("FilterRule")) {
        const std::string name = encoding::to_lower(encoding::trim(f.child_value("Name")));
        bool* seen = name == "prefix" ? &has_prefix : name == "suffix" ? &has_suffix : nullptr;
        if (seen == nullptr) {
            return invalid_argument(
                "filter rule name must be either prefix or suffix (got '" +
                std::string(f.child_value("Name")) + "'); use <Name>prefix</Name> or <Name>suffix</Name>"
            );
        }
        if (*seen) {
            return invalid_argument(
                "Cannot specify more than one " + name + " rule in a filter. Merge the " + name +
                " rules of configuration '" + *r.id + "' into one"
            );
        }
        *seen = true;
        *(name == "prefix" ? r.prefix : r.suffix) = f.child_value("Value");
    }
    return {};
}

/// Event types overlap when equal or when one is the `*` of the other's family.
bool events_overlap(std::string_view a, std::string_view b) noexcept {
    return event_matches(a, b) || event_matches(b, a);
}

bool rules_overlap(const const_rule& a, const const_rule& b) {
    const bool events = std::any_of(a.events->begin(), a.events->end(), [&](const std::string& x) {
        return std::any_of(b.events->begin(), b.events->end(), [&](const std::string& y) {
            return events_overlap(x, y);
        });
    });
    if (!events) return false;
    const auto& pa = *a.prefix;
    const auto& pb = *b.prefix;
    const auto& sa = *a.suffix;
    const auto& sb = *b.suffix;
    const bool prefixes = pa.starts_with(pb) || pb.starts_with(pa);
    const bool suffixes = sa.ends_with(sb) || sb.ends_with(sa);
    return prefixes && suffixes;
}

bool filter_matches(std::string_view prefix, std::string_view suffix, std::string_view key) {
    if (prefix.empty() && suffix.empty()) return true;
    const std::string encoded = encode_event_key(key);
    return std::string_view(encoded).starts_with(prefix) && std::string_view(encoded).ends_with(suffix);
}

template <class Rule>
bool rule_matches(const Rule& rule, std::string_view event_name, std::string_view key) {
    const bool event = std::any_of(rule.events.begin(), rule.events.end(), [&](const std::string& e) {
        return event_matches(e, event_name);
    });
    return event && filter_matches(rule.prefix, rule.suffix, key);
}

void append_rule(
    std::string& b,
    std::string_view element,
    std::string_view arn_element,
    const std::string& id,
    const std::string& arn,
    const std::vector<std::string>& events,
    const std::string& prefix,
    const std::string& suffix
) {
    b.append("<").append(element).append(">");
    if (!id.empty()) xml::append_element(b, "Id", id);
    xml::append_element(b, arn_element, arn);
    for (const auto& e : events) xml::append_element(b, "Event", e);
    if (!prefix.empty() || !suffix.empty()) {
        b.append("<Filter><S3Key>");
        if (!prefix.empty()) {
            b.append("<FilterRule><Name>Prefix</Name>");
            xml::append_element(b, "Value", prefix);
            b.append("</FilterRule>");
        }
        if (!suffix.empty()) {
            b.append("<FilterRule><Name>Suffix</Name>");
            xml::append_element(b, "Value", suffix);
            b.append("</FilterRule>");
        }
        b.append("</S3Key></Filter>");
    }
    b.append("</").append(element).append(">");
}

template <class Config>
auto all_rules(Config& c) {
    std::vector<rule_ref<std::is_const_v<Config>>> out;
    for (auto& r : c.lambda) out.push_back({&r.id, &r.function_arn, &r.events, &r.prefix, &r.suffix});
    for (auto& r : c.queues) out.push_back({&r.id, &r.arn, &r.events, &r.prefix, &r.suffix});
    for (auto& r : c.topics) out.push_back({&r.id, &r.arn, &r.events, &r.prefix, &r.suffix});
    return out;
}

}  // namespace

const std::vector<std::string_view>& supported_events() noexcept {
    // The `Event` enum of the S3 API model (s3-2006-03-01).
    static const std::vector<std::string_view> events = {
        "s3:ReducedRedundancyLostObject",
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
    };
    return events;
}

bool event_matches(std::string_view configured, std::string_view event_name) noexcept {
    if (configured.starts_with("s3:")) configured.remove_prefix(3);
    if (event_name.starts_with("s3:")) event_name.remove_prefix(3);
    if (configured == event_name) return true;
    if (configured.ends_with(":*")) {
        configured.remove_suffix(1);  // keep the ':' so "ObjectCreated:" does not match "ObjectCreatedX"
        return event_name.starts_with(configured);
    }
    return false;
}

bool matches(const notification_rule& rule, std::string_view event_name, std::string_view key) {
    return rule_matches(rule, event_name, key);
}

bool matches(const destination_rule& rule, std::string_view event_name, std::string_view key) {
    return rule_matches(rule, event_name, key);
}

result<notification_config> parse_notification_xml(std::string_view xml) {
    pugi::xml_document doc;
    const auto flags = (pugi::parse_default & ~pugi::parse_eol) | pugi::parse_ws_pcdata_single;
    if (const auto parsed = doc.load_buffer(xml.data(), xml.size(), flags); !parsed) {
        return xml::malformed(
            std::string(parsed.description()) + " at offset " + std::to_string(parsed.offset) +
            "; send a NotificationConfiguration document"
        );
    }
    const auto root = doc.document_element();
    if (std::string_view(root.name()) != "NotificationConfiguration") {
        return xml::malformed(
            "the root element is <" + std::string(root.name()) + ">, expected <NotificationConfiguration>"
        );
    }
    notification_config c;
    for (const auto node : root.children()) {
        if (node.type() != pugi::node_element) continue;
        const std::string_view name = node.name();
        result<void> ok;
        if (name == "LambdaFunctionConfiguration" || name == "CloudFunctionConfiguration") {
            auto& r = c.lambda.emplace_back();
            ok = parse_rule(
                node,
                {&r.id, &r.function_arn, &r.events, &r.prefix, &r.suffix},
                "LambdaFunctionArn",
                "CloudFunction"
            );
        } else if (name == "QueueConfiguration") {
            auto& r = c.queues.emplace_back();
            ok = parse_rule(node, {&r.id, &r.arn, &r.events, &r.prefix, &r.suffix}, "QueueArn", "Queue");
        } else if (name == "TopicConfiguration") {
            auto& r = c.topics.emplace_back();
            ok = parse_rule(node, {&r.id, &r.arn, &r.events, &r.prefix, &r.suffix}, "TopicArn", "Topic");
        } else if (name == "EventBridgeConfiguration") {
            c.event_bridge = true;
        } else {
            return xml::malformed(
                "unexpected element <" + std::string(name) +
                "> in <NotificationConfiguration>; allowed are TopicConfiguration, QueueConfiguration, "
                "LambdaFunctionConfiguration (or CloudFunctionConfiguration) and EventBridgeConfiguration"
            );
        }
        if (!ok) return ok.error();
    }
    return c;
}

std::string to_xml(const notification_config& c) {
    std::string b(xml::declaration);
    b.append("<NotificationConfiguration xmlns=\"").append(xml::namespace_uri).append("\">");
    for (const auto& r : c.topics)
        append_rule(b, "TopicConfiguration", "Topic", r.id, r.arn, r.events, r.prefix, r.suffix);
    for (const auto& r : c.queues)
        append_rule(b, "QueueConfiguration", "Queue", r.id, r.arn, r.events, r.prefix, r.suffix);
    for (const auto& r : c.lambda) {
        append_rule(
            b,
            "CloudFunctionConfiguration",
            "CloudFunction",
            r.id,
            r.function_arn,
            r.events,
            r.prefix,
            r.suffix
        );
    }
    if (c.event_bridge) b.append("<EventBridgeConfiguration></EventBridgeConfiguration>");
    b.append("</NotificationConfiguration>");
    return b;
}

result<void> validate(const notification_config& config) {
    const auto rules = all_rules(config);
    const auto& known = supported_events();
    std::set<std::string_view> ids;
    for (const auto& r : rules) {
        const std::string label =
            r.id->empty() ? std::string("a configuration without Id") : "'" + *r.id + "'";
        if (r.events->empty()) {
            return invalid_argument(
                "The notification configuration " + label +
                " has no Event; add at least one, e.g. <Event>s3:ObjectCreated:*</Event>"
            );
        }
        for (const auto& e : *r.events) {
            if (std::find(known.begin(), known.end(), e) == known.end()) {
                return invalid_argument(
                    "The event is not supported for notifications: '" + e + "' in " + label +
                    "; use e.g. s3:ObjectCreated:*, s3:ObjectCreated:Put or s3:ObjectRemoved:*"
                );
            }
        }
        const auto colons = std::count(r.arn->begin(), r.arn->end(), ':');
        if (!r.arn->starts_with("arn:") || colons < 5) {
            return invalid_argument(
                "The ARN could not be parsed: '" + *r.arn + "' in " + label +
                "; expected e.g. arn:aws:lambda:us-east-1:000000000000:function:NAME"
            );
        }
        if (!r.id->empty() && !ids.insert(*r.id).second) {
            return invalid_argument(
                "Two notification configurations have the Id '" + *r.id + "'; give each its own Id"
            );
        }
    }
    for (std::size_t i = 0; i < rules.size(); ++i) {
        for (std::size_t j = i + 1; j < rules.size(); ++j) {
            if (rules_overlap(rules[i], rules[j])) {
                return invalid_argument(
                    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if "
                    "the "
                    "prefixes are overlapping for the same event type. ('" +
                    *rules[i].id + "' and '" + *rules[j].id +
                    "'; give them disjoint prefixes or suffixes, or merge them)"
                );
            }
        }
    }
    return {};
}

void assign_missing_ids(notification_config& c) {
    for (auto& r : all_rules(c)) {
        // S3 makes up a base64-looking 48-character id; any unique string serves.
        if (r.id->empty()) *r.id = encoding::to_hex(crypto::bytes(crypto::random_bytes(16)));
    }
}

}  // namespace scar::s3
