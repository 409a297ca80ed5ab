#pragma once
// Lenient field access on parsed JSON objects: a missing or mistyped field reads as empty.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::emulator {

/// The string at `k`, or "" when absent or not a string.
[[nodiscard]] inline std::string json_string(const boost::json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

/// The integer at `k` (a double is truncated), or nullopt; also nullopt for a number no
/// int64 holds (a client may send 1e300).
[[nodiscard]] inline std::optional<std::int64_t> json_int(const boost::json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v->as_uint64());
    if (v->is_double() && v->as_double() > -9.2e18 && v->as_double() < 9.2e18)
        return static_cast<std::int64_t>(v->as_double());
    return std::nullopt;
}

/// The strings of the array `v` points to (other elements skipped); empty when it is not
/// an array.
[[nodiscard]] inline std::vector<std::string> json_strings(const boost::json::value* v) {
    std::vector<std::string> out;
    if (v != nullptr && v->is_array())
        for (const auto& e : v->as_array())
            if (e.is_string()) out.emplace_back(e.as_string());
    return out;
}

/// `v` as a JSON array of strings.
[[nodiscard]] inline boost::json::array json_array(const std::vector<std::string>& v) {
    boost::json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
}

}  // namespace scar::emulator
