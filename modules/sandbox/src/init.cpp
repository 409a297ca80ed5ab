#include "init.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <initializer_list>

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace scar::sandbox::detail {
namespace {

// Signals the init passes on to the user's process; SIGCHLD is its own.
constexpr int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

constexpr const char* dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
constexpr std::size_t dev_node_count = sizeof(dev_nodes) / sizeof(dev_nodes[0]);

// Read-only views over /proc entries that a host-root process could use to change the host.
constexpr const char* proc_readonly_paths[] = {
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/irq",
    "/proc/bus",
    "/proc/fs",
    "/proc/acpi",
};

/// A fixed buffer to build strings in without allocating.
struct text {
    char* data;
    std::size_t cap;
    std::size_t len = 0;

    text& add(const char* s) {
        while (s != nullptr && *s != '\0' && len + 1 < cap) data[len++] = *s++;
        data[len] = '\0';
        return *this;
    }
    text& add(unsigned long v) {
        char digits[24];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (n > 0 && len + 1 < cap) data[len++] = digits[--n];
        data[len] = '\0';
        return *this;
    }
};

[[noreturn]] void fail(const plan& p, step where, int err, const char* what, const char* what2 = nullptr) {
    report r;
    r.where = where;
    r.err = err;
    text t{r.detail, sizeof(r.detail)};
    t.add(what).add(what2);
    // Smaller than PIPE_BUF, so the write is atomic.
    [[maybe_unused]] const auto n = ::write(p.report_fd, &r, sizeof(r));
    ::_exit(125);
}

bool write_file(const char* path, const char* data) {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const auto len = std::strlen(data);
    const auto n = ::write(fd, data, len);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return n == static_cast<ssize_t>(len);
}

void close_all_but(const plan& p) {
    unsigned next = 0;
    for (std::size_t i = 0; i < p.keep_count; ++i) {
        const auto fd = static_cast<unsigned>(p.keep_fds[i]);
        if (fd > next) ::close_range(next, fd - 1, 0);
        next = fd + 1;
    }
    ::close_range(next, ~0U, 0);
}

// mkdir -p for a mount point inside the (writable, overlay) root; the last component is a
// directory or an empty file.
void make_mount_point(const plan& p, const char* path, bool is_dir) {
    char buf[4096];
    text t{buf, sizeof(buf)};
    t.add(path);
    for (std::size_t i = 1; i < t.len; ++i) {
        if (buf[i] != '/') continue;
        buf[i] = '\0';
        if (::mkdir(buf, 0755) != 0 && errno != EEXIST) fail(p, step::mount_point, errno, buf);
        buf[i] = '/';
    }
    if (is_dir) {
        if (::mkdir(buf, 0755) != 0 && errno != EEXIST) fail(p, step::mount_point, errno, buf);
    } else {
        const int fd = ::open(buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) fail(p, step::mount_point, errno, buf);
        ::close(fd);
    }
}

void set_up_dev(const plan& p, const int* node_fds) {
    if (::mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k,nr_inodes=64") != 0)
        fail(p, step::mount_dev, errno, "/dev");
    for (std::size_t i = 0; i < dev_node_count; ++i) {
        char path[32];
        text t{path, sizeof(path)};
        t.add("/dev/").add(dev_nodes[i]);
        const int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) fail(p, step::dev_node, errno, path);
        ::close(fd);
        if (::move_mount(node_fds[i], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) != 0)
            fail(p, step::dev_node, errno, path);
        ::close(node_fds[i]);
    }
    if (::mkdir("/dev/shm", 01777) != 0) fail(p, step::mount_dev, errno, "/dev/shm");
    if (::mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, p.shm_options) != 0)
        fail(p, step::mount_dev, errno, "/dev/shm");
    if (::mkdir("/dev/pts", 0755) != 0) fail(p, step::mount_dev, errno, "/dev/pts");
    if (::mount(
            "devpts",
            "/dev/pts",
            "devpts",
            MS_NOSUID | MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620"
        ) != 0)
        fail(p, step::mount_dev, errno, "/dev/pts");
    constexpr const char* links[][2] = {
        {"/proc/self/fd", "/dev/fd"},
        {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"},
        {"/proc/self/fd/2", "/dev/stderr"},
        {"pts/ptmx", "/dev/ptmx"},
    };
    for (const auto& link : links) {
        if (::symlink(link[0], link[1]) != 0) fail(p, step::mount_dev, errno, link[1]);
    }
    if (::mount(
            nullptr,
            "/dev",
            nullptr,
            MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
            nullptr
        ) != 0)
        fail(p, step::mount_dev, errno, "/dev (read-only)");
}

void harden_proc(const plan& p) {
    for (const char* path : proc_readonly_paths) {
        if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
            if (errno == ENOENT) continue;
            fail(p, step::proc_readonly, errno, path);
        }
        constexpr unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if (::mount(nullptr, path, nullptr, flags, nullptr) != 0) fail(p, step::proc_readonly, errno, path);
    }
}

void enter_root(const plan& p) {
    if (!p.overlay) {
        if (::mount(p.rootfs, p.rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0)
            fail(p, step::rootfs_bind, errno, p.rootfs);
        if (::chdir(p.rootfs) != 0) fail(p, step::rootfs_bind, errno, p.rootfs);
    } else {
        // The rootfs may be a shared, read-only cache: mount points missing from it are
        // created in a tmpfs upper layer, never in the directory itself.
        const int lower = ::open(p.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (lower < 0) fail(p, step::rootfs_overlay, errno, p.rootfs);
        if (::mount("tmpfs", p.rootfs, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m") != 0)
            fail(p, step::rootfs_overlay, errno, p.rootfs, " (tmpfs for the overlay)");
        if (::chdir(p.rootfs) != 0 || ::mkdir("u", 0755) != 0 || ::mkdir("w", 0755) != 0 ||
            ::mkdir("m", 0755) != 0)
            fail(p, step::rootfs_overlay, errno, p.rootfs, " (overlay directories)");
        char options[128];
        text t{options, sizeof(options)};
        t.add("lowerdir=/proc/self/fd/").add(static_cast<unsigned long>(lower)).add(",upperdir=u,workdir=w");
        if (p.user_ns) t.add(",userxattr");
        if (::mount("overlay", "m", "overlay", 0, options) != 0)
            fail(p, step::rootfs_overlay, errno, p.rootfs);
        ::close(lower);
        if (::chdir("m") != 0) fail(p, step::rootfs_overlay, errno, p.rootfs);
    }
    // pivot_root, not MS_MOVE + chroot: a chroot leaves the host's root in the namespace,
    // where a process that makes its own user namespace could chroot its way back to it.
    if (::syscall(SYS_pivot_root, ".", ".") != 0) fail(p, step::pivot_root, errno, p.rootfs);
    // The old root is now stacked on top of the new one; detach it.
    if (::umount2(".", MNT_DETACH) != 0) fail(p, step::pivot_root, errno, "detaching the old root");
    if (::chdir("/") != 0) fail(p, step::pivot_root, errno, "/");
}

void bring_loopback_up(const plan& p) {
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail(p, step::network, errno, "socket");
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, "lo", 3);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) fail(p, step::network, errno, "lo");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail(p, step::network, errno, "lo");
    ::close(s);
}

[[noreturn]] void exec_user(const plan& p) {
    const char* file = p.argv[0];
    if (std::strchr(file, '/') != nullptr) {
        ::execve(file, p.argv, p.envp);
        fail(p, step::exec, errno, file);
    }
    char buf[4096];
    bool denied = false;
    const char* dir = p.search_path;
    while (true) {
        const char* end = ::strchrnul(dir, ':');
        text t{buf, sizeof(buf)};
        if (end == dir) {
            t.add(".");
        } else {
            const auto n = static_cast<std::size_t>(end - dir);
            if (n + 1 < sizeof(buf)) {
                std::memcpy(buf, dir, n);
                buf[n] = '\0';
                t.len = n;
            }
        }
        t.add("/").add(file);
        ::execve(buf, p.argv, p.envp);
        if (errno == EACCES) {
            denied = true;
        } else if (errno != ENOENT && errno != ENOTDIR) {
            fail(p, step::exec, errno, buf);
        }
        if (*end == '\0') break;
        dir = end + 1;
    }
    fail(p, step::exec, denied ? EACCES : ENOENT, file);
}

// The user's process: shares the init's memory until execve (CLONE_VM | CLONE_VFORK), so it
// only changes its own kernel state.
int user_main(void* arg) {
    const plan& p = *static_cast<const plan*>(arg);
    ::setsid();

    const int sources[3] = {p.stdin_fd, p.stdout_fd, p.stderr_fd};
    int copies[3];
    for (int i = 0; i < 3; ++i) {
        copies[i] = ::fcntl(sources[i], F_DUPFD_CLOEXEC, 3);
        if (copies[i] < 0) fail(p, step::fds, errno, "duplicating a standard stream");
    }
    for (int i = 0; i < 3; ++i) {
        if (::dup2(copies[i], i) < 0) fail(p, step::fds, errno, "duplicating a standard stream");
    }

    for (std::size_t i = 0; i < p.rlimit_count; ++i) {
        if (::setrlimit(static_cast<__rlimit_resource>(p.rlimits[i].resource), &p.rlimits[i].value) != 0)
            fail(p, step::rlimit, errno, "setrlimit");
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail(p, step::no_new_privs, errno, "PR_SET_NO_NEW_PRIVS");
    for (int cap = 0; cap <= p.cap_last; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            fail(p, step::drop_caps, errno, "PR_CAPBSET_DROP");
    }
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    // Raw system calls: glibc's wrappers would try to change the caller's other threads.
    if (p.drop_groups && ::syscall(SYS_setgroups, 0, nullptr) != 0)
        fail(p, step::set_groups, errno, "setgroups");
    if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) fail(p, step::set_gid, errno, "setresgid");
    if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) fail(p, step::set_uid, errno, "setresuid");
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capset, &header, data) != 0) fail(p, step::drop_caps, errno, "capset");
    if (::chdir(p.cwd) != 0) fail(p, step::chdir, errno, p.cwd);
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    exec_user(p);
}

}  // namespace

