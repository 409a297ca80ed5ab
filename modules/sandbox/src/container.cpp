#include "scar/sandbox/container.hpp"

#include <scar/core/log.hpp>
#include <scar/core/unique_fd.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cgroup.hpp"
#include "init.hpp"
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace scar::sandbox {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::size_t spawn_stack_size = 64 * 1024;

// The stack of the vfork-style child that execs. Only the container's init (a fork of this
// process with its own copy of this memory) ever writes to it, so one buffer serves every
// container, also when several start at once; the caller never touches (or faults in) it.
alignas(64) char spawn_stack[spawn_stack_size];

using scar::unique_fd;

std::string errno_text(int err) {
    return std::strerror(err);
}

error system_error(std::string_view what, int err) {
    return make_error(
        "SandboxError",
        std::string(what) + ": " + errno_text(err) +
            "; the system is short of processes, memory or descriptors"
    );
}

error unavailable(int err) {
    return make_error(
        "SandboxUnavailable",
        "cannot create Linux namespaces here (clone: " + errno_text(err) +
            "): this environment does not permit user, mount and PID namespaces (as inside AWS Lambda or a "
            "locked-down container). Run on a host that allows user namespaces "
            "(sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1) or as root, or use a "
            "container engine (Docker, Podman or udocker)"
    );
}

result<std::array<unique_fd, 2>> make_pipe(int flags) {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC | flags) != 0) return system_error("pipe2", errno);
    return std::array<unique_fd, 2>{unique_fd(fds[0]), unique_fd(fds[1])};
}

/// Descriptors shared by every container of this process: the pipe whose write end only
/// this process holds (containers die when it closes), and /dev/null.
struct process_fds {
    pid_t owner = -1;
    int death_r = -1;
    int death_w = -1;
    int devnull = -1;
};

result<process_fds> shared_fds() {
    static std::mutex m;
    static process_fds f;
    const std::lock_guard lock(m);
    if (f.owner == ::getpid()) return f;
    // A forked child inherited the parent's copies: it needs a pipe of its own.
    for (const int fd : {f.death_r, f.death_w, f.devnull}) {
        if (fd >= 0) ::close(fd);
    }
    std::array<int, 2> p{};
    if (::pipe2(p.data(), O_CLOEXEC) != 0) return system_error("pipe2", errno);
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        ::close(p[0]);
        ::close(p[1]);
        return system_error("open /dev/null", errno);
    }
    f = process_fds{::getpid(), p[0], p[1], devnull};
    return f;
}

int cap_last() {
    static const int last = [] {
        int v = 63;
        if (FILE* f = std::fopen("/proc/sys/kernel/cap_last_cap", "re")) {
            if (std::fscanf(f, "%d", &v) != 1) v = 63;
            std::fclose(f);
        }
        return v;
    }();
    return last;
}

/// Moves a descriptor above the standard ones (the user's process dup2s over 0-2).
void lift(unique_fd& fd) {
    if (fd.get() >= 3) return;
    const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (moved >= 0) fd.reset(moved);
}

enum class presence { present, missing, wrong_type };

/// Whether `path` (absolute, inside the container) exists in the rootfs with the right
/// type, resolving symlinks as the container would (inside the root).
presence look_up(int rootfd, const std::string& path, bool want_dir) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const auto start = path.find_first_not_of('/');
    const std::string rel = start == std::string::npos ? "." : path.substr(start);
    const auto fd = ::syscall(SYS_openat2, rootfd, rel.c_str(), &how, sizeof(how));
    if (fd < 0) return presence::missing;
    struct stat st {};
    const int rc = ::fstat(static_cast<int>(fd), &st);
    ::close(static_cast<int>(fd));
    if (rc != 0) return presence::missing;
    return S_ISDIR(st.st_mode) == want_dir ? presence::present : presence::wrong_type;
}

bool is_clean_absolute(const std::string& p) {
    if (p.empty() || p.front() != '/') return false;
    for (const auto& part : fs::path(p)) {
        if (part == ".." || part == ".") return false;
    }
    return true;
}

bool under(const std::string& p, std::string_view dir) {
    return p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/';
}

error invalid(std::string message) {
    return make_error("InvalidParameterValue", std::move(message));
}

