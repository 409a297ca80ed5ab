#pragma once
// Small helpers shared by the emulator's services.

#include <scar/core/unique_fd.hpp>

#include <chrono>
#include <cstdint>
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

}  // namespace scar::emulator
