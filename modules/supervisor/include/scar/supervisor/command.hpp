#pragma once
/// @file
/// Runs the user's script or command the way scar-supervisor does: in a process group of
/// its own, stdout and stderr streamed as they come and captured (bounded), the whole group
/// killed at a deadline, and whatever the group left behind killed when the program ends,
/// so nothing of one invocation outlives it in a warm environment.
///
/// @code
/// scar::supervisor::command_spec s;
/// s.argv = {"/bin/sh", "/var/task/script.sh"};
/// s.env = {"PATH=/usr/bin:/bin", "INPUT_FILE_PATH=/tmp/in/a.jpg"};
/// s.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(290);
/// s.on_output = [](std::string_view chunk) { write(2, chunk.data(), chunk.size()); };
/// auto o = scar::supervisor::run_command(s).value();   // o.how, o.exit_code, o.stdout_text
/// @endcode
///
/// @par Thread safety
/// `run_command` may be called from several threads at once (each call owns its child).

#include <scar/core/error.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::supervisor {

/// What to run.
struct command_spec {
    /// The program and its arguments. A program name without '/' is looked up in the
    /// `PATH` of `env` (not of the supervisor), as a shell in the image would.
    std::vector<std::string> argv;
    /// The complete environment, "NAME=value" each.
    std::vector<std::string> env;
    /// Working directory; empty: the supervisor's.
    std::filesystem::path cwd;
    /// When the program must be gone: its group gets SIGTERM then, SIGKILL `grace` later.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    std::chrono::milliseconds grace{500};
    /// Most stdout bytes kept in `command_outcome::stdout_text` (the rest is still streamed).
    std::size_t stdout_limit = std::size_t{4} << 20U;
    /// Last stderr bytes kept in `command_outcome::stderr_tail`.
    std::size_t stderr_tail = 4096;
    /// Gets stdout and stderr bytes as they arrive (on the calling thread), e.g. to forward
    /// them to the function's log. May be empty.
    std::function<void(std::string_view chunk, bool is_stderr)> on_output;
};

/// How the program ended.
struct command_outcome {
    enum class ending {
        exited,     ///< it exited; `exit_code` says how
        signaled,   ///< a signal killed it (not ours); `signal` says which
        timed_out,  ///< the deadline passed and its group was killed
    };
    ending how = ending::exited;
    int exit_code = 0;
    int signal = 0;
    std::string stdout_text;
    bool stdout_truncated = false;  ///< more than `stdout_limit` bytes were written
    std::string stderr_tail;
    std::chrono::steady_clock::time_point started;  ///< just after the program was started
    std::chrono::steady_clock::time_point ended;    ///< when its end was seen

    [[nodiscard]] bool succeeded() const noexcept { return how == ending::exited && exit_code == 0; }
};

/// Starts `spec.argv` in a new process group (stdin /dev/null, descriptors above 2
/// closed, default signal dispositions), streams and captures its output until it ends or
/// the deadline passes, and then kills what is left of its group.
///
/// Errors: `ScriptNotRunnable` when the program cannot be started (not found, not
/// executable), naming it and what to check; `InvalidParameterValue` for an empty argv.
[[nodiscard]] result<command_outcome> run_command(const command_spec& spec);

/// "exited with code 3", "was killed by signal 9 (Killed)", "ran out of time".
[[nodiscard]] std::string describe(const command_outcome& o);

}  // namespace scar::supervisor
