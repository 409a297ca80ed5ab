#pragma once
// Memory cgroups for containers: one child group per container under the cgroup the caller
// itself is in, named scar-<pid>-<n>, on cgroup v2 or on the v1 memory controller.

#include <scar/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace scar::sandbox::detail {

enum class cgroup_version { none, v1, v2 };

class cgroup {
public:
    cgroup(cgroup_version version, std::filesystem::path dir, int procs_fd) noexcept
        : version_(version), dir_(std::move(dir)), procs_fd_(procs_fd) {}
    ~cgroup();
    cgroup(const cgroup&) = delete;
    cgroup& operator=(const cgroup&) = delete;

    /// Open for writing; the container's init writes "0" to it to join.
    [[nodiscard]] int procs_fd() const noexcept { return procs_fd_; }
    /// Closes the descriptor in this process (after the child has its copy).
    void close_procs_fd() noexcept;
    /// How many processes the OOM killer ended in this group.
    [[nodiscard]] std::uint64_t oom_kills() const noexcept;
    /// Highest memory use seen, 0 when the kernel does not say.
    [[nodiscard]] std::uint64_t peak_bytes() const noexcept;
    /// SIGKILLs every process in the group.
    void kill_all() const noexcept;
    /// Kills what is left and removes the directory; idempotent.
    void remove() noexcept;

private:
    cgroup_version version_;
    std::filesystem::path dir_;
    int procs_fd_;
    bool removed_ = false;
};

/// A new group limited to `limit_bytes` (memory and, where the kernel accounts it, swap).
/// Returns nullptr when no memory cgroup can be used here; a warning saying why is logged
/// once per process. The first call also removes stale scar-* groups of dead processes.
[[nodiscard]] result<std::unique_ptr<cgroup>> make_memory_cgroup(std::uint64_t limit_bytes);

/// Removes scar-<pid>-<n> groups whose process is gone (done by the first
/// make_memory_cgroup of a process; exposed for tests and long-running callers).
void remove_stale_groups();

/// The directory new groups are made in (empty when none is usable).
[[nodiscard]] std::filesystem::path memory_cgroup_parent();

/// Which cgroup version make_memory_cgroup uses here (none when unusable).
[[nodiscard]] cgroup_version memory_cgroup_version();

}  // namespace scar::sandbox::detail
