#pragma once
/// @file
/// Umbrella header of the config module: TOML function definitions and their keys.

#include <scar/config/function.hpp>  // IWYU pragma: export
#include <scar/config/keys.hpp>      // IWYU pragma: export
