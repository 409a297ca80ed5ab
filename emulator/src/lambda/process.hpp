#pragma once
// An execution environment's process, started directly on the host (no isolation): its
// output read line by line on a thread of its own, its exit reported once.

#include <scar/core/error.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace scar::emulator::lambda {

struct launch_spec {
    std::vector<std::string> argv;
    std::vector<std::string> env;  ///< "NAME=value"
    std::filesystem::path cwd;
};

class host_process {
public:
    using line_handler = std::function<void(std::string_view line)>;
    using exit_handler = std::function<void(int wait_status)>;

    /// Starts the program in a new process group. `on_line` gets each line of stdout and
    /// stderr; `on_exit` the wait status, after the last line. Both run on the reader thread.
    [[nodiscard]] static result<std::unique_ptr<host_process>> start(
        const launch_spec& spec,
        line_handler on_line,
        exit_handler on_exit
    );

    host_process(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
    host_process(const host_process&) = delete;
    host_process& operator=(const host_process&) = delete;
    /// Kills the process group and waits for the reader thread.
    ~host_process();

    /// SIGKILL to the whole process group; idempotent.
    void kill() noexcept;
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_;
    int out_fd_;
    std::thread reader_;
    std::atomic<bool> exited_{false};
};

}  // namespace scar::emulator::lambda
