#include "scar/config/keys.hpp"

#include "build.hpp"
#include "schema.hpp"

namespace scar::config {
namespace {

using detail::kind;
using detail::spec;

std::string render(const detail::value& v) {
    if (const auto* s = v.as_string()) return detail::toml_string(*s);
    if (const auto* i = v.as_integer()) return std::to_string(*i);
    if (const auto* b = v.as_bool()) return *b ? "true" : "false";
    if (const auto* a = v.as_array()) {
        std::string out = "[";
        for (const auto& e : *a) out += (out.size() > 1 ? ", " : "") + render(e);
        return out + "]";
    }
    if (const auto* t = v.as_table()) {
        std::string out = "{";
        for (const auto& e : *t)
            out += (out.size() > 1 ? ", " : " ") + detail::toml_key(e.key) + " = " + render(e.val);
        return out + (out.size() > 1 ? " }" : "}");
    }
    return "—";
}

/// The default of a key: its value at `default_path` in conf/defaults.toml, or the spec's
/// default for keys inside array elements.
std::string default_of(const spec& s, const std::string& default_path) {
    if (s.kind == kind::section || s.kind == kind::table_array || s.kind == kind::id_table) return "—";
    if (!s.element_default.empty()) return s.element_default;
    const detail::value* v =
        default_path.empty() ? nullptr : detail::find_path(detail::builtin().doc, default_path);
    return v == nullptr ? "—" : render(*v);
}

void flatten(
    const spec& s,
    const std::string& path,
    const std::string& default_path,
    std::vector<key_info>& out
) {
    out.push_back(key_info{
        path,
        std::string(detail::type_name(s.kind)),
        default_of(s, default_path),
        detail::valid_text(s),
        s.scar,
        s.meaning,
    });
    if (!s.document_children) return;
    if (s.kind == kind::id_table) {
        // storage.<type>.<id>.*: defaults come from [defaults.storage.<type>].
        const spec& entry = s.children.front();
        out.back().key += ".<id>";
        out.back().type = "table";
        for (const auto& c : entry.children) {
            flatten(c, path + ".<id>." + c.name, "defaults." + path + "." + c.name, out);
        }
        return;
    }
    for (const auto& c : s.children) {
        std::string child_default = default_path.empty() ? std::string{} : default_path + "." + c.name;
        if (path == "function") {
            // A function's keys default from [defaults.function], its deployment from [deployment].
            child_default = c.name == "deployment" ? "deployment" : "defaults.function." + c.name;
        }
        flatten(c, path + "." + c.name, child_default, out);
    }
}

}  // namespace

const std::vector<key_info>& known_keys() {
    static const std::vector<key_info> keys = [] {
        std::vector<key_info> out;
        for (const auto& top : detail::file_spec().children) flatten(top, top.name, top.name, out);
        return out;
    }();
    return keys;
}

}  // namespace scar::config
