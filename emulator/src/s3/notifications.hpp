#pragma once
// Bucket notification configurations (PutBucketNotificationConfiguration) and the S3 event
// records they produce (eventVersion 2.1), as AWS defines them.

#include <scar/core/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::emulator::s3 {

struct notification_rule {
    std::string kind;  ///< "CloudFunction", "Queue" or "Topic"
    std::string id;
    std::string destination;          ///< the function, queue or topic ARN
    std::vector<std::string> events;  ///< "s3:ObjectCreated:*", …
    std::optional<std::string> prefix;
    std::optional<std::string> suffix;
};

struct notification_config {
    std::vector<notification_rule> rules;
    bool event_bridge = false;
};

/// Parses and validates a NotificationConfiguration body as S3 does: event names, filter
/// rule names (prefix/suffix, any case, at most one each), ARNs, and no two rules with
/// overlapping events, prefixes and suffixes. Missing Ids are generated.
/// Errors: MalformedXML, InvalidArgument (with AWS's messages).
[[nodiscard]] result<notification_config> parse_notification_config(std::string_view xml);

/// The GetBucketNotificationConfiguration body.
[[nodiscard]] std::string to_xml(const notification_config& c);

/// True when a configured event ("s3:ObjectCreated:*") covers an event name
/// ("ObjectCreated:Put").
[[nodiscard]] bool event_matches(std::string_view configured, std::string_view event_name) noexcept;

/// True when `rule` selects this event on this key (filters apply to the encoded key).
[[nodiscard]] bool rule_matches(
    const notification_rule& rule,
    std::string_view event_name,
    std::string_view key
);

/// A key as S3 writes it in events: form-encoded UTF-8, '/' kept, space as '+'.
[[nodiscard]] std::string event_key(std::string_view key);

}  // namespace scar::emulator::s3
