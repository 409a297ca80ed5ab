#pragma once
// Small helpers shared by the emulator's services.

#include <scar/core/error.hpp>
#include <scar/core/unique_fd.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scar::emulator {

using scar::unique_fd;

/// Decoded query parameters in order; '+' is a space, a malformed escape is kept as is.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

/// Milliseconds since the epoch, now.
[[nodiscard]] std::int64_t now_ms() noexcept;
/// "2026-11-23T10:04:05.123Z"
[[nodiscard]] std::string iso8601_ms(std::int64_t ms);
/// "Mon, 23 Nov 2026 10:04:05 GMT"
[[nodiscard]] std::string http_date(std::int64_t ms);
/// Parses an HTTP date (RFC 7231 IMF-fixdate) to milliseconds; -1 when invalid.
[[nodiscard]] std::int64_t parse_http_date_ms(std::string_view s) noexcept;

/// `n` random bytes as upper-case hex (request ids).
[[nodiscard]] std::string random_hex(std::size_t n, bool upper = true);

/// Replaces `path` with `content` atomically: a temporary file next to it, every byte
/// written (and fsynced when `sync`), then renamed over it. On any failure the old file is
/// untouched, the temporary is removed, and the error (`error_code`, 500) names the file
/// and, on ENOSPC, says the data directory is full.
[[nodiscard]] result<void> replace_file(
    const std::filesystem::path& path,
    std::string_view content,
    std::string_view error_code,
    bool sync = false
);

}  // namespace scar::emulator
