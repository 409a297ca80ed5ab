#include "util.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/sigv4/canonical.hpp>

#include <ctime>

#include <unistd.h>

namespace scar::emulator {

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start < query.size()) {
        auto end = query.find('&', start);
        if (end == std::string_view::npos) end = query.size();
        const auto pair = query.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        const auto raw_name = pair.substr(0, eq);
        const auto raw_value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        auto name = encoding::uri_decode(raw_name, true);
        auto value = encoding::uri_decode(raw_value, true);
        out.emplace_back(
            name ? std::move(*name) : std::string(raw_name),
            value ? std::move(*value) : std::string(raw_value)
        );
    }
    return out;
}

std::int64_t now_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}

namespace {
std::tm utc(std::int64_t ms) {
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return tm;
}
}  // namespace

std::string iso8601_ms(std::int64_t ms) {
    const std::tm tm = utc(ms);
    char buf[32];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf, n);
    const auto frac = static_cast<int>(ms % 1000);
    out.push_back('.');
    out.push_back(static_cast<char>('0' + frac / 100));
    out.push_back(static_cast<char>('0' + frac / 10 % 10));
    out.push_back(static_cast<char>('0' + frac % 10));
    out.push_back('Z');
    return out;
}

std::string http_date(std::int64_t ms) {
    const std::tm tm = utc(ms);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return {buf, n};
}

std::int64_t parse_http_date_ms(std::string_view s) noexcept {
    const auto t = sigv4::parse_http_date(s);
    if (!t) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

std::string random_hex(std::size_t n, bool upper) {
    const auto bytes = crypto::random_bytes(n);
    auto hex = encoding::to_hex(
        std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())  // NOLINT
    );
    if (upper)
        for (auto& c : hex)
            if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    return hex;
}

}  // namespace scar::emulator
