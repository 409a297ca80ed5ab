#pragma once
/// @file
/// The keys scar's configuration files accept, as data: what the parser checks against and
/// what `docs/configuration.md` lists (a test compares the two, so the reference cannot
/// drift from the code).

#include <string>
#include <string_view>
#include <vector>

namespace scar::config {

/// One key of the configuration, as the reference documents it.
struct key_info {
    /// Dotted path as written in a file: `function.memory`, `function.input.path`,
    /// `storage.minio.<id>.endpoint`, `deployment.region`. Arrays of tables add no marker.
    std::string key;
    /// "string", "integer", "boolean", "array of strings", "table of strings", "table",
    /// "array of tables".
    std::string type;
    /// The built-in default as TOML (`512`, `"lambda"`, `["*/*"]`, `{}`), from
    /// `conf/defaults.toml`; "—" when there is none.
    std::string default_value;
    /// What is accepted (`128–10240`, `lambda, batch, lambda-batch`); "—" for anything of
    /// the right type.
    std::string valid;
    /// The SCAR FDL (YAML) key it replaces, "—" when SCAR had none.
    std::string scar_fdl;
    /// One sentence on what it does.
    std::string meaning;
};

/// Every key, in the order of the reference. Built once; the reference stays valid for the
/// life of the program.
/// @par Thread safety
/// Safe to call from several threads.
[[nodiscard]] const std::vector<key_info>& known_keys();

/// The text of `conf/defaults.toml` as built into the library.
[[nodiscard]] std::string_view builtin_defaults() noexcept;

}  // namespace scar::config