void container_init(const plan& p) noexcept {
    close_all_but(p);
    if (p.cgroup_procs_fd >= 0) {
        if (::write(p.cgroup_procs_fd, "0", 1) != 1) fail(p, step::cgroup_join, errno, "cgroup.procs");
        ::close(p.cgroup_procs_fd);
    }
    if (p.user_ns) {
        // A caller that changed uid is not dumpable, which makes /proc/self/* root's: the
        // maps could not be written. The init is made non-dumpable again below.
        ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        if (!write_file("/proc/self/setgroups", "deny"))
            fail(p, step::user_map, errno, "/proc/self/setgroups");
        if (!write_file("/proc/self/uid_map", p.uid_map))
            fail(p, step::user_map, errno, "/proc/self/uid_map");
        if (!write_file("/proc/self/gid_map", p.gid_map))
            fail(p, step::user_map, errno, "/proc/self/gid_map");
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        fail(p, step::mount_private, errno, "/");

    // Sources of bind mounts are taken while the caller's view is still there.
    int node_fds[dev_node_count];
    for (std::size_t i = 0; i < dev_node_count; ++i) {
        char path[32];
        text t{path, sizeof(path)};
        t.add("/dev/").add(dev_nodes[i]);
        node_fds[i] = ::open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (node_fds[i] < 0) fail(p, step::open_bind_source, errno, path);
    }
    for (std::size_t i = 0; i < p.bind_count; ++i) {
        const bind_plan& b = p.binds[i];
        p.bind_fds[i] = ::open_tree(AT_FDCWD, b.host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (p.bind_fds[i] < 0) fail(p, step::open_bind_source, errno, b.host);
        if (b.read_only) {
            mount_attr attr{};
            attr.attr_set = MOUNT_ATTR_RDONLY;
            if (::mount_setattr(p.bind_fds[i], "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0)
                fail(p, step::open_bind_source, errno, b.host, " (read-only)");
        }
    }

    // proc is made before the old root goes: the kernel only lets a user namespace mount
    // a new proc while a fully visible one exists in the mount namespace.
    const int proc_fs = ::fsopen("proc", FSOPEN_CLOEXEC);
    if (proc_fs < 0 || ::fsconfig(proc_fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        fail(p, step::mount_proc, errno, "/proc");
    const int proc_mnt =
        ::fsmount(proc_fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (proc_mnt < 0) fail(p, step::mount_proc, errno, "/proc");
    ::close(proc_fs);

    enter_root(p);

    if (p.overlay) {
        for (const char* dir : {"/proc", "/dev", "/tmp"}) {
            if (::mkdir(dir, 0755) != 0 && errno != EEXIST) fail(p, step::mount_point, errno, dir);
        }
    }
    if (::move_mount(proc_mnt, "", AT_FDCWD, "/proc", MOVE_MOUNT_F_EMPTY_PATH) != 0)
        fail(p, step::mount_proc, errno, "/proc");
    ::close(proc_mnt);
    if (p.harden_proc) harden_proc(p);
    set_up_dev(p, node_fds);
    if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, p.tmp_options) != 0)
        fail(p, step::mount_tmp, errno, "/tmp");
    for (std::size_t i = 0; i < p.bind_count; ++i) {
        const bind_plan& b = p.binds[i];
        if (b.create) make_mount_point(p, b.target, b.is_dir);
        if (::move_mount(p.bind_fds[i], "", AT_FDCWD, b.target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
            fail(p, step::bind_mount, errno, b.target);
        ::close(p.bind_fds[i]);
    }
    mount_attr root_attr{};
    root_attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (::mount_setattr(AT_FDCWD, "/", 0, &root_attr, sizeof(root_attr)) != 0)
        fail(p, step::root_readonly, errno, "/");
    if (::sethostname(p.hostname, p.hostname_len) != 0) fail(p, step::hostname, errno, p.hostname);
    if (p.loopback_up) bring_loopback_up(p);
    // Keeps processes inside (same uid) from ptrace or /proc access to the init.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    // The caller's dispositions do not apply here: its handlers are not ours, and an ignored
    // SIGCHLD would make the kernel reap the user's process before wait4 sees its status.
    // The user's process inherits these defaults.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }
    // Every signal is blocked since before clone; the init takes its own through a signalfd.
    sigset_t mine;
    sigemptyset(&mine);
    sigaddset(&mine, SIGCHLD);
    for (const int sig : forwarded_signals) sigaddset(&mine, sig);
    const int sfd = ::signalfd(-1, &mine, SFD_CLOEXEC);
    if (sfd < 0) fail(p, step::spawn, errno, "signalfd");

    char* stack_top = p.spawn_stack + p.spawn_stack_size;
    const pid_t user = ::clone(user_main, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, const_cast<plan*>(&p));
    if (user < 0) fail(p, step::spawn, errno, p.argv[0]);
    // The user's process has exec'd (or failed and said so): the caller sees EOF now.
    ::close(p.report_fd);
    ::close(p.stdin_fd);
    ::close(p.stdout_fd);
    ::close(p.stderr_fd);

    pollfd fds[2] = {{sfd, POLLIN, 0}, {p.death_fd, POLLIN, 0}};
    while (true) {
        if (::poll(fds, 2, -1) < 0) continue;
        // The caller died: leaving kills every process of the namespace.
        if (fds[1].revents != 0) ::_exit(1);
        if (fds[0].revents == 0) continue;
        signalfd_siginfo si{};
        if (::read(sfd, &si, sizeof(si)) != static_cast<ssize_t>(sizeof(si))) continue;
        if (si.ssi_signo != SIGCHLD) {
            ::kill(user, static_cast<int>(si.ssi_signo));
            continue;
        }
        int status = 0;
        pid_t done = 0;
        while ((done = ::wait4(-1, &status, WNOHANG, nullptr)) > 0) {
            if (done == user) {
                [[maybe_unused]] const auto n = ::write(p.status_fd, &status, sizeof(status));
                ::_exit(0);
            }
        }
    }
}

}  // namespace scar::sandbox::detail
