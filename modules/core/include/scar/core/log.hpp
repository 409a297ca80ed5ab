#pragma once
/// @file
/// Levelled logging to standard error.
///
/// One line per message: `2026-11-22T14:03:07.123Z info  pulled 3 layers`. The level comes
/// from `SCAR_LOG_LEVEL` (trace, debug, info, warn, error, off; default info) or from
/// `set_level`. Arguments are streamed with `operator<<` only when the level is enabled, so
/// a disabled `log::debug(...)` costs one comparison.
///
/// @par Thread safety
/// All functions may be called from any thread; lines are written whole.

#include <optional>
#include <sstream>
#include <string_view>

namespace scar::log {

enum class level { trace, debug, info, warn, error, off };

/// Sets the process-wide threshold.
void set_level(level l) noexcept;

/// The current threshold (initialised from `SCAR_LOG_LEVEL` on first use).
[[nodiscard]] level current_level() noexcept;

/// Parses "trace" … "off" (case-insensitive; "warning" is accepted for warn).
[[nodiscard]] std::optional<level> parse_level(std::string_view name) noexcept;

/// Writes one line at level `l`, unconditionally.
void write(level l, std::string_view message) noexcept;

[[nodiscard]] inline bool enabled(level l) noexcept { return l >= current_level(); }

template <class... Args>
void emit(level l, const Args&... args) {
    if (!enabled(l)) return;
    std::ostringstream os;
    (os << ... << args);
    write(l, os.view());
}

template <class... Args>
void trace(const Args&... args) { emit(level::trace, args...); }
template <class... Args>
void debug(const Args&... args) { emit(level::debug, args...); }
template <class... Args>
void info(const Args&... args) { emit(level::info, args...); }
template <class... Args>
void warn(const Args&... args) { emit(level::warn, args...); }
template <class... Args>
void error(const Args&... args) { emit(level::error, args...); }

}  // namespace scar::log
