#pragma once
// Parses the raw HTTP requests of the SigV4 test suites (`request.txt`, `*.sreq`).

#include <scar/core/http.hpp>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace scar::testing {

struct raw_request {
    std::string method;
    std::string target;
    http::header_list headers;
    std::string body;
};

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Request line "METHOD TARGET HTTP/1.1" (the target may contain spaces), header lines
/// "Name:value" with obsolete folding (continuation lines start with whitespace), a blank
/// line, the body. nullopt when the text is not of that shape.
inline std::optional<raw_request> parse_raw_request(std::string_view text) {
    raw_request r;
    auto next_line = [&text]() -> std::optional<std::string_view> {
        if (text.empty()) return std::nullopt;
        const auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return line;
    };
    const auto first = next_line();
    if (!first) return std::nullopt;
    const auto sp = first->find(' ');
    constexpr std::string_view version = " HTTP/1.1";
    if (sp == std::string_view::npos || sp == 0 || !first->ends_with(version) ||
        first->size() < sp + 1 + version.size()) {
        return std::nullopt;
    }
    r.method = first->substr(0, sp);
    r.target = first->substr(sp + 1, first->size() - version.size() - sp - 1);
    if (r.target.empty() || r.target.find(' ') == 0) return std::nullopt;
    while (auto line = next_line()) {
        if (line->empty()) {
            r.body = text;
            return r;
        }
        if (line->front() == ' ' || line->front() == '\t') {
            if (r.headers.empty()) return std::nullopt;
            r.headers.back().second.append("\n").append(*line);
            continue;
        }
        const auto colon = line->find(':');
        if (colon == std::string_view::npos || colon == 0) return std::nullopt;
        auto value = line->substr(colon + 1);
        r.headers.emplace_back(std::string(line->substr(0, colon)), std::string(value));
    }
    return r;
}

}  // namespace scar::testing
