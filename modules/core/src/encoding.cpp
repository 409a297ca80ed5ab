#include "scar/core/encoding.hpp"

#include <array>

namespace scar::encoding {
namespace {

constexpr std::string_view hex_lower = "0123456789abcdef";
constexpr std::string_view hex_upper = "0123456789ABCDEF";
constexpr std::string_view b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr std::array<std::int8_t, 256> b64_table = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < b64_alphabet.size(); ++i) {
        t[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}();

constexpr char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

void append_hex(std::string& out, std::span<const std::uint8_t> data) {
    const std::size_t at = out.size();
    out.resize(at + data.size() * 2);
    char* p = out.data() + at;
    for (const std::uint8_t b : data) {
        *p++ = hex_lower[b >> 4U];
        *p++ = hex_lower[b & 0x0fU];
    }
}

std::string to_hex(std::span<const std::uint8_t> data) {
    std::string out;
    append_hex(out, data);
    return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]);
        const int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
}

std::string base64_encode(std::span<const std::uint8_t> data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const std::uint32_t v =
            (std::uint32_t{data[i]} << 16U) | (std::uint32_t{data[i + 1]} << 8U) | data[i + 2];
        out.push_back(b64_alphabet[(v >> 18U) & 63U]);
        out.push_back(b64_alphabet[(v >> 12U) & 63U]);
        out.push_back(b64_alphabet[(v >> 6U) & 63U]);
        out.push_back(b64_alphabet[v & 63U]);
    }
    if (const std::size_t rest = data.size() - i; rest != 0) {
        std::uint32_t v = std::uint32_t{data[i]} << 16U;
        if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8U;
        out.push_back(b64_alphabet[(v >> 18U) & 63U]);
        out.push_back(b64_alphabet[(v >> 12U) & 63U]);
        out.push_back(rest == 2 ? b64_alphabet[(v >> 6U) & 63U] : '=');
        out.push_back('=');
    }
    return out;
}

std::string base64_encode(std::string_view data) {
    return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size())
    );  // NOLINT
}

std::optional<std::string> base64_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    unsigned bits = 0;
    for (const char c : text) {
        const int v = b64_table[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
        acc = (acc << 6U) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xffU));
        }
    }
    // Leftover bits must be zero padding, or the input was not canonical base64.
    if ((acc & ((1U << bits) - 1U)) != 0) return std::nullopt;
    return out;
}

void append_uri_encoded(std::string& out, std::string_view text, bool keep_slash) {
    static constexpr auto unreserved = [] {
        std::array<bool, 256> t{};
        for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = is_unreserved(static_cast<char>(c));
        return t;
    }();
    const std::size_t at = out.size();
    out.resize(at + text.size() * 3);
    char* p = out.data() + at;
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if (unreserved[b] || (keep_slash && c == '/')) {
            *p++ = c;
        } else {
            *p++ = '%';
            *p++ = hex_upper[b >> 4U];
            *p++ = hex_upper[b & 0x0fU];
        }
    }
    out.resize(static_cast<std::size_t>(p - out.data()));
}

std::string uri_encode(std::string_view text, bool keep_slash) {
    std::string out;
    append_uri_encoded(out, text, keep_slash);
    return out;
}

std::optional<std::string> uri_decode(std::string_view text, bool plus_as_space) {
    if (text.find('%') == std::string_view::npos &&
        (!plus_as_space || text.find('+') == std::string_view::npos)) {
        return std::string(text);
    }
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = lower(c);
    return out;
}

std::string_view trim(std::string_view text) noexcept {
    constexpr std::string_view ws = " \t\r\n";
    const auto first = text.find_first_not_of(ws);
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(ws);
    return text.substr(first, last - first + 1);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string to_valid_utf8(std::string_view text) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            out.push_back(static_cast<char>(b));
            ++i;
            continue;
        }
        // Length and the range of the second byte (RFC 3629 table): this rejects overlong
        // forms, surrogates (ED A0–BF) and anything above U+10FFFF (F4 90+).
        std::size_t n = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            n = 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            n = 3;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            n = 4;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        }
        bool ok = n != 0 && i + n <= text.size();
        for (std::size_t k = 1; ok && k < n; ++k) {
            const auto c = static_cast<unsigned char>(text[i + k]);
            ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
        }
        if (ok) {
            out.append(text.substr(i, n));
            i += n;
        } else {
            out.append(replacement);
            ++i;
        }
    }
    return out;
}

}  // namespace scar::encoding
