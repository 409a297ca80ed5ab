#pragma once
// From merged documents to the typed model, with every check that needs more than one key
// (names, providers, scripts, loops, Batch resources on AWS).

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "document.hpp"
#include "scar/config/function.hpp"

namespace scar::config::detail {

/// One function with every layer merged in (defaults < user < its file < overrides).
struct merged_function {
    table keys;
    origin where;  ///< its `[[function]]` header, key `function[i]`
};

struct build_input {
    std::vector<merged_function> functions;
    table providers;          ///< `storage`: type → id → provider table, all layers merged
    table provider_defaults;  ///< `defaults.storage`: type → provider table
    bool check_scripts = true;
};

/// The model, or nullopt with every problem in `diag`.
[[nodiscard]] std::optional<definitions> build(const build_input& in, diagnostics& diag);

/// The text of conf/defaults.toml compiled into the library (generated source).
extern const char defaults_toml_text[];
extern const std::size_t defaults_toml_size;

/// conf/defaults.toml parsed and checked once; problems in it are in `diag` (a broken build).
struct builtin_layer {
    std::shared_ptr<const source> src;
    table doc;
    diagnostics diag;
};
[[nodiscard]] const builtin_layer& builtin();

}  // namespace scar::config::detail
