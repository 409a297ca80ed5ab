// The only translation unit that includes toml++ (it is a heavy header): TOML text → the
// module's ordered document with origins.

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <tuple>

#include "document.hpp"

namespace scar::config::detail {
namespace {

std::uint32_t u32(toml::source_index i) {
    return static_cast<std::uint32_t>(i);
}

value convert(const toml::node& n, const std::shared_ptr<const source>& src, const std::string& key) {
    value v;
    v.where = origin{src, u32(n.source().begin.line), u32(n.source().begin.column), key};
    switch (n.type()) {
        case toml::node_type::string:
            v.data = std::string(*n.as_string());
            break;
        case toml::node_type::integer:
            v.data = static_cast<std::int64_t>(*n.as_integer());
            break;
        case toml::node_type::floating_point:
            v.data = static_cast<double>(*n.as_floating_point());
            break;
        case toml::node_type::boolean:
            v.data = static_cast<bool>(*n.as_boolean());
            break;
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time: {
            std::ostringstream os;
            n.visit([&](const auto& leaf) {
                if constexpr (toml::is_date<decltype(leaf)> || toml::is_time<decltype(leaf)> || toml::is_date_time<decltype(leaf)>) {
                    os << leaf;
                }
            });
            v.data = datetime{os.str()};
            break;
        }
        case toml::node_type::array: {
            array a;
            std::size_t i = 0;
            for (const auto& e : *n.as_array()) {
                a.push_back(convert(e, src, key + "[" + std::to_string(i++) + "]"));
            }
            v.data = std::move(a);
            break;
        }
        case toml::node_type::table: {
            table t;
            for (const auto& [k, child] : *n.as_table()) {
                const std::string name(k.str());
                const std::string child_key = key.empty() ? toml_key(name) : key + "." + toml_key(name);
                t.push_back(entry{
                    name,
                    convert(child, src, child_key),
                    u32(k.source().begin.line),
                    u32(k.source().begin.column)});
            }
            // toml++ keeps tables sorted by key; errors read better in the order of the file.
            std::stable_sort(t.begin(), t.end(), [](const entry& a, const entry& b) {
                return std::tie(a.key_line, a.key_column) < std::tie(b.key_line, b.key_column);
            });
            v.data = std::move(t);
            break;
        }
        case toml::node_type::none:
            break;
    }
    return v;
}

}  // namespace

std::optional<table> read_toml(
    std::string_view text,
    const std::shared_ptr<const source>& src,
    diagnostics& diag
) {
    try {
        toml::table root = toml::parse(text, std::string_view(src->name));
        value v = convert(root, src, "");
        return std::move(std::get<table>(v.data));
    } catch (const toml::parse_error& e) {
        origin at{src, u32(e.source().begin.line), u32(e.source().begin.column), ""};
        diag.add_line(
            at.where() + ": " + std::string(e.description()) +
            "; fix the TOML syntax (https://toml.io/en/v1.0.0)"
        );
        return std::nullopt;
    }
}

}  // namespace scar::config::detail
