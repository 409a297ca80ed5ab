#include "scar/sigv4/canonical.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>

#include <algorithm>
#include <array>
#include <ctime>
#include <utility>
#include <vector>

namespace scar::sigv4 {
namespace {

constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

void append_2(std::string& out, int v) {
    out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
}

int digits(std::string_view s, std::size_t at, std::size_t n) noexcept {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

std::optional<clock::time_point> from_tm(std::tm& tm) noexcept {
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60) {
        return std::nullopt;
    }
    const std::time_t t = timegm(&tm);
    // A time_point counts nanoseconds in 64 bits: it ends in 2262.
    constexpr auto last =
        std::chrono::duration_cast<std::chrono::seconds>(clock::time_point::duration::max()).count();
    if (t == -1 || t > last) return std::nullopt;
    return clock::time_point(std::chrono::seconds(t));
}

}  // namespace

service_rules service_rules::for_service(std::string_view service) noexcept {
    if (service == "s3" || service == "s3-outposts" || service == "s3express") {
        return {
            .double_encode_path = false,
            .normalize_path = false,
            .content_sha256_header = true,
            .presign_unsigned_payload = true};
    }
    return {};
}

target_parts split_target(std::string_view url) noexcept {
    target_parts out;
    if (const auto hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
    if (const auto scheme = url.find("://"); scheme != std::string_view::npos && url.find('/') > scheme) {
        url.remove_prefix(scheme + 3);
        const auto end = url.find_first_of("/?");
        out.authority = url.substr(0, end);
        url = end == std::string_view::npos ? std::string_view{} : url.substr(end);
    }
    const auto q = url.find('?');
    out.path = url.substr(0, q);
    if (q != std::string_view::npos) out.query = url.substr(q + 1);
    if (out.path.empty()) out.path = "/";
    return out;
}

std::string normalize_path(std::string_view path) {
    if (path.empty()) return "/";
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const auto seg = path.substr(start, end - start);
        if (seg == "..") {
            if (!segments.empty()) segments.pop_back();
        } else if (!seg.empty() && seg != ".") {
            segments.push_back(seg);
        }
        start = end + 1;
    }
    std::string out;
    out.reserve(path.size());
    if (path.front() == '/') out.push_back('/');
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (i != 0) out.push_back('/');
        out.append(segments[i]);
    }
    if (path.back() == '/' && !segments.empty()) out.push_back('/');
    if (out.empty()) out = "/";
    return out;
}

std::string canonical_path(std::string_view wire_path, const service_rules& rules) {
    if (wire_path.empty()) wire_path = "/";
    if (!rules.double_encode_path) {
        // S3: the path is encoded once, from its decoded form, so a character the client left
        // unescaped (`@`, `!`, `'`) is signed as AWS computes it, escaped.
        const std::string path = rules.normalize_path ? normalize_path(wire_path) : std::string(wire_path);
        const auto decoded = encoding::uri_decode(path);
        return decoded ? encoding::uri_encode(*decoded, true) : path;
    }
    if (rules.normalize_path) return encoding::uri_encode(normalize_path(wire_path), true);
    return encoding::uri_encode(wire_path, true);
}

namespace {

/// True when `s` is already in canonical form: only unreserved characters, so decoding
/// and re-encoding would give it back unchanged (the common case: `x-id=PutObject`).
bool already_canonical(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), encoding::is_unreserved);
}

/// The canonical form of one query component: decoded then encoded with SigV4's rules.
/// A malformed escape is signed as written: the client signed the same bytes.
std::string_view canonical_component(std::string_view raw, std::string& storage) {
    if (already_canonical(raw)) return raw;
    if (auto decoded = encoding::uri_decode(raw)) {
        storage = encoding::uri_encode(*decoded);
        return storage;
    }
    return raw;
}

}  // namespace

