#include "document.hpp"

#include <algorithm>
#include <cstdio>

namespace scar::config::detail {

std::string origin::where() const {
    std::string out = file ? file->name : std::string("<config>");
    if (file && file->positions && line > 0) {
        out += ":" + std::to_string(line) + ":" + std::to_string(column);
    }
    return out;
}

const value* find(const table& t, std::string_view key) {
    for (const auto& e : t) {
        if (e.key == key) return &e.val;
    }
    return nullptr;
}

value* find(table& t, std::string_view key) {
    for (auto& e : t) {
        if (e.key == key) return &e.val;
    }
    return nullptr;
}

const value* find_path(const table& t, std::string_view dotted) {
    const table* current = &t;
    for (;;) {
        const auto dot = dotted.find('.');
        const value* v = find(*current, dotted.substr(0, dot));
        if (v == nullptr || dot == std::string_view::npos) return v;
        current = v->as_table();
        if (current == nullptr) return nullptr;
        dotted.remove_prefix(dot + 1);
    }
}

void merge_into(table& base, const table& over) {
    for (const auto& e : over) {
        value* existing = find(base, e.key);
        if (existing == nullptr) {
            base.push_back(e);
        } else if (existing->as_table() != nullptr && e.val.as_table() != nullptr) {
            merge_into(*existing->as_table(), *e.val.as_table());
            existing->where = e.val.where;  // errors about the table point at the latest layer's
        } else {
            *existing = e.val;
        }
    }
}

std::string describe(const value& v) {
    struct visitor {
        std::string operator()(const std::string& s) const { return "a string (" + toml_string(s) + ")"; }
        std::string operator()(std::int64_t i) const { return "an integer (" + std::to_string(i) + ")"; }
        std::string operator()(double d) const {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%g", d);
            return std::string("a float (") + buf + ")";
        }
        std::string operator()(bool b) const {
            return std::string("a boolean (") + (b ? "true" : "false") + ")";
        }
        std::string operator()(const datetime& d) const { return "a date/time (" + d.text + ")"; }
        std::string operator()(const array&) const { return "an array"; }
        std::string operator()(const table&) const { return "a table"; }
    };
    return std::visit(visitor{}, v.data);
}

std::string toml_key(std::string_view key) {
    const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-';
    });
    return bare ? std::string(key) : toml_string(key);
}

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\r':
                out += "\\r";
                break;
            default: {
                const auto u = static_cast<unsigned char>(c);
                if (u < 0x20 || u == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(u));
                    out += buf;
                } else {
                    out += c;  // UTF-8 passes through: TOML strings are UTF-8
                }
            }
        }
    }
    return out + "\"";
}

void diagnostics::add(const origin& at, std::string_view message) {
    std::string line = at.where() + ": ";
    if (!at.key.empty()) line += at.key + ": ";
    line += message;
    add_line(std::move(line));
}

void diagnostics::add_line(std::string line) {
    if (std::find(lines_.begin(), lines_.end(), line) == lines_.end()) lines_.push_back(std::move(line));
}

std::string diagnostics::text() const {
    std::string out;
    for (const auto& l : lines_) {
        if (!out.empty()) out += '\n';
        out += l;
    }
    return out;
}

}  // namespace scar::config::detail
