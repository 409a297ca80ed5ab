#pragma once
/// @file
/// The program `scar-supervisor`: its command line, where its configuration comes from,
/// and the loop that feeds invocations to `supervisor::handle`.
///
/// @code
/// scar-supervisor [--entrypoint-words N] [-- COMMAND...]
/// @endcode
///
/// `COMMAND` is the image's own command (ENTRYPOINT then CMD, as the image would run it);
/// the first N words are the ENTRYPOINT (default: all of them). It runs when an invocation
/// has no script; `cmd_args` replace the CMD part (as `docker run IMAGE ARGS` does). A
/// function image made by scar has `ENTRYPOINT ["/opt/scar/scar-supervisor",
/// "--entrypoint-words", "N", "--", <the user's ENTRYPOINT>]`, its CMD unchanged.
///
/// Modes:
///   - **Lambda** (`AWS_LAMBDA_RUNTIME_API` set): a custom runtime. A configuration that
///     cannot be read is reported with `/runtime/init/error` and the program exits 1; then
///     `next` → `handle` → `response` or `error`, for ever.
///   - **Binary** (otherwise: a Batch job, a shell): one event from `EVENT`, else standard
///     input; the response JSON on standard output and exit 0, or
///     `{"errorType","errorMessage"}` and exit 1.
///
/// Configuration: `$LAMBDA_TASK_ROOT/function.toml` (default `/var/task/function.toml`)
/// when it exists, else `FUNCTION_CONFIG` (the TOML text, or base64 of it), else none (no
/// inputs or outputs: scripts and commands still run). A file with several functions is
/// searched for `AWS_LAMBDA_FUNCTION_NAME`. Relative script paths resolve against
/// `LAMBDA_TASK_ROOT`. `SCRIPT` (base64) replaces the init script (Batch jobs);
/// `LOG_LEVEL` and `TIMEOUT_THRESHOLD` override the file's values.
///
/// Logs go to standard error (the function's CloudWatch stream); the script's output is
/// forwarded there unchanged.

#include <scar/core/error.hpp>
#include <scar/supervisor/supervisor.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::supervisor {

/// The parsed command line.
struct command_line {
    std::vector<std::string> command;
    std::optional<std::size_t> entrypoint_words;
    bool help = false;
    bool version = false;
};

/// Parses `argv[1..]`. Errors: `InvalidParameterValue` naming the bad option.
[[nodiscard]] result<command_line> parse_command_line(const std::vector<std::string>& args);

/// Reads environment variables (the process's by default).
using env_reader = std::function<std::optional<std::string>(std::string_view)>;

/// Builds the settings from the environment and the command line as described above.
/// Errors: `ConfigInvalid` (the TOML, with file:line:col; a function name not in it;
/// `SCRIPT` or `FUNCTION_CONFIG` that is not valid base64 or TOML).
[[nodiscard]] result<settings> load_settings(const env_reader& env, const command_line& cl);

/// The program: parses the command line, loads the settings, runs the Lambda loop or the
/// binary mode. Returns the exit status.
[[nodiscard]] int run(int argc, char** argv);

}  // namespace scar::supervisor