std::string_view step_phrase(detail::step s) {
    using detail::step;
    switch (s) {
        case step::none:
            return "set up the container";
        case step::fds:
            return "set up the standard streams";
        case step::cgroup_join:
            return "join the memory cgroup";
        case step::user_map:
            return "write the user namespace map";
        case step::mount_private:
            return "make the mounts private";
        case step::open_bind_source:
            return "take the bind mount source";
        case step::rootfs_bind:
            return "bind the rootfs";
        case step::rootfs_overlay:
            return "make an overlay over the rootfs (it lacks mount points)";
        case step::pivot_root:
            return "pivot_root into";
        case step::mount_proc:
            return "mount";
        case step::proc_readonly:
            return "make read-only";
        case step::mount_dev:
            return "set up";
        case step::dev_node:
            return "bind the device node";
        case step::mount_tmp:
            return "mount the tmpfs";
        case step::mount_point:
            return "create the mount point";
        case step::bind_mount:
            return "bind mount onto";
        case step::root_readonly:
            return "make the root read-only";
        case step::hostname:
            return "set the hostname";
        case step::network:
            return "bring up the loopback interface";
        case step::spawn:
            return "start the user process";
        case step::rlimit:
            return "set a resource limit";
        case step::no_new_privs:
            return "set no_new_privs";
        case step::drop_caps:
            return "drop capabilities";
        case step::set_groups:
            return "drop supplementary groups";
        case step::set_gid:
            return "switch to the gid";
        case step::set_uid:
            return "switch to the uid";
        case step::chdir:
            return "change to the working directory";
        case step::exec:
            return "execute";
    }
    return "set up the container";
}

error report_error(const detail::report& r, const spec& s) {
    using detail::step;
    std::string detail(r.detail, strnlen(r.detail, sizeof(r.detail)));
    std::string msg =
        std::string(step_phrase(r.where)) + " '" + detail + "' in the container: " + errno_text(r.err);
    switch (r.where) {
        case step::exec:
            msg += r.err == ENOENT
                       ? "; check that the program exists in the image (PATH is searched for names "
                         "without '/') and that its interpreter or loader is there too"
                       : "; check that it is an executable for this machine";
            return make_error("SandboxExecFailed", std::move(msg));
        case step::chdir:
            msg += "; the working directory '" + s.cwd + "' must exist in the image";
            break;
        case step::set_uid:
        case step::set_gid:
        case step::user_map:
            msg += "; in a user namespace only the one uid and gid given in the spec are mapped";
            break;
        case step::cgroup_join:
            msg += "; run without a memory limit or give this user a writable cgroup";
            break;
        default:
            msg += r.err == EPERM || r.err == EACCES ? "; the kernel or a security module (AppArmor, "
                                                       "SELinux, seccomp) forbids it here; run as "
                                                       "root or on a host that lets user namespaces mount"
                                                     : "; check the rootfs and the mounts in the spec";
    }
    return make_error("SandboxSetupFailed", std::move(msg));
}

/// Namespaces of every container; NEWUSER and NEWNET are added per spec.
constexpr std::uint64_t base_flags =
    CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

/// clone3 (clone where seccomp filters answer ENOSYS to it) with a pidfd and no exit
/// signal, so that a SIGCHLD handler of the caller (waitpid(-1)) never reaps our init.
long clone_child(std::uint64_t flags, int* pidfd) {
    clone_args args{};
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = reinterpret_cast<std::uintptr_t>(pidfd);
    args.exit_signal = 0;
    long r = ::syscall(SYS_clone3, &args, sizeof(args));
    if (r == -1 && errno == ENOSYS) r = ::syscall(SYS_clone, flags | CLONE_PIDFD, 0, pidfd, nullptr, 0);
    return r;
}

bool namespaces_refused(int err) {
    return err == EPERM || err == EINVAL || err == ENOSPC || err == EUSERS || err == ENOSYS;
}

}  // namespace

std::string_view to_string(outcome::ending e) noexcept {
    switch (e) {
        case outcome::ending::exited:
            return "exited";
        case outcome::ending::signaled:
            return "signaled";
        case outcome::ending::timed_out:
            return "timed_out";
        case outcome::ending::out_of_memory:
            return "out_of_memory";
    }
    return "exited";
}

