#pragma once
/// @file
/// Text encodings used on the wire: hex, base64, and percent-encoding with AWS's rules.
///
/// AWS's `UriEncode` keeps only the unreserved characters `A-Z a-z 0-9 - _ . ~` and writes
/// every other byte as `%XX` with upper-case hex digits (space is `%20`, never `+`). Paths
/// keep `/` as the separator; query names and values encode it as `%2F`.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace scar::encoding {

/// Lower-case hex of `data` ("e3b0c442…").
[[nodiscard]] std::string to_hex(std::span<const std::uint8_t> data);
/// Appends lower-case hex of `data` to `out`.
void append_hex(std::string& out, std::span<const std::uint8_t> data);
/// Decodes hex (either case). nullopt on odd length or a non-hex character.
[[nodiscard]] std::optional<std::string> from_hex(std::string_view hex);

/// Standard base64 with padding (RFC 4648 §4).
[[nodiscard]] std::string base64_encode(std::span<const std::uint8_t> data);
[[nodiscard]] std::string base64_encode(std::string_view data);
/// Decodes standard base64; padding optional, whitespace not allowed. nullopt when invalid.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

/// True for the characters AWS's UriEncode leaves alone.
[[nodiscard]] constexpr bool is_unreserved(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/// AWS UriEncode of `text`; `/` is kept when `keep_slash` (paths), encoded otherwise.
[[nodiscard]] std::string uri_encode(std::string_view text, bool keep_slash = false);
/// Appends AWS UriEncode of `text` to `out`.
void append_uri_encoded(std::string& out, std::string_view text, bool keep_slash = false);

/// Decodes `%XX` escapes. `+` stays `+` unless `plus_as_space` (HTML forms). nullopt when a
/// `%` is not followed by two hex digits.
[[nodiscard]] std::optional<std::string> uri_decode(std::string_view text, bool plus_as_space = false);

/// Lower-cases ASCII letters.
[[nodiscard]] std::string to_lower(std::string_view text);
/// Removes leading and trailing spaces, tabs, CR and LF.
[[nodiscard]] std::string_view trim(std::string_view text) noexcept;
/// Case-insensitive ASCII equality.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// `text` with every byte that is not part of a well-formed UTF-8 sequence (overlong
/// forms, surrogates and code points above U+10FFFF included) replaced by U+FFFD, as
/// CloudWatch Logs stores program output. Valid text comes back unchanged.
[[nodiscard]] std::string to_valid_utf8(std::string_view text);

}  // namespace scar::encoding