std::string canonical_query(std::string_view query, std::initializer_list<std::string_view> exclude) {
    if (query.empty()) return {};
    const auto count = static_cast<std::size_t>(std::count(query.begin(), query.end(), '&')) + 1;
    // Views into the query, or into `owned` for re-encoded components; `owned` never grows
    // past its reserved size, so the views stay valid.
    std::vector<std::pair<std::string_view, std::string_view>> params;
    std::vector<std::string> owned(2 * count);
    params.reserve(count);
    std::size_t start = 0;
    std::size_t size = 0;
    for (std::size_t i = 0; i < count; ++i) {
        auto end = query.find('&', start);
        if (end == std::string_view::npos) end = query.size();
        const auto pair = query.substr(start, end - start);
        start = end + 1;
        // An empty pair ("a=1&&b=2", a trailing '&') is signed as "=", as botocore does.
        const auto eq = pair.find('=');
        const auto name = canonical_component(pair.substr(0, eq), owned[2 * i]);
        if (std::find(exclude.begin(), exclude.end(), name) != exclude.end()) continue;
        const auto value = canonical_component(
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
            owned[2 * i + 1]
        );
        params.emplace_back(name, value);
        size += name.size() + value.size() + 2;
    }
    std::sort(params.begin(), params.end());
    std::string out;
    out.reserve(size);
    for (const auto& [n, v] : params) {
        if (!out.empty()) out.push_back('&');
        out.append(n).push_back('=');
        out.append(v);
    }
    return out;
}

void append_canonical_value(std::string& out, std::string_view value) {
    bool pending_space = false;
    bool any = false;
    for (const char c : value) {
        if (is_space(c)) {
            pending_space = any;
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        any = true;
        out.push_back(c);
    }
}

bool is_unsigned_header(std::string_view n) noexcept {
    static constexpr std::array<std::string_view, 12> names = {
        "authorization",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
        "transfer-encoding"};
    return std::any_of(names.begin(), names.end(), [n](std::string_view u) {
        return encoding::iequals(u, n);
    });
}

std::string format_amz_date(clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    // Signing many requests in the same second is the common case: skip gmtime_r.
    thread_local std::time_t last_secs = -1;
    thread_local std::string last_text;
    if (secs == last_secs) return last_text;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::string out;
    out.reserve(16);
    const int year = tm.tm_year + 1900;
    append_2(out, year / 100);
    append_2(out, year % 100);
    append_2(out, tm.tm_mon + 1);
    append_2(out, tm.tm_mday);
    out.push_back('T');
    append_2(out, tm.tm_hour);
    append_2(out, tm.tm_min);
    append_2(out, tm.tm_sec);
    out.push_back('Z');
    last_secs = secs;
    last_text = out;
    return out;
}

std::optional<clock::time_point> parse_amz_date(std::string_view s) noexcept {
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
    std::tm tm{};
    const int year = digits(s, 0, 4);
    tm.tm_mon = digits(s, 4, 2) - 1;
    tm.tm_mday = digits(s, 6, 2);
    tm.tm_hour = digits(s, 9, 2);
    tm.tm_min = digits(s, 11, 2);
    tm.tm_sec = digits(s, 13, 2);
    if (year < 1970 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0) return std::nullopt;
    tm.tm_year = year - 1900;
    return from_tm(tm);
}

std::optional<clock::time_point> parse_http_date(std::string_view s) noexcept {
    // "Sun, 30 Aug 2015 12:36:00 GMT"
    static constexpr std::array<std::string_view, 12> months =
        {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() != 29 || s[3] != ',' || s.substr(26) != "GMT" || s[19] != ':' || s[22] != ':')
        return std::nullopt;
    std::tm tm{};
    tm.tm_mday = digits(s, 5, 2);
    const auto mon = std::find(months.begin(), months.end(), s.substr(8, 3));
    if (mon == months.end()) return std::nullopt;
    tm.tm_mon = static_cast<int>(mon - months.begin());
    const int year = digits(s, 12, 4);
    tm.tm_hour = digits(s, 17, 2);
    tm.tm_min = digits(s, 20, 2);
    tm.tm_sec = digits(s, 23, 2);
    if (year < 1970 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0) return std::nullopt;
    tm.tm_year = year - 1900;
    return from_tm(tm);
}

std::string credential_scope(std::string_view date8, std::string_view region, std::string_view service) {
    std::string out;
    out.reserve(date8.size() + region.size() + service.size() + 16);
    out.append(date8).append("/").append(region).append("/").append(service).append("/aws4_request");
    return out;
}

std::string string_to_sign(
    std::string_view amz_date,
    std::string_view scope,
    std::string_view canonical_request
) {
    std::string out;
    out.reserve(32 + amz_date.size() + scope.size() + 64);
    out.append("AWS4-HMAC-SHA256\n").append(amz_date).append("\n").append(scope).append("\n");
    encoding::append_hex(out, crypto::sha256_of(canonical_request));
    return out;
}

}  // namespace scar::sigv4