struct container::state {
    pid_t pid = -1;
    unique_fd pidfd;
    unique_fd status_r;
    unique_fd out_r;
    unique_fd err_r;
    std::function<void(std::string_view)> out_cb;
    std::function<void(std::string_view)> err_cb;
    std::unique_ptr<detail::cgroup> cg;
    clock_type::time_point started;
    std::chrono::milliseconds timeout{0};
    std::atomic<bool> timed_out{false};

    std::mutex m;
    std::condition_variable cv;
    std::optional<result<outcome>> done;
    /// Serialises reading the output pipes (the output thread and `flush_output`).
    std::mutex out_m;
    bool has_monitor = false;
    std::thread monitor;

    void send(int sig) const noexcept {
        if (pidfd.valid()) ::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0);
    }

    static void deliver(const std::function<void(std::string_view)>& cb, std::string_view chunk) noexcept {
        try {
            cb(chunk);
        } catch (const std::exception& e) {
            log::error("sandbox: an output callback threw (", e.what(), "); the chunk is dropped");
        } catch (...) {
            log::error("sandbox: an output callback threw; the chunk is dropped");
        }
    }

    /// Reads what is there; false once the pipe is at EOF (or broken), which closes it
    /// unless `keep_open` (a flush from another thread leaves closing to the output thread,
    /// which may be polling the descriptor).
    bool drain(
        unique_fd& fd,
        const std::function<void(std::string_view)>& cb,
        std::vector<char>& buf,
        bool keep_open = false
    ) noexcept {
        const std::lock_guard lock(out_m);
        if (!fd.valid()) return false;
        while (true) {
            const auto n = ::read(fd.get(), buf.data(), buf.size());
            if (n > 0) {
                deliver(cb, std::string_view(buf.data(), static_cast<std::size_t>(n)));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return true;
            if (!keep_open) fd.reset();
            return false;
        }
    }

    /// Waits for the end (streaming output, enforcing the timeout), reaps and cleans up.
    result<outcome> supervise() noexcept {
        try {
            return supervise_impl();
        } catch (const std::exception& e) {
            send(SIGKILL);
            return make_error("SandboxError", std::string("waiting for the container: ") + e.what());
        }
    }

    result<outcome> supervise_impl() {
        std::vector<char> buf(out_r.valid() || err_r.valid() ? 64 * 1024 : 0);
        const auto deadline = started + timeout;
        while (true) {
            std::array<pollfd, 3> fds{};
            fds[0] = {pidfd.get(), POLLIN, 0};
            fds[1] = {out_r.get(), POLLIN, 0};
            fds[2] = {err_r.get(), POLLIN, 0};
            int wait_ms = -1;
            if (timeout.count() > 0 && !timed_out) {
                const auto left = deadline - clock_type::now();
                if (left <= clock_type::duration::zero()) {
                    timed_out = true;
                    send(SIGKILL);
                } else {
                    wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
                }
            }
            const int n = ::poll(fds.data(), fds.size(), wait_ms);
            if (n < 0 && errno != EINTR) return system_error("poll", errno);
            if (n <= 0) continue;
            if (fds[1].revents != 0) drain(out_r, out_cb, buf);
            if (fds[2].revents != 0) drain(err_r, err_cb, buf);
            if (fds[0].revents != 0) break;
        }
        siginfo_t info{};
        while (::waitid(
                   static_cast<idtype_t>(P_PIDFD),
                   static_cast<id_t>(pidfd.get()),
                   &info,
                   WEXITED | __WALL
               ) != 0) {
            if (errno != EINTR) return system_error("waitid on the container's init", errno);
        }
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - started);
        // Every process of the namespace is gone, so the pipes are at EOF.
        if (out_r.valid()) drain(out_r, out_cb, buf);
        if (err_r.valid()) drain(err_r, err_cb, buf);

        int status = 0;
        const bool have_status =
            ::read(status_r.get(), &status, sizeof(status)) == static_cast<ssize_t>(sizeof(status));
        outcome o;
        o.elapsed = elapsed;
        std::uint64_t oom_kills = 0;
        if (cg) {
            o.memory_limited = true;
            oom_kills = cg->oom_kills();
            o.peak_memory_bytes = cg->peak_bytes();
            cg->remove();
        }
        if (timed_out) {
            o.how = outcome::ending::timed_out;
            o.signal = SIGKILL;
        } else if (oom_kills > 0 && (!have_status || WIFSIGNALED(status))) {
            o.how = outcome::ending::out_of_memory;
            o.signal = SIGKILL;
        } else if (have_status && WIFEXITED(status)) {
            o.how = outcome::ending::exited;
            o.exit_code = WEXITSTATUS(status);
        } else {
            o.how = outcome::ending::signaled;
            o.signal = have_status && WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
        }
        return o;
    }
};

