#pragma once
/// @file
/// Run a process in a root filesystem, isolated with Linux namespaces: the sandbox every
/// Lambda invocation and Batch job of the emulator runs in.
///
/// A container here is one process tree in new mount, PID, IPC, UTS and cgroup namespaces
/// (plus a user namespace when the caller is not root or asks for one, and a network
/// namespace when asked). Its root is the given directory, mounted **read-only**; `/tmp`
/// is a size-limited tmpfs (Lambda's ephemeral storage), `/proc` is the container's own,
/// `/dev` holds only null, zero, full, random, urandom, tty, shm and pts. Extra host
/// directories or files are bind-mounted read-only or read-write. The user's process runs
/// with no capabilities, `no_new_privs`, the given uid/gid, environment, working directory
/// and rlimits; PID 1 inside is a small init of ours that reaps orphans and forwards
/// SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it. When the user's process
/// ends, everything else in the container is killed.
///
/// Nothing is written into the rootfs directory (it may be a shared image cache): when it
/// lacks a mount point (`/proc`, `/dev`, `/tmp` or a bind target), the root becomes an
/// overlay whose upper layer is a small tmpfs, which is then made read-only too.
///
/// Memory limits use a cgroup created under the caller's own (cgroup v2, or the v1 memory
/// controller on hybrid hosts), named `scar-<pid>-<n>` and removed when the container
/// ends; groups left by dead processes are removed the first time one is needed. Where no
/// cgroup can be used, a warning is logged once and containers run without the limit
/// (`outcome::memory_limited` is false).
///
/// Nothing outlives the container: its mounts exist only in its own mount namespace, its
/// processes in its PID namespace, and it holds the read end of a pipe whose write end
/// only the calling process has, so it dies with the caller (even on SIGKILL).
///
/// Errors (`scar::error::code`):
///   - `SandboxUnavailable`: the kernel refuses to create namespaces here (inside AWS
///     Lambda, a locked-down container, `user.max_user_namespaces=0`); the message says a
///     host allowing user namespaces or a container engine (Docker, Podman, udocker) is needed.
///   - `InvalidParameterValue`: the spec is unusable (empty argv, relative paths, a rootfs
///     that is not a directory, a bind source that does not exist, a mount point of the
///     wrong type in the rootfs).
///   - `SandboxSetupFailed`: a step inside the new namespaces failed; the message names the
///     step, the path and the errno, e.g. "mount /proc in the container: Operation not
///     permitted; …".
///   - `SandboxExecFailed`: the program could not be executed in the container (not found
///     in PATH, not executable, wrong architecture).
///   - `SandboxError`: a system call of the caller failed (pipe, clone for lack of memory
///     or PIDs, cgroup creation).
///
/// Requires Linux 5.12 (clone3, pidfds, open_tree/move_mount/mount_setattr, close_range).

#include <scar/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace scar::sandbox {

/// A host file or directory made visible inside the container.
struct bind_mount {
    std::filesystem::path host;  ///< must exist; a directory is mounted recursively
    std::string container;       ///< absolute path inside; created (in the overlay) if missing
    bool read_only = true;       ///< read-only recursively (Linux 5.12 mount_setattr)
};

/// One resource limit for the user's process (`setrlimit`).
struct rlimit_value {
    int resource = 0;        ///< RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE, …
    std::uint64_t soft = 0;  ///< RLIM_INFINITY for none
    std::uint64_t hard = 0;
};

/// Where the container's stdout or stderr goes: a callback, a descriptor, or nowhere.
struct output_sink {
    /// Called with each chunk as it is read, in order, on a thread the container owns
    /// (see `container`). Must not throw; an exception is logged and the chunk dropped.
    std::function<void(std::string_view)> callback;
    /// Used when there is no callback: duplicated into the container; the caller keeps
    /// ownership. -1 and no callback: /dev/null.
    int fd = -1;
};

