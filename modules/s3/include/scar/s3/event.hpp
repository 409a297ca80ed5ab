#pragma once
/// @file
/// S3 event notification records (eventVersion 2.1), field for field as AWS sends them to
/// Lambda, SQS and SNS: produced by the emulator's S3 service, read by the supervisor from
/// the emulator and from AWS alike.
///
/// @code
/// s3::event_record r;
/// r.aws_region = "us-east-1";
/// r.event_time = clock.now();
/// r.event_name = "ObjectCreated:Put";
/// r.bucket_name = "in";  r.bucket_arn = "arn:aws:s3:::in";
/// r.key = "photos/a b.jpg";                  // the key itself; written as "photos/a+b.jpg"
/// r.size = 1024;  r.etag = "0123456789abcdef0123456789abcdef";
/// r.sequencer = sequencers.next();
/// std::string json = s3::to_json(s3::event_batch{{r}});   // {"Records":[{…}]}
/// @endcode
///
/// Keys: in the JSON, `s3.object.key` is URL-encoded the way S3 does it (UTF-8 bytes as
/// `%XX`, a space as `+`, `/` and `A-Z a-z 0-9 - _ . *` kept). The model holds the key
/// itself (`event_record::key`); `to_json` encodes it and `parse_event_json` decodes it.

#include <scar/core/clock.hpp>
#include <scar/core/error.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::s3 {

/// One element of `Records`.
struct event_record {
    std::string event_version = "2.1";
    std::string event_source = "aws:s3";
    std::string aws_region;
    /// When S3 finished the request; written as "1970-01-01T00:00:00.000Z" (UTC, milliseconds).
    clock::time_point event_time{};
    /// The event type without "s3:": "ObjectCreated:Put", "ObjectRemoved:Delete"…
    std::string event_name;
    /// `userIdentity.principalId`: who made the request ("AWS:AIDA…", or the access key id).
    std::string principal_id;
    /// `requestParameters.sourceIPAddress`.
    std::string source_ip;
    /// `responseElements` `x-amz-request-id` and `x-amz-id-2` of the request that caused it.
    std::string request_id;
    std::string id2;
    std::string s3_schema_version = "1.0";
    /// `s3.configurationId`: the Id of the notification configuration that matched.
    std::string configuration_id;
    std::string bucket_name;
    /// `s3.bucket.ownerIdentity.principalId`.
    std::string bucket_owner;
    /// "arn:aws:s3:::BUCKET".
    std::string bucket_arn;
    /// The object key itself, decoded (not as written in the JSON).
    std::string key;
    /// Object size in bytes; absent for ObjectRemoved events, which S3 sends without it.
    std::optional<std::uint64_t> size;
    /// The ETag without quotes; empty: omitted (ObjectRemoved events).
    std::string etag;
    /// The version id in a versioned bucket; empty: omitted.
    std::string version_id;
    /// Upper-case hex that orders events on one key (see `compare_sequencers`).
    std::string sequencer;

    friend bool operator==(const event_record&, const event_record&) = default;
};

/// What S3 delivers: `{"Records":[…]}`.
struct event_batch {
    std::vector<event_record> records;
    friend bool operator==(const event_batch&, const event_batch&) = default;
};

/// The JSON document `{"Records":[…]}`, keys in AWS's order, with the key URL-encoded, the
/// time to the millisecond, `size` as a number, and `eTag`, `size`, `versionId` omitted
/// when not set.
[[nodiscard]] std::string to_json(const event_batch& batch);

/// The JSON of one record (an element of `Records`).
[[nodiscard]] std::string to_json(const event_record& record);

/// Reads `{"Records":[…]}` from S3, SNS-free (the message S3 sends to Lambda, or the body
/// of an SQS message from S3). Tolerant, because it reads what AWS sends as well as what
/// the emulator sends: unknown fields are ignored (eventVersion 2.2/2.3 extras such as
/// `glacierEventData`), missing fields stay empty, `size` may be a number or a string,
/// `eventTime` may lack milliseconds. S3's test message
/// (`{"Service":"Amazon S3","Event":"s3:TestEvent",…}`) gives an empty batch.
///
/// Errors: `MalformedEvent` when the text is not JSON, has no `Records` array (and is not
/// a test event), a record is not an object, or `eventTime` is not an ISO 8601 UTC time.
[[nodiscard]] result<event_batch> parse_event_json(std::string_view json);

/// A key as S3 writes it in events: UTF-8 bytes URL-encoded, a space as `+`, and
/// `A-Z a-z 0-9 - _ . * /` unchanged. "a b/ü+.txt" → "a+b/%C3%BC%2B.txt".
[[nodiscard]] std::string encode_event_key(std::string_view key);

/// The key of an event's `s3.object.key`: `+` is a space, `%XX` a byte. A `%` not followed by
/// two hex digits is kept as written (AWS never sends one; tolerate what others send).
[[nodiscard]] std::string decode_event_key(std::string_view encoded);

/// "2024-05-01T12:00:00.123Z" for `t` (UTC, milliseconds truncated).
[[nodiscard]] std::string format_event_time(clock::time_point t);

/// Parses an ISO 8601 UTC time ("2024-05-01T12:00:00.123Z", fraction optional, "Z" or
/// "+00:00"); nullopt when malformed.
[[nodiscard]] std::optional<clock::time_point> parse_event_time(std::string_view text) noexcept;

/// Orders two sequencers as AWS documents it: the shorter is right-padded with '0' and the
/// two compared as strings (hex digits of the same case). <0, 0, >0 as `a` is earlier,
/// the same, later than `b`.
[[nodiscard]] int compare_sequencers(std::string_view a, std::string_view b) noexcept;

/// Makes sequencers that increase with every call: 16 upper-case hex digits from the
/// clock's nanoseconds, moved forward when the clock stands still or goes back, so that
/// events on one key (indeed on every key) are ordered as they were made.
///
/// @par Thread safety
/// `next` may be called from any thread.
class sequencer_source {
public:
    explicit sequencer_source(const clock& c = clock::system()) noexcept : clock_(&c) {}
    /// The next sequencer, greater than every one made before by this source.
    [[nodiscard]] std::string next();

private:
    const clock* clock_;
    std::mutex mutex_;
    std::uint64_t last_ = 0;
};

}  // namespace scar::s3
