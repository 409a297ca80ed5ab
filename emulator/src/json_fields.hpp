#pragma once
// Lenient field access on parsed JSON objects: a missing or mistyped field reads as empty.

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scar::emulator {

/// The string at `k`, or "" when absent or not a string.
[[nodiscard]] inline std::string json_string(const boost::json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

/// The integer at `k` (a double is truncated), or nullopt.
[[nodiscard]] inline std::optional<std::int64_t> json_int(const boost::json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
    return std::nullopt;
}

}  // namespace scar::emulator
