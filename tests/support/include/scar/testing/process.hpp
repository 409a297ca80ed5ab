#pragma once
/// @file
/// Child processes for integration tests: start a real program (s3rver, botocore, the aws
/// CLI, the emulator), wait on what it prints or on its exit, and end it by its own PID.
///
/// Nothing here sleeps for a fixed time: waits poll the child's output pipe and its
/// status until the event happens or the deadline passes.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace scar::testing {

struct process_options {
    std::vector<std::string> argv;  ///< argv[0] is looked up in PATH when it has no '/'
    /// Variables added to (or replacing those of) the test's environment.
    std::map<std::string, std::string> env;
    /// Variables removed from the environment.
    std::vector<std::string> unset_env;
    std::optional<std::filesystem::path> cwd;
    /// Written to the child's stdin, which is then closed. Empty: stdin is /dev/null.
    std::string stdin_data;
};

/// A running child. Its stdout and stderr are captured (merged into `output()` in arrival
/// order, and separately). The destructor kills it (SIGKILL) and reaps it if still running.
class child_process {
public:
    /// Starts the program; throws std::runtime_error naming the program if it cannot start.
    explicit child_process(process_options opts);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    /// Waits until stdout or stderr contains `text`; returns the whole output read so far
    /// if it did, nullopt if the process exited or the deadline passed first.
    std::optional<std::string> wait_for_output(std::string_view text, std::chrono::milliseconds timeout);

    /// Waits for the exit; the exit code, or 128 + signal number. nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);

    /// Sends `signal` to the child (by its PID) and waits for it to exit.
    int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    [[nodiscard]] bool running();
    [[nodiscard]] const std::string& stdout_text() const noexcept { return out_; }
    [[nodiscard]] const std::string& stderr_text() const noexcept { return err_; }

private:
    /// Reads what is available from the pipes, waiting at most `timeout` for something.
    void pump(std::chrono::milliseconds timeout);
    bool reap(bool block);

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    int in_fd_ = -1;
    std::string pending_in_;
    std::string out_;
    std::string err_;
    std::optional<int> status_;
};

/// Result of `run`.
struct run_result {
    int exit_code = -1;  ///< 128 + signal if killed; -1 on timeout (then it was killed)
    std::string out;
    std::string err;
};

/// Runs a program to completion (killing it after `timeout`).
run_result run(process_options opts, std::chrono::milliseconds timeout = std::chrono::seconds(120));

/// A directory under the system temp dir, removed (recursively) by the destructor.
class temp_dir {
public:
    explicit temp_dir(std::string_view prefix = "scar-test");
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace scar::testing
