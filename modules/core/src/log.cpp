#include "scar/core/log.hpp"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace scar::log {
namespace {

level initial_level() noexcept {
    const char* env = std::getenv("SCAR_LOG_LEVEL");
    if (env == nullptr) return level::info;
    return parse_level(env).value_or(level::info);
}

std::atomic<level>& threshold() noexcept {
    static std::atomic<level> value{initial_level()};
    return value;
}

constexpr std::string_view label(level l) noexcept {
    switch (l) {
        case level::trace: return "trace";
        case level::debug: return "debug";
        case level::info: return "info ";
        case level::warn: return "warn ";
        case level::error: return "error";
        case level::off: return "off  ";
    }
    return "?    ";
}

}  // namespace

void set_level(level l) noexcept { threshold().store(l, std::memory_order_relaxed); }

level current_level() noexcept { return threshold().load(std::memory_order_relaxed); }

std::optional<level> parse_level(std::string_view name) noexcept {
    std::string lower;
    for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "trace") return level::trace;
    if (lower == "debug") return level::debug;
    if (lower == "info") return level::info;
    if (lower == "warn" || lower == "warning") return level::warn;
    if (lower == "error") return level::error;
    if (lower == "off" || lower == "none") return level::off;
    return std::nullopt;
}

void write(level l, std::string_view message) noexcept {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto secs = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    // One fprintf per line: stdio locks the stream, so concurrent lines never interleave.
    std::fprintf(
        stderr,
        "%s.%03dZ %.*s %.*s\n",
        stamp,
        static_cast<int>(millis),
        static_cast<int>(label(l).size()),
        label(l).data(),
        static_cast<int>(message.size()),
        message.data()
    );
}

}  // namespace scar::log
