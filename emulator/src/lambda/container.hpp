#pragma once
// An execution environment in a sandboxed container (scar::sandbox) made from a function's
// image: read-only root, /tmp of the function's ephemeral storage, memory limit.

#include <scar/sandbox/container.hpp>

#include <mutex>
#include <optional>
#include <thread>

#include "process.hpp"

namespace scar::emulator::lambda {

class container_process final : public environment_process {
public:
    using line_handler = host_process::line_handler;
    using exit_handler = std::function<void(const std::string& reason)>;

    /// Starts the container. `on_line` gets each output line (from the container's output
    /// thread), `on_exit` why it ended (from a waiter thread of its own).
    [[nodiscard]] static result<std::unique_ptr<container_process>> start(
        sandbox::spec spec,
        line_handler on_line,
        exit_handler on_exit
    );

    container_process() = default;
    ~container_process() override;
    void kill() noexcept override;
    [[nodiscard]] pid_t pid() const noexcept override { return pid_; }
    void sync_output() noexcept override {
        if (container_) container_->flush_output();
    }

private:
    std::optional<sandbox::container> container_;
    pid_t pid_ = -1;
    std::thread waiter_;
    std::mutex lines_mutex_;
    line_splitter out_;
    line_splitter err_;
};

}  // namespace scar::emulator::lambda