namespace {

result<std::unique_ptr<container::state>> start_impl(const spec& s, bool own_thread) {
    const auto started = clock_type::now();
    // Checks of the spec, before anything is created.
    if (s.argv.empty() || s.argv[0].empty())
        return invalid("the command to run (argv) is empty; give a program");
    if (s.rootfs.empty()) return invalid("no rootfs given; set spec.rootfs to the image's root directory");
    if (!is_clean_absolute(s.cwd))
        return invalid("the working directory '" + s.cwd + "' must be an absolute path without '.' or '..'");
    if (s.hostname.empty() || s.hostname.size() > 64)
        return invalid("the hostname '" + s.hostname + "' must have 1 to 64 characters");
    std::error_code ec;
    const fs::path rootfs = fs::absolute(s.rootfs, ec);
    unique_fd rootfd(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd.valid()) {
        return invalid(
            "cannot open the rootfs '" + rootfs.string() + "': " + errno_text(errno) +
            "; it must be a directory with the image's files"
        );
    }

    bool overlay = false;
    for (const char* dir : {"/proc", "/dev", "/tmp"}) {
        const auto p = look_up(rootfd.get(), dir, true);
        if (p == presence::wrong_type)
            return invalid(
                "'" + std::string(dir) + "' in the rootfs '" + rootfs.string() + "' is not a directory"
            );
        overlay = overlay || p == presence::missing;
    }
    std::vector<std::string> hosts;
    std::vector<detail::bind_plan> binds;
    hosts.reserve(s.mounts.size());
    binds.reserve(s.mounts.size());
    for (const auto& m : s.mounts) {
        if (!is_clean_absolute(m.container) || m.container == "/")
            return invalid(
                "the bind mount target '" + m.container +
                "' must be an absolute path below '/' without '.' or '..'"
            );
        if (m.container == "/proc" || m.container == "/dev" || m.container == "/tmp" ||
            under(m.container, "/proc") || under(m.container, "/dev"))
            return invalid(
                "the bind mount target '" + m.container +
                "' is in /proc or /dev or replaces /tmp; choose another path"
            );
        struct stat st {};
        if (::stat(m.host.c_str(), &st) != 0) {
            return invalid(
                "the bind mount source '" + m.host.string() + "' cannot be used: " + errno_text(errno) +
                "; it must exist on the host"
            );
        }
        detail::bind_plan b;
        b.read_only = m.read_only;
        b.is_dir = S_ISDIR(st.st_mode);
        if (under(m.container, "/tmp")) {
            b.create = true;
        } else {
            const auto p = look_up(rootfd.get(), m.container, b.is_dir);
            if (p == presence::wrong_type) {
                return invalid(
                    "the bind mount target '" + m.container + "' exists in the rootfs as a " +
                    (b.is_dir ? "file" : "directory") + " but '" + m.host.string() + "' is " +
                    (b.is_dir ? "a directory" : "a file")
                );
            }
            overlay = overlay || p == presence::missing;
        }
        hosts.push_back(fs::absolute(m.host, ec).string());
        binds.push_back(b);
    }
    for (std::size_t i = 0; i < binds.size(); ++i) {
        binds[i].host = hosts[i].c_str();
        binds[i].target = s.mounts[i].container.c_str();
        binds[i].create = binds[i].create || overlay;
    }
    rootfd.reset();

    auto shared = shared_fds();
    if (!shared) return shared.error();

    auto st = std::make_unique<container::state>();
    st->started = started;
    st->timeout = s.timeout;
    if (s.memory_bytes > 0) {
        auto cg = detail::make_memory_cgroup(s.memory_bytes);
        if (!cg) return cg.error();
        st->cg = std::move(*cg);
    }

    auto report = make_pipe(0);
    auto status = make_pipe(0);
    if (!report) return report.error();
    if (!status) return status.error();
    auto& [report_r, report_w] = *report;
    auto& [status_r, status_w] = *status;
    lift(report_w);

    unique_fd out_w;
    unique_fd err_w;
    if (s.stdout_sink.callback) {
        auto p = make_pipe(O_NONBLOCK);
        if (!p) return p.error();
        st->out_r = std::move((*p)[0]);
        out_w = std::move((*p)[1]);
        // The child's end must block: a user process writing to a full pipe waits for us.
        ::fcntl(out_w.get(), F_SETFL, 0);
        st->out_cb = s.stdout_sink.callback;
    }
    if (s.stderr_sink.callback) {
        auto p = make_pipe(O_NONBLOCK);
        if (!p) return p.error();
        st->err_r = std::move((*p)[0]);
        err_w = std::move((*p)[1]);
        ::fcntl(err_w.get(), F_SETFL, 0);
        st->err_cb = s.stderr_sink.callback;
    }

    const bool user_ns = s.user_namespace || ::geteuid() != 0;
    const std::string uid_map = std::to_string(s.uid) + " " + std::to_string(::geteuid()) + " 1";
    const std::string gid_map = std::to_string(s.gid) + " " + std::to_string(::getegid()) + " 1";
    const std::string tmp_options = "mode=1777,size=" + std::to_string(s.tmp_bytes);
    const std::string rootfs_text = rootfs.string();
    std::vector<char*> argv;
    argv.reserve(s.argv.size() + 1);
    for (const auto& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(s.env.size() + 1);
    const char* search_path = default_path;
    for (const auto& e : s.env) {
        envp.push_back(const_cast<char*>(e.c_str()));
        if (e.compare(0, 5, "PATH=") == 0) search_path = e.c_str() + 5;
    }
    envp.push_back(nullptr);
    std::vector<detail::rlimit_plan> rlimits;
    rlimits.reserve(s.rlimits.size());
    for (const auto& r : s.rlimits) rlimits.push_back({r.resource, rlimit{r.soft, r.hard}});
    std::vector<int> bind_fds(binds.size(), -1);

    detail::plan p;
    p.rootfs = rootfs_text.c_str();
    p.overlay = overlay;
    p.user_ns = user_ns;
    p.harden_proc = (user_ns ? ::geteuid() : s.uid) == 0;
    p.drop_groups = !user_ns;
    p.loopback_up = s.own_network;
    p.uid_map = uid_map.c_str();
    p.gid_map = gid_map.c_str();
    p.uid = s.uid;
    p.gid = s.gid;
    p.hostname = s.hostname.c_str();
    p.hostname_len = s.hostname.size();
    p.tmp_options = tmp_options.c_str();
    p.shm_options = tmp_options.c_str();
    p.binds = binds.data();
    p.bind_count = binds.size();
    p.bind_fds = bind_fds.data();
    p.rlimits = rlimits.data();
    p.rlimit_count = rlimits.size();
    p.argv = argv.data();
    p.envp = envp.data();
    p.search_path = search_path;
    p.cwd = s.cwd.c_str();
    p.cap_last = cap_last();
    p.report_fd = report_w.get();
    p.status_fd = status_w.get();
    p.death_fd = shared->death_r;
    p.stdin_fd = s.stdin_fd >= 0 ? s.stdin_fd : shared->devnull;
    p.stdout_fd = out_w.valid() ? out_w.get() : (s.stdout_sink.fd >= 0 ? s.stdout_sink.fd : shared->devnull);
    p.stderr_fd = err_w.valid() ? err_w.get() : (s.stderr_sink.fd >= 0 ? s.stderr_sink.fd : shared->devnull);
    p.cgroup_procs_fd = st->cg ? st->cg->procs_fd() : -1;
    std::vector<int> keep{p.report_fd, p.status_fd, p.death_fd, p.stdin_fd, p.stdout_fd, p.stderr_fd};
    if (p.cgroup_procs_fd >= 0) keep.push_back(p.cgroup_procs_fd);
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    p.keep_fds = keep.data();
    p.keep_count = keep.size();
    p.spawn_stack = spawn_stack;
    p.spawn_stack_size = spawn_stack_size;

    std::uint64_t flags = base_flags;
    if (user_ns) flags |= CLONE_NEWUSER;
    if (s.own_network) flags |= CLONE_NEWNET;

    // The child starts with every signal blocked so that no handler of the caller runs in it.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    int pidfd = -1;
    const long pid = clone_child(flags, &pidfd);
    if (pid == 0) detail::container_init(p);
    const int clone_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) {
        if (namespaces_refused(clone_errno)) return unavailable(clone_errno);
        return system_error("clone", clone_errno);
    }
    st->pid = static_cast<pid_t>(pid);
    st->pidfd.reset(pidfd);
    st->status_r = std::move(status_r);
    report_w.reset();
    status_w.reset();
    out_w.reset();
    err_w.reset();
    if (st->cg) st->cg->close_procs_fd();

    detail::report rep;
    ssize_t n = 0;
    do {
        n = ::read(report_r.get(), &rep, sizeof(rep));
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof(rep))) {
        st->send(SIGKILL);
        siginfo_t info{};
        while (::waitid(
                   static_cast<idtype_t>(P_PIDFD),
                   static_cast<id_t>(st->pidfd.get()),
                   &info,
                   WEXITED | __WALL
               ) != 0 &&
               errno == EINTR) {
        }
        if (st->cg) st->cg->remove();
        return report_error(rep, s);
    }
    if (own_thread) {
        st->has_monitor = true;
        container::state* raw = st.get();
        st->monitor = std::thread([raw] {
            auto r = raw->supervise();
            const std::lock_guard lock(raw->m);
            raw->done = std::move(r);
            raw->cv.notify_all();
        });
    }
    return st;
}

}  // namespace

