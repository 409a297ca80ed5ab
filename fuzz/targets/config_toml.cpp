// Function definitions: a TOML file over the built-in defaults, as `scar init -f` reads it.

#include <scar/config/function.hpp>

#include "fuzz.hpp"

SCAR_FUZZ_TARGET(data) {
    scar::config::parse_options o;
    o.check_scripts = false;  // no file system: scripts are named, not read
    if (auto defs = scar::config::parse(data, "fuzz.toml", o)) {
        // What parsed is valid: every function deploys back to TOML that parses again.
        for (const auto& fn : defs->functions) {
            auto again = scar::config::parse(scar::config::to_toml(fn, *defs), "again.toml", o);
            scar_fuzz_check(again.has_value());
        }
    }
}
