#pragma once
// The verbs of `scar`: each adds its subcommand to the app and runs it when chosen.

#include <CLI/CLI.hpp>

#include <string>

namespace scar::cli {

/// `scar local up|down|status`: the emulator in the background.
void add_local(CLI::App& app);

/// `scar image pull|ls|inspect|rm|prune|import|run`: images without Docker.
void add_image(CLI::App& app);

/// `scar init`: deploy the functions of a definition file (or of flags).
void add_init(CLI::App& app);

/// `scar rm`: take functions down.
void add_rm(CLI::App& app);

/// `scar ls`: deployed functions, or a bucket's objects with -b.
void add_ls(CLI::App& app);

/// `scar run`: invoke a function directly (script, container arguments, input files).
void add_run(CLI::App& app);

/// `scar invoke`: call a function through its API Gateway endpoint.
void add_invoke(CLI::App& app);

/// `scar log`: a function's log, or one request's.
void add_log(CLI::App& app);

/// `scar put` / `scar get`: files and folders to and from buckets.
void add_put_get(CLI::App& app);

/// `scar cost`: what the recorded invocations would cost on AWS.
void add_cost(CLI::App& app);

/// `scar dlq`: the emulator's dead-letter store (list, redrive, purge).
void add_dlq(CLI::App& app);

/// The running local emulator's endpoint; starts it in the background when it is not up.
[[nodiscard]] std::string emulator_endpoint();

}  // namespace scar::cli
