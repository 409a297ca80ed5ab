#pragma once
// The container side: what runs between clone and the user's execve. Everything here runs in
// a child cloned from a possibly multi-threaded caller without glibc's fork handlers, so it
// must not allocate, lock or call glibc functions that keep global state (setuid & co.
// broadcast to threads that do not exist in the child): only system calls on data the
// parent prepared in `plan`.

#include <cstddef>
#include <cstdint>

#include <sys/resource.h>
#include <sys/types.h>

namespace scar::sandbox::detail {

/// Where setup failed; the parent turns it into a message.
enum class step : int {
    none = 0,
    fds,
    cgroup_join,
    user_map,
    mount_private,
    open_bind_source,
    rootfs_bind,
    rootfs_overlay,
    pivot_root,
    mount_proc,
    proc_readonly,
    mount_dev,
    dev_node,
    mount_tmp,
    mount_point,
    bind_mount,
    root_readonly,
    hostname,
    network,
    spawn,
    rlimit,
    no_new_privs,
    drop_caps,
    set_groups,
    set_gid,
    set_uid,
    chdir,
    exec,
};

/// Sent through the report pipe when a step fails; nothing is sent on success.
struct report {
    step where = step::none;
    int err = 0;
    char detail[480] = {};  // NUL-terminated path or argument concerned
};

struct bind_plan {
    const char* host = nullptr;    // host path, resolved in the caller's view
    const char* target = nullptr;  // absolute path inside the container
    bool read_only = true;
    bool is_dir = true;
    bool create = false;  // make the mount point first (overlay root or under /tmp)
};

struct rlimit_plan {
    int resource = 0;
    rlimit value{};
};

/// Everything the child needs, prepared by the parent before clone.
struct plan {
    const char* rootfs = nullptr;
    bool overlay = false;      // rootfs lacks mount points: stack a tmpfs-backed overlay on it
    bool user_ns = false;      // the child is in a new user namespace and maps itself
    bool harden_proc = false;  // the user process is host uid 0: make /proc/sys & co read-only
    bool drop_groups = true;   // setgroups(0) (not permitted in a user namespace)
    bool loopback_up = false;  // a new network namespace: bring lo up
    const char* uid_map = nullptr;
    const char* gid_map = nullptr;
    uid_t uid = 0;
    gid_t gid = 0;
    const char* hostname = nullptr;
    std::size_t hostname_len = 0;
    const char* tmp_options = nullptr;
    const char* shm_options = nullptr;
    const bind_plan* binds = nullptr;
    std::size_t bind_count = 0;
    int* bind_fds = nullptr;  // scratch, one per bind (the child writes its copy)
    const rlimit_plan* rlimits = nullptr;
    std::size_t rlimit_count = 0;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* search_path = nullptr;  // PATH used to find argv[0] when it has no '/'
    const char* cwd = nullptr;
    int cap_last = 40;

    int report_fd = -1;  // CLOEXEC pipe: a `report` on failure, EOF once the user's execve ran
    int status_fd = -1;  // the user process's wait status (int) when it ends
    int death_fd = -1;   // read end of a pipe the caller process holds open while it lives
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    int cgroup_procs_fd = -1;       // "0" is written to it to join the cgroup
    const int* keep_fds = nullptr;  // sorted; every other descriptor is closed
    std::size_t keep_count = 0;

    char* spawn_stack = nullptr;  // stack for the vfork-style child that execs
    std::size_t spawn_stack_size = 0;
};

/// Runs as PID 1 of the new namespaces: sets up the mounts, starts the user's process and
/// reaps until it ends, then writes its status and exits (the kernel kills what is left).
[[noreturn]] void container_init(const plan& p) noexcept;

}  // namespace scar::sandbox::detail
