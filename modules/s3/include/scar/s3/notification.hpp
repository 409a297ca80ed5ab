#pragma once
/// @file
/// Bucket notification configurations: the model of `PutBucketNotificationConfiguration` /
/// `GetBucketNotificationConfiguration` bodies, their validation as S3 does it, and the
/// rule matching that decides which changes produce an event.
///
/// One model serves the client (which sends and reads configurations) and the emulator's S3
/// service (which stores them and emits events):
///
/// @code
/// auto config = s3::parse_notification_xml(body);          // MalformedXML
/// if (config) if (auto ok = s3::validate(*config); !ok) …  // InvalidArgument, as AWS
/// for (const auto& rule : config->lambda)
///     if (s3::matches(rule, "ObjectCreated:Put", key)) …   // send an event to rule.function_arn
/// std::string body = s3::to_xml(*config);                  // as GetBucketNotificationConfiguration
/// @endcode
///
/// Key filters follow S3: filter values are written the way keys appear in events
/// (URL-encoded, a space as `+`, see `event.hpp`), so `matches` compares them with the
/// event form of the key. For keys made of letters, digits, `/`, `-`, `_`, `.` and `*`
/// that form is the key itself.

#include <scar/core/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace scar::s3 {

/// A Lambda destination: `LambdaFunctionConfiguration` (or the older
/// `CloudFunctionConfiguration`) of a notification configuration.
struct notification_rule {
    /// The configuration's `Id`; events carry it as `s3.configurationId`. May be empty in a
    /// request, in which case S3 (and `assign_missing_ids`) makes one up.
    std::string id;
    /// The function to invoke: "arn:aws:lambda:us-east-1:000000000000:function:NAME".
    std::string function_arn;
    /// Event types with their `s3:` prefix: "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"…
    std::vector<std::string> events;
    /// Key filters (`Filter/S3Key/FilterRule` named prefix / suffix); empty: no filter.
    std::string prefix;
    std::string suffix;

    friend bool operator==(const notification_rule&, const notification_rule&) = default;
};

/// A queue (SQS) or topic (SNS) destination. scar never delivers to these; they are parsed,
/// validated and written back so that a configuration made on AWS survives a round trip.
struct destination_rule {
    std::string id;
    std::string arn;  ///< the queue or topic ARN
    std::vector<std::string> events;
    std::string prefix;
    std::string suffix;

    friend bool operator==(const destination_rule&, const destination_rule&) = default;
};

/// A bucket's whole notification configuration. An empty one (no rules, no EventBridge)
/// turns notifications off.
struct notification_config {
    std::vector<notification_rule> lambda;  ///< Lambda function destinations, in document order
    std::vector<destination_rule> queues;   ///< `QueueConfiguration`s
    std::vector<destination_rule> topics;   ///< `TopicConfiguration`s
    bool event_bridge = false;              ///< `<EventBridgeConfiguration/>` present

    [[nodiscard]] bool empty() const noexcept {
        return lambda.empty() && queues.empty() && topics.empty() && !event_bridge;
    }
    friend bool operator==(const notification_config&, const notification_config&) = default;
};

/// Parses a `NotificationConfiguration` document. Accepts, for Lambda destinations, both
/// `LambdaFunctionConfiguration` and `CloudFunctionConfiguration` elements, with the ARN in
/// `LambdaFunctionArn` or `CloudFunction`; `QueueConfiguration` (`Queue` / `QueueArn`),
/// `TopicConfiguration` (`Topic` / `TopicArn`) and `EventBridgeConfiguration`. Filter rule
/// names are case-insensitive. The XML namespace is optional. Event names and ARNs are kept
/// as written: `validate` checks them, so that a caller can report them as S3 does.
///
/// Errors: `MalformedXML` (400) when the body is not XML or its root is not
/// `NotificationConfiguration`; `InvalidArgument` (400) when a filter rule is named neither
/// prefix nor suffix ("filter rule name must be either prefix or suffix") or a filter has two
/// prefix (or two suffix) rules ("Cannot specify more than one prefix rule in a filter."),
/// which the model cannot hold.
[[nodiscard]] result<notification_config> parse_notification_xml(std::string_view xml);

/// The `GetBucketNotificationConfiguration` body as S3 returns it: XML declaration,
/// `NotificationConfiguration` in the S3 namespace, `TopicConfiguration`s,
/// `QueueConfiguration`s, then `CloudFunctionConfiguration`s with the ARN in `CloudFunction`,
/// each with `Id`, its `Event`s and `Filter/S3Key/FilterRule` (`Prefix`, `Suffix`) when set;
/// `<EventBridgeConfiguration/>` last. Also a valid `PutBucketNotificationConfiguration`
/// body.
[[nodiscard]] std::string to_xml(const notification_config& c);

/// Checks a configuration the way S3 does before accepting it.
///
/// Errors, all `InvalidArgument` (400) with S3's wording followed by what to do:
///   - an event S3 does not know: "The event is not supported for notifications";
///   - a configuration without events;
///   - a destination ARN that is not an ARN ("The ARN could not be parsed");
///   - two configurations (of any destinations) sharing an event type, whose prefixes
///     overlap (one starts with the other) and whose suffixes overlap (one ends with the
///     other): "Configuration is ambiguously defined. Cannot have overlapping suffixes in
///     two rules if the prefixes are overlapping for the same event type.";
///   - two configurations with the same non-empty Id.
[[nodiscard]] result<void> validate(const notification_config& c);

/// Gives every configuration without an Id a random one (as S3 does on Put).
void assign_missing_ids(notification_config& c);

/// True when the configured event type `configured` ("s3:ObjectCreated:*") covers
/// `event_name` ("ObjectCreated:Put" or "s3:ObjectCreated:Put").
[[nodiscard]] bool event_matches(std::string_view configured, std::string_view event_name) noexcept;

/// True when `rule` asks for `event_name` ("ObjectCreated:Put", with or without "s3:") on
/// the object `key` (the key itself, as stored: not encoded). The prefix and suffix are
/// compared with the key's event form (`encode_event_key`), as S3 does.
[[nodiscard]] bool matches(const notification_rule& rule, std::string_view event_name, std::string_view key);
/// The same for a queue or topic configuration.
[[nodiscard]] bool matches(const destination_rule& rule, std::string_view event_name, std::string_view key);

/// Every event type S3 accepts in a notification configuration ("s3:ObjectCreated:*", …).
[[nodiscard]] const std::vector<std::string_view>& supported_events() noexcept;

}  // namespace scar::s3