container::container(std::unique_ptr<state> s) noexcept : s_(std::move(s)) {}
container::container(container&&) noexcept = default;

container& container::operator=(container&& o) noexcept {
    if (this != &o) {
        end();
        s_ = std::move(o.s_);
    }
    return *this;
}

container::~container() {
    end();
}

void container::end() noexcept {
    if (!s_) return;
    bool running = false;
    {
        const std::lock_guard lock(s_->m);
        running = !s_->done.has_value();
    }
    if (running) s_->send(SIGKILL);
    if (s_->has_monitor) {
        if (s_->monitor.joinable()) s_->monitor.join();
    } else if (running) {
        [[maybe_unused]] auto r = wait();
    }
    s_.reset();
}

result<container> container::start(const spec& s) {
    auto st = start_impl(
        s,
        static_cast<bool>(s.stdout_sink.callback) || static_cast<bool>(s.stderr_sink.callback) ||
            s.timeout.count() > 0
    );
    if (!st) return st.error();
    return container(std::move(*st));
}

pid_t container::pid() const noexcept {
    return s_ ? s_->pid : -1;
}

int container::pidfd() const noexcept {
    return s_ ? s_->pidfd.get() : -1;
}

void container::flush_output() noexcept {
    if (!s_) return;
    std::vector<char> buf(64 * 1024);
    if (s_->out_cb) s_->drain(s_->out_r, s_->out_cb, buf, true);
    if (s_->err_cb) s_->drain(s_->err_r, s_->err_cb, buf, true);
}

