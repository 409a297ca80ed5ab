#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "build.hpp"
#include "scar/config/function.hpp"
#include "scar/config/keys.hpp"
#include "schema.hpp"

namespace scar::config::detail {
namespace {

struct layer_doc {
    std::shared_ptr<const source> src;
    table doc;
};

std::shared_ptr<const source> make_source(std::string name, std::filesystem::path base_dir, layer kind) {
    return std::make_shared<const source>(
        source{std::move(name), std::move(base_dir), kind, kind != layer::override}
    );
}

/// Parses and checks one file's text; what is wrong is dropped, so the rest still merges.
std::optional<layer_doc> read_layer(
    std::string_view text,
    std::shared_ptr<const source> src,
    diagnostics& diag
) {
    auto doc = read_toml(text, src, diag);
    if (!doc) return std::nullopt;
    check(*doc, file_spec(), "", diag);
    if (src->layer != layer::definition) {
        std::erase_if(*doc, [&](const entry& e) {
            if (e.key != "function") return false;
            diag.add(
                e.key_origin(),
                "functions belong in definition files (scar init -f FILE), not in " +
                    std::string(src->layer == layer::user ? "the user file" : "the defaults") +
                    "; put shared keys in [defaults.function]"
            );
            return true;
        });
    }
    return layer_doc{std::move(src), std::move(*doc)};
}

std::optional<std::string> read_file(
    const std::filesystem::path& p,
    std::string_view fix,
    diagnostics& diag
) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
        diag.add_line("cannot read '" + p.string() + "': it is a directory; " + std::string(fix));
        return std::nullopt;
    }
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        diag.add_line("cannot read '" + p.string() + "': " + std::strerror(errno) + "; " + std::string(fix));
        return std::nullopt;
    }
    std::ostringstream out;
    out << in.rdbuf();
    return std::move(out).str();
}

/// The table at a dotted path of `doc`, copied, or an empty one.
table sub(const table& doc, std::string_view dotted) {
    const value* v = find_path(doc, dotted);
    return v != nullptr && v->as_table() != nullptr ? *v->as_table() : table{};
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

/// `key=value` overrides as one function-shaped table. A value is read as TOML (1024, true,
/// [".png"]) unless the key takes a string, in which case it is the text as given.
table read_overrides(const std::vector<std::string>& overrides, diagnostics& diag) {
    table all;
    for (const auto& text : overrides) {
        auto src = make_source("override '" + text + "'", std::filesystem::current_path(), layer::override);
        const auto eq = text.find('=');
        const std::string key =
            eq == std::string::npos ? std::string{} : trim(std::string_view(text).substr(0, eq));
        if (key.empty()) {
            diag.add_line(src->name + ": expected key=value (memory=1024, container.environment.NAME=value)");
            continue;
        }
        const std::string val = text.substr(eq + 1);
        const spec* target = spec_at(function_spec(), key);
        const bool text_value =
            target != nullptr && (target->kind == kind::string || target->kind == kind::string_table);
        diagnostics scratch;
        std::optional<table> doc;
        const std::string trimmed = trim(val);
        if (!text_value || trimmed.starts_with('"') || trimmed.starts_with('\'')) {
            doc = read_toml(key + " = " + val, src, scratch);
        }
        if (!doc) doc = read_toml(key + " = " + toml_string(val), src, scratch);
        if (!doc) {
            diag.add_line(
                src->name + ": '" + key +
                "' is not a key; write a dotted name like memory or container.environment.NAME"
            );
            continue;
        }
        check(*doc, function_spec(), "function", diag);
        merge_into(all, *doc);
    }
    return all;
}

std::filesystem::path default_user_file() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
        return std::filesystem::path(xdg) / "scar" / "config.toml";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::filesystem::path(home) / ".config" / "scar" / "config.toml";
    }
    return {};
}