/// What to run and how.
struct spec {
    std::filesystem::path rootfs;   ///< directory with the root filesystem; never written to
    std::vector<std::string> argv;  ///< argv[0] without '/' is looked up in the container's PATH
    std::vector<std::string> env;   ///< "NAME=value" entries, passed as they are (nothing added)
    std::string cwd = "/";          ///< absolute, inside the container
    uid_t uid = 0;                  ///< uid and gid of the user's process inside
    gid_t gid = 0;
    std::string hostname = "scar";
    std::uint64_t memory_bytes = 0;                  ///< 0: no memory limit (no cgroup)
    std::uint64_t tmp_bytes = 512ULL * 1024 * 1024;  ///< size of /tmp and /dev/shm each; 0: tmpfs default
    std::chrono::milliseconds timeout{0};            ///< 0: none; counted from `start`
    std::vector<bind_mount> mounts;
    bool own_network = false;     ///< new network namespace (loopback only, down); default: the host's
    bool user_namespace = false;  ///< use a user namespace even as root (always used when not root)
    std::vector<rlimit_value> rlimits;
    int stdin_fd = -1;  ///< duplicated into the container; -1: /dev/null
    output_sink stdout_sink;
    output_sink stderr_sink;
};

/// How a container ended.
struct outcome {
    enum class ending {
        exited,         ///< the user's process called exit; see `exit_code`
        signaled,       ///< it was killed by `signal` (also after `container::kill`)
        timed_out,      ///< `spec::timeout` passed and the container was killed
        out_of_memory,  ///< the OOM killer ended it at `spec::memory_bytes`
    };
    ending how = ending::exited;
    int exit_code = 0;                     ///< when exited
    int signal = 0;                        ///< when signaled; SIGKILL for timed_out and out_of_memory
    std::chrono::microseconds elapsed{0};  ///< from the start of `start` to the end
    bool memory_limited = false;           ///< a cgroup enforced `spec::memory_bytes`
    std::uint64_t peak_memory_bytes = 0;   ///< highest use seen by the cgroup; 0 without one

    /// True when the process exited with status 0.
    [[nodiscard]] bool ok() const noexcept { return how == ending::exited && exit_code == 0; }
};

/// "exited", "signaled", "timed_out", "out_of_memory".
[[nodiscard]] std::string_view to_string(outcome::ending e) noexcept;

/// A running container. Move-only; the destructor kills it (if still running), reaps it
/// and removes its cgroup.
///
/// Output callbacks and the timeout run on a thread the container starts when the spec
/// has a callback or a timeout; otherwise no thread is made and `wait` does the waiting.
///
/// @par Thread safety
/// `pid`, `pidfd`, `kill` and `signal` may be called from any thread at any time, also
/// while another thread is in `wait`. `wait` may be called from several threads; all get
/// the same outcome. Moving or destroying the object must not race with other calls.
class container {
public:
    /// Sets up the container and starts `s.argv` in it; returns once the program has been
    /// exec'd (its start-up has begun) or with the error that prevented it.
    [[nodiscard]] static result<container> start(const spec& s);

    container(container&&) noexcept;
    container& operator=(container&&) noexcept;
    container(const container&) = delete;
    container& operator=(const container&) = delete;
    ~container();

    /// Host PID of the container's init (PID 1 inside); its descendants are the user's processes.
    [[nodiscard]] pid_t pid() const noexcept;
    /// A pidfd for the init, owned by the container: readable (POLLIN) once it has ended.
    [[nodiscard]] int pidfd() const noexcept;

    /// Blocks until the container ends (or its timeout kills it) and every output callback
    /// has returned; then reports how. Returns the same outcome on every call.
    /// Errors: `SandboxError` if the process could not be reaped.
    result<outcome> wait();

    /// Kills the whole container now (SIGKILL); `wait` then reports `signaled`. No-op once ended.
    void kill() noexcept;

    /// Delivers to the output callbacks, now and on the calling thread, whatever the
    /// container has written to its stdout and stderr so far, in order with what the output
    /// thread delivers. A caller that receives a message the program sent *after* writing
    /// output (a Lambda runtime posting its response) calls this first to see that output.
    void flush_output() noexcept;

    /// Sends `sig` to the user's process through the init (SIGKILL kills the container).
    void signal(int sig) noexcept;

    struct state;

private:
    friend result<outcome> run(const spec& s);
    explicit container(std::unique_ptr<state> s) noexcept;
    /// Kills (if running), reaps, cleans up and releases the state.
    void end() noexcept;
    std::unique_ptr<state> s_;
};

/// Starts a container and waits for it, delivering output on the calling thread.
/// Errors: those of `container::start` and `container::wait`.
[[nodiscard]] result<outcome> run(const spec& s);

/// Checks that containers can be made here by starting an empty one (no rootfs needed).
/// Errors: `SandboxUnavailable` as for `start`.
[[nodiscard]] result<void> check_available();

}  // namespace scar::sandbox