result<outcome> container::wait() {
    if (!s_)
        return make_error(
            "SandboxError",
            "wait on a moved-from container; keep the object returned by start"
        );
    std::unique_lock lock(s_->m);
    if (s_->has_monitor) {
        s_->cv.wait(lock, [this] { return s_->done.has_value(); });
    } else if (!s_->done) {
        s_->done = s_->supervise();
    }
    return *s_->done;
}

void container::kill() noexcept {
    if (s_) s_->send(SIGKILL);
}

void container::signal(int sig) noexcept {
    if (s_) s_->send(sig);
}

result<outcome> run(const spec& s) {
    auto st = start_impl(s, false);
    if (!st) return st.error();
    container c(std::move(*st));
    return c.wait();
}

result<void> check_available() {
    std::uint64_t flags = base_flags;
    if (::geteuid() != 0) flags |= CLONE_NEWUSER;
    int pidfd = -1;
    const long pid = clone_child(flags, &pidfd);
    if (pid == 0) ::_exit(0);
    if (pid < 0) {
        const int err = errno;
        if (namespaces_refused(err)) return unavailable(err);
        return system_error("clone", err);
    }
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | __WALL) != 0 &&
           errno == EINTR) {
    }
    ::close(pidfd);
    return {};
}

}  // namespace scar::sandbox