/// Merges the layers into functions and providers, and builds the model.
result<definitions> assemble(
    const std::optional<layer_doc>& user,
    const std::vector<layer_doc>& files,
    const std::vector<std::string>& overrides,
    bool check_scripts,
    diagnostics& diag
) {
    const builtin_layer& base = builtin();
    const table over = read_overrides(overrides, diag);

    table fn_defaults = sub(base.doc, "defaults.function");
    table deployment = sub(base.doc, "deployment");
    build_input in;
    in.check_scripts = check_scripts;
    in.providers = sub(base.doc, "storage");
    in.provider_defaults = sub(base.doc, "defaults.storage");
    std::vector<const layer_doc*> layers;
    if (user) layers.push_back(&*user);
    for (const auto& f : files) layers.push_back(&f);
    for (const layer_doc* l : layers) {
        merge_into(in.providers, sub(l->doc, "storage"));
        merge_into(in.provider_defaults, sub(l->doc, "defaults.storage"));
    }
    if (user) {
        merge_into(fn_defaults, sub(user->doc, "defaults.function"));
        merge_into(deployment, sub(user->doc, "deployment"));
    }
    // The origin of [deployment] is the built-in one; each value keeps its own.
    const auto with_deployment = [&](table defaults, const table& file_deployment) {
        value dep;
        dep.where = find(base.doc, "deployment")->where;
        table merged = deployment;
        merge_into(merged, file_deployment);
        dep.data = std::move(merged);
        merge_into(defaults, table{entry{"deployment", std::move(dep), 0, 0}});
        return defaults;
    };

    for (const auto& f : files) {
        table file_defaults = fn_defaults;
        merge_into(file_defaults, sub(f.doc, "defaults.function"));
        file_defaults = with_deployment(std::move(file_defaults), sub(f.doc, "deployment"));
        const value* list = find(f.doc, "function");
        if (list == nullptr) continue;
        for (const auto& element : *list->as_array()) {
            merged_function mf{file_defaults, element.where};
            merge_into(mf.keys, *element.as_table());
            merge_into(mf.keys, over);
            in.functions.push_back(std::move(mf));
        }
    }
    if (files.empty() && !overrides.empty()) {
        // No definition file: the overrides define one function (scar init -n NAME -i IMAGE).
        merged_function mf{
            with_deployment(fn_defaults, {}),
            origin{make_source("overrides", {}, layer::override), 0, 0, "function"}};
        merge_into(mf.keys, over);
        in.functions.push_back(std::move(mf));
    }

    auto defs = build(in, diag);
    if (!diag.empty() || !defs) return make_error("ConfigInvalid", diag.text());
    return std::move(*defs);
}

}  // namespace

const builtin_layer& builtin() {
    static const builtin_layer instance = [] {
        builtin_layer b;
        b.src = make_source("defaults.toml (built in)", {}, layer::defaults);
        auto doc = read_layer(builtin_defaults(), b.src, b.diag);
        if (doc) b.doc = std::move(doc->doc);
        return b;
    }();
    return instance;
}

}  // namespace scar::config::detail

namespace scar::config {

std::string_view builtin_defaults() noexcept {
    return {detail::defaults_toml_text, detail::defaults_toml_size};
}

result<definitions> load(const load_options& opts) {
    using namespace detail;
    diagnostics diag;
    for (const auto& line : builtin().diag.lines()) diag.add_line(line);

    std::optional<layer_doc> user;
    std::filesystem::path user_file = opts.user_file;
    std::string fix = "fix the path given for the user file";
    if (user_file.empty()) {
        if (const char* env = std::getenv("SCAR_CONFIG"); env != nullptr && *env != '\0') {
            user_file = env;
            fix = "create it or unset SCAR_CONFIG, which names it";
        } else if (auto dflt = default_user_file(); !dflt.empty() && std::filesystem::exists(dflt)) {
            user_file = std::move(dflt);
            fix = "fix its permissions";
        }
    }
    if (!user_file.empty()) {
        if (auto text = read_file(user_file, fix, diag)) {
            user = read_layer(
                *text,
                make_source(
                    user_file.string(),
                    std::filesystem::absolute(user_file).parent_path(),
                    layer::user
                ),
                diag
            );
        }
    }

    std::vector<layer_doc> files;
    for (const auto& f : opts.files) {
        auto text = read_file(f, "check the path of the definition file", diag);
        if (!text) continue;
        auto doc = read_layer(
            *text,
            make_source(f.string(), std::filesystem::absolute(f).parent_path(), layer::definition),
            diag
        );
        if (doc) files.push_back(std::move(*doc));
    }
    return assemble(user, files, opts.overrides, true, diag);
}

result<definitions> parse(std::string_view toml, std::string_view source_name, const parse_options& opts) {
    using namespace detail;
    diagnostics diag;
    for (const auto& line : builtin().diag.lines()) diag.add_line(line);
    const auto base_dir = opts.base_dir.empty() ? opts.base_dir : std::filesystem::absolute(opts.base_dir);
    std::vector<layer_doc> files;
    if (auto doc =
            read_layer(toml, make_source(std::string(source_name), base_dir, layer::definition), diag)) {
        files.push_back(std::move(*doc));
    }
    return assemble(std::nullopt, files, {}, opts.check_scripts, diag);
}

result<definitions> parse(
    std::string_view toml,
    std::string_view source_name,
    const std::filesystem::path& base_dir
) {
    return parse(toml, source_name, parse_options{base_dir, true});
}

}  // namespace scar::config
