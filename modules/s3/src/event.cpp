#include "scar/s3/event.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace scar::s3 {
namespace json = boost::json;

namespace {

error malformed(std::string message) {
    return make_error("MalformedEvent", std::move(message));
}

/// The string at `o[name]`, or "" when absent or not a string.
std::string text_of(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) return {};
    if (const auto* s = v->if_string()) return std::string(*s);
    return {};
}

const json::object& object_of(const json::object& o, std::string_view name) {
    static const json::object empty;
    const auto* v = o.if_contains(name);
    if (v == nullptr || !v->is_object()) return empty;
    return v->get_object();
}

std::optional<std::uint64_t> size_of(const json::object& o) {
    const auto* v = o.if_contains("size");
    if (v == nullptr) return std::nullopt;
    if (const auto* i = v->if_int64(); i != nullptr && *i >= 0) return static_cast<std::uint64_t>(*i);
    if (const auto* u = v->if_uint64()) return *u;
    // 2^64: a larger double does not convert (found by fuzzing).
    if (const auto* d = v->if_double(); d != nullptr && *d >= 0 && *d < 18446744073709551616.0)
        return static_cast<std::uint64_t>(*d);
    if (const auto* s = v->if_string()) {
        std::uint64_t n = 0;
        const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
        if (ec == std::errc() && p == s->data() + s->size()) return n;
    }
    return std::nullopt;
}

json::object record_object(const event_record& r) {
    json::object object;
    object["key"] = encode_event_key(r.key);
    if (r.size) object["size"] = *r.size;
    if (!r.etag.empty()) object["eTag"] = r.etag;
    if (!r.version_id.empty()) object["versionId"] = r.version_id;
    if (!r.sequencer.empty()) object["sequencer"] = r.sequencer;
    // boost::json::object keeps insertion order: the fields come out in AWS's order.
    return json::object{
        {"eventVersion", r.event_version},
        {"eventSource", r.event_source},
        {"awsRegion", r.aws_region},
        {"eventTime", format_event_time(r.event_time)},
        {"eventName", r.event_name},
        {"userIdentity", json::object{{"principalId", r.principal_id}}},
        {"requestParameters", json::object{{"sourceIPAddress", r.source_ip}}},
        {"responseElements", json::object{{"x-amz-request-id", r.request_id}, {"x-amz-id-2", r.id2}}},
        {"s3",
         json::object{
             {"s3SchemaVersion", r.s3_schema_version},
             {"configurationId", r.configuration_id},
             {"bucket",
              json::object{
                  {"name", r.bucket_name},
                  {"ownerIdentity", json::object{{"principalId", r.bucket_owner}}},
                  {"arn", r.bucket_arn}}},
             {"object", std::move(object)}}}};
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool parse_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

}  // namespace

std::string encode_event_key(std::string_view key) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(key.size());
    for (const char c : key) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '*' || c == '/') {
            out.push_back(c);
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4U]);
            out.push_back(hex[u & 15U]);
        }
    }
    return out;
}

std::string decode_event_key(std::string_view encoded) {
    std::string out;
    out.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        const char c = encoded[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%' && i + 2 < encoded.size() && hex_value(encoded[i + 1]) >= 0 && hex_value(encoded[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string format_event_time(clock::time_point t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    char buf[32];
    std::snprintf(
        buf,
        sizeof buf,
        "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
        static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()),
        static_cast<unsigned>(ymd.day()),
        static_cast<int>(hms.hours().count()),
        static_cast<int>(hms.minutes().count()),
        static_cast<int>(hms.seconds().count()),
        static_cast<int>(hms.subseconds().count())
    );
    return buf;
}

