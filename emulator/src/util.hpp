#pragma once
// Small helpers shared by the emulator's services.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scar::emulator {

/// Owns a file descriptor.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }
    [[nodiscard]] int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

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

/// Escapes text for XML element content and attribute values.
void append_xml_escaped(std::string& out, std::string_view text);

/// Appends `<name>escaped value</name>`.
void append_xml_element(std::string& out, std::string_view name, std::string_view value);

}  // namespace scar::emulator
