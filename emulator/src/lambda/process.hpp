#pragma once
// An execution environment's process, started directly on the host (no isolation): its
// output read line by line on a thread of its own, its exit reported once.

#include <scar/core/error.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
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

/// An execution environment's running process, however it was started.
class environment_process {
public:
    virtual ~environment_process() = default;
    /// Kills the environment (every process in it); idempotent.
    virtual void kill() noexcept = 0;
    /// The pid of its main process, as the host sees it.
    [[nodiscard]] virtual pid_t pid() const noexcept = 0;
    /// Hands every line the environment has written so far to the line handler, now (on
    /// the calling thread), in order with the reader's.
    virtual void sync_output() noexcept = 0;
};

/// Splits output into lines for `on_line`; the remainder waits for more.
class line_splitter {
public:
    template <class F>
    void feed(std::string_view data, F&& on_line) {
        pending_.append(data);
        std::size_t start = 0;
        for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
            on_line(std::string_view(pending_).substr(start, nl - start));
            start = nl + 1;
        }
        pending_.erase(0, start);
    }
    template <class F>
    void flush(F&& on_line) {
        if (!pending_.empty()) on_line(std::string_view(pending_));
        pending_.clear();
    }

private:
    std::string pending_;
};

class host_process final : public environment_process {
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
    ~host_process() override;

    /// SIGKILL to the whole process group; idempotent.
    void kill() noexcept override;
    [[nodiscard]] pid_t pid() const noexcept override { return pid_; }
    void sync_output() noexcept override;

private:
    /// Reads what the pipe holds (non-blocking); false at EOF.
    bool read_available() noexcept;

    pid_t pid_;
    int out_fd_;
    std::mutex read_mutex_;  ///< the reader thread and sync_output take turns
    line_splitter lines_;
    line_handler on_line_;
    std::thread reader_;
    std::atomic<bool> exited_{false};
};

}  // namespace scar::emulator::lambda
