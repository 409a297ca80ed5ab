#pragma once
// The verbs of `scar`: each adds its subcommand to the app and runs it when chosen.

#include <CLI/CLI.hpp>

namespace scar::cli {

/// `scar local up|down|status`: the emulator in the background.
void add_local(CLI::App& app);

/// `scar image pull|ls|inspect|rm|prune|import`: images without Docker.
void add_image(CLI::App& app);

}  // namespace scar::cli