std::optional<clock::time_point> parse_event_time(std::string_view s) noexcept {
    using namespace std::chrono;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!parse_digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !parse_digits(s, 5, 2, mo) ||
        s[7] != '-' || !parse_digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
        !parse_digits(s, 11, 2, h) || s[13] != ':' || !parse_digits(s, 14, 2, mi) || s[16] != ':' ||
        !parse_digits(s, 17, 2, sec)) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    nanoseconds fraction{0};
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            fraction += nanoseconds((s[pos] - '0') * scale);
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    const std::string_view zone = s.substr(pos);
    if (zone != "Z" && zone != "z" && zone != "+00:00" && zone != "-00:00") return std::nullopt;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    // A time_point counts nanoseconds in 64 bits (1678 to 2262); events are from this epoch.
    if (sys_days{ymd} < sys_days{year{1970} / January / 1} ||
        sys_days{ymd} >= sys_days{year{2262} / January / 1})
        return std::nullopt;
    const auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + fraction;
    return time_point_cast<clock::time_point::duration>(t);
}

int compare_sequencers(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const char x = i < a.size() ? a[i] : '0';
        const char y = i < b.size() ? b[i] : '0';
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

std::string sequencer_source::next() {
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->now().time_since_epoch()).count()
    );
    std::uint64_t value = 0;
    {
        const std::lock_guard lock(mutex_);
        last_ = std::max(now, last_ + 1);
        value = last_;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(value));
    return buf;
}

std::string to_json(const event_record& record) {
    return json::serialize(record_object(record));
}

std::string to_json(const event_batch& batch) {
    json::array records;
    records.reserve(batch.records.size());
    for (const auto& r : batch.records) records.emplace_back(record_object(r));
    return json::serialize(json::object{{"Records", std::move(records)}});
}

result<event_batch> parse_event_json(std::string_view text) {
    boost::system::error_code ec;
    const json::value doc = json::parse(text, ec);
    if (ec) return malformed("the S3 event is not JSON (" + ec.message() + "); expected {\"Records\":[…]}");
    if (!doc.is_object()) return malformed("the S3 event is not a JSON object; expected {\"Records\":[…]}");
    const auto& root = doc.get_object();
    const auto* records = root.if_contains("Records");
    if (records == nullptr || !records->is_array()) {
        if (text_of(root, "Event") == "s3:TestEvent") return event_batch{};
        return malformed("the S3 event has no \"Records\" array; expected {\"Records\":[…]} as S3 sends it");
    }
    event_batch batch;
    std::size_t index = 0;
    for (const auto& v : records->get_array()) {
        if (!v.is_object()) {
            return malformed("Records[" + std::to_string(index) + "] is not an object");
        }
        const auto& o = v.get_object();
        event_record r;
        r.event_version = text_of(o, "eventVersion");
        r.event_source = text_of(o, "eventSource");
        r.aws_region = text_of(o, "awsRegion");
        if (const auto t = text_of(o, "eventTime"); !t.empty()) {
            const auto parsed = parse_event_time(t);
            if (!parsed) {
                return malformed(
                    "Records[" + std::to_string(index) + "].eventTime '" + t +
                    "' is not an ISO 8601 UTC time like 1970-01-01T00:00:00.000Z"
                );
            }
            r.event_time = *parsed;
        }
        r.event_name = text_of(o, "eventName");
        if (r.event_name.starts_with("s3:")) r.event_name.erase(0, 3);
        r.principal_id = text_of(object_of(o, "userIdentity"), "principalId");
        r.source_ip = text_of(object_of(o, "requestParameters"), "sourceIPAddress");
        const auto& response = object_of(o, "responseElements");
        r.request_id = text_of(response, "x-amz-request-id");
        r.id2 = text_of(response, "x-amz-id-2");
        const auto& s3 = object_of(o, "s3");
        r.s3_schema_version = text_of(s3, "s3SchemaVersion");
        r.configuration_id = text_of(s3, "configurationId");
        const auto& bucket = object_of(s3, "bucket");
        r.bucket_name = text_of(bucket, "name");
        r.bucket_owner = text_of(object_of(bucket, "ownerIdentity"), "principalId");
        r.bucket_arn = text_of(bucket, "arn");
        const auto& object = object_of(s3, "object");
        r.key = decode_event_key(text_of(object, "key"));
        r.size = size_of(object);
        r.etag = text_of(object, "eTag");
        r.version_id = text_of(object, "versionId");
        r.sequencer = text_of(object, "sequencer");
        batch.records.push_back(std::move(r));
        ++index;
    }
    return batch;
}

}  // namespace scar::s3
