#include "scar/sandbox/container.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cgroup.hpp"
#include "rootfs.hpp"
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace sb = scar::sandbox;
using sb::testing::test_rootfs;
using namespace std::chrono_literals;

/// Output collected from the callbacks.
struct capture {
    std::mutex m;
    std::string out;
    std::string err;
    void attach(sb::spec& s) {
        s.stdout_sink.callback = [this](std::string_view c) {
            const std::lock_guard l(m);
            out.append(c);
        };
        s.stderr_sink.callback = [this](std::string_view c) {
            const std::lock_guard l(m);
            err.append(c);
        };
    }
};

sb::spec probe_spec(const test_rootfs& r, std::vector<std::string> args) {
    sb::spec s;
    s.rootfs = r.path();
    s.argv = {"/bin/scar-probe"};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.env = {"PATH=/bin", "HOME=/tmp"};
    return s;
}

/// Runs the probe and returns (outcome, stdout); fails the test on a setup error.
std::pair<sb::outcome, std::string> run_probe(sb::spec s) {
    capture c;
    c.attach(s);
    auto r = sb::run(s);
    EXPECT_TRUE(r.has_value()) << (r.has_error() ? r.error().what() : "");
    if (!r) return {};
    if (!c.err.empty()) std::cerr << "container stderr: " << c.err;
    return {*r, c.out};
}

std::string run_out(const test_rootfs& r, std::vector<std::string> args) {
    return run_probe(probe_spec(r, std::move(args))).second;
}

TEST(SandboxContainer, IsAvailableHere) {
    const auto r = sb::check_available();
    ASSERT_TRUE(r.has_value()) << r.error().what();
}

TEST(SandboxContainer, ReportsExitCodes) {
    test_rootfs r;
    auto [o, out] = run_probe(probe_spec(r, {"exit", "7"}));
    EXPECT_EQ(o.how, sb::outcome::ending::exited);
    EXPECT_EQ(o.exit_code, 7);
    std::tie(o, out) = run_probe(probe_spec(r, {"true"}));
    EXPECT_TRUE(o.ok());
    EXPECT_GT(o.elapsed.count(), 0);
    EXPECT_FALSE(o.memory_limited);
}

TEST(SandboxContainer, ReportsSignals) {
    test_rootfs r;
    const auto [o, out] = run_probe(probe_spec(r, {"kill-self", "11"}));
    EXPECT_EQ(o.how, sb::outcome::ending::signaled);
    EXPECT_EQ(o.signal, SIGSEGV);
}

TEST(SandboxContainer, RunsBusyboxShellFoundInPath) {
    if (!sb::testing::have_busybox()) GTEST_SKIP() << "/usr/bin/busybox is missing; install busybox-static";
    test_rootfs r;
    sb::spec s = probe_spec(r, {});
    s.argv = {"sh", "-c", "echo hello from $0; exit 3"};
    const auto [o, out] = run_probe(s);
    EXPECT_EQ(o.exit_code, 3);
    EXPECT_EQ(out, "hello from sh\n");
}

TEST(SandboxContainer, StreamsStdoutAndStderrSeparately) {
    test_rootfs r;
    sb::spec s = probe_spec(r, {"echo-err", "to", "stderr"});
    capture c;
    c.attach(s);
    ASSERT_TRUE(sb::run(s).has_value());
    EXPECT_EQ(c.err, "to stderr\n");
    EXPECT_EQ(c.out, "");
    // Large output through the callback, with a thread of the container (start + wait).
    s = probe_spec(r, {"write-stdout", "3000000"});
    std::size_t total = 0;
    std::thread::id callback_thread;
    s.stdout_sink.callback = [&](std::string_view chunk) {
        total += chunk.size();
        callback_thread = std::this_thread::get_id();
    };
    auto cont = sb::container::start(s);
    ASSERT_TRUE(cont.has_value()) << cont.error().what();
    const auto o = cont->wait();
    ASSERT_TRUE(o.has_value());
    EXPECT_TRUE(o->ok());
    EXPECT_EQ(total, 3000000U);
    EXPECT_NE(callback_thread, std::this_thread::get_id());
}

TEST(SandboxContainer, WritesToGivenDescriptors) {
    test_rootfs r;
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    sb::spec s = probe_spec(r, {"cat"});
    int in[2];
    ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
    ASSERT_EQ(::write(in[1], "piped in\n", 9), 9);
    ::close(in[1]);
    s.stdin_fd = in[0];
    s.stdout_sink.fd = fds[1];
    const auto o = sb::run(s);
    ::close(in[0]);
    ::close(fds[1]);
    ASSERT_TRUE(o.has_value()) << o.error().what();
    char buf[64] = {};
    ASSERT_EQ(::read(fds[0], buf, sizeof(buf)), 9);
    ::close(fds[0]);
    EXPECT_EQ(std::string(buf), "piped in\n");
}

TEST(SandboxContainer, HonoursEnvCwdUidGidAndHostname) {
    test_rootfs r;
    sb::spec s = probe_spec(r, {"env"});
    s.env = {"A=1", "B=two words"};
    EXPECT_EQ(run_probe(s).second, "A=1\nB=two words\n");
    s = probe_spec(r, {"pwd"});
    s.cwd = "/data";
    EXPECT_EQ(run_probe(s).second, "/data\n");
    s = probe_spec(r, {"id"});
    s.uid = 1000;
    s.gid = 1001;
    EXPECT_EQ(run_probe(s).second, "uid=1000 gid=1001 groups=0\n");
    EXPECT_EQ(run_out(r, {"hostname"}), "scar\n");
    s = probe_spec(r, {"hostname"});
    s.hostname = "fn-1";
    EXPECT_EQ(run_probe(s).second, "fn-1\n");
}

TEST(SandboxContainer, CannotSeeHostFiles) {
    test_rootfs r;
    const fs::path marker = fs::temp_directory_path() / ("scar-marker-" + std::to_string(::getpid()));
    std::ofstream(marker) << "host";
    EXPECT_EQ(run_out(r, {"stat", marker.string()}), "ENOENT\n");
    EXPECT_EQ(run_out(r, {"stat", "/etc/passwd"}), "ENOENT\n");
    EXPECT_EQ(run_out(r, {"ls", "/"}), "bin\ndata\ndev\netc\nproc\ntmp\n");
    // /proc is the container's own: PID 1 is our init, the probe is PID 2.
    EXPECT_EQ(run_out(r, {"pid"}), "2\n");
    fs::remove(marker);
}

TEST(SandboxContainer, RootIsReadOnlyAndRootfsUntouched) {
    test_rootfs r;
    const auto before = r.listing();
    EXPECT_EQ(run_out(r, {"write", "/newfile", "10"}), "EROFS\n");
    EXPECT_EQ(run_out(r, {"write", "/bin/scar-probe", "10"}), "EROFS\n");
    EXPECT_EQ(run_out(r, {"write", "/dev/newfile", "10"}), "EROFS\n");
    EXPECT_EQ(run_out(r, {"write", "/dev/null", "10"}), "ok\n");
    EXPECT_EQ(r.listing(), before);
}

TEST(SandboxContainer, RootfsWithoutMountPointsIsNotWritten) {
    test_rootfs r(false);
    const auto before = r.listing();
    const auto host_dir = scar::testing::temp_dir("scar-sandbox-bind");
    std::ofstream(host_dir.path() / "f") << "x";
    sb::spec s = probe_spec(r, {"ls", "/"});
    s.mounts = {{host_dir.path(), "/var/task", true}, {host_dir.path() / "f", "/opt/file", true}};
    const auto [o, out] = run_probe(s);
    EXPECT_TRUE(o.ok());
    EXPECT_EQ(out, "bin\ndata\ndev\netc\nopt\nproc\ntmp\nvar\n");
    EXPECT_EQ(r.listing(), before);
    EXPECT_EQ(run_out(r, {"write", "/x", "1"}), "EROFS\n");
}

TEST(SandboxContainer, TmpIsWritableUpToItsLimit) {
    test_rootfs r;
    sb::spec s = probe_spec(r, {"fill", "/tmp/big"});
    s.tmp_bytes = 8 << 20;
    const auto out = run_probe(s).second;
    std::istringstream in(out);
    std::string err;
    unsigned long long bytes = 0;
    in >> err >> bytes;
    EXPECT_EQ(err, "ENOSPC") << out;
    EXPECT_LE(bytes, 8ULL << 20);
    EXPECT_GE(bytes, 7ULL << 20);
}

TEST(SandboxContainer, MemoryLimitEndsInOutOfMemory) {
    test_rootfs r;
    sb::spec s = probe_spec(r, {"memhog", "256"});
    s.memory_bytes = 32 << 20;
    const auto [o, out] = run_probe(s);
    if (!o.memory_limited) GTEST_SKIP() << "no usable memory cgroup here (see the warning above)";
    EXPECT_EQ(o.how, sb::outcome::ending::out_of_memory) << sb::to_string(o.how) << " " << out;
    EXPECT_GT(o.peak_memory_bytes, 16U << 20);
    // Under the limit it runs normally.
    s = probe_spec(r, {"memhog", "8"});
    s.memory_bytes = 64 << 20;
    const auto [o2, out2] = run_probe(s);
    EXPECT_TRUE(o2.ok());
    EXPECT_EQ(out2, "done\n");
}

/// Processes on the host whose command line contains `marker`.
int processes_with(const std::string& marker) {
    int n = 0;
    DIR* d = ::opendir("/proc");
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (cmdline.find(marker) != std::string::npos) ++n;
    }
    ::closedir(d);
    return n;
}

TEST(SandboxContainer, TimeoutKillsTheWholeTree) {
    test_rootfs r;
    const std::string marker = "tree-" + std::to_string(::getpid());
    sb::spec s = probe_spec(r, {"spawn-tree", "3", marker});
    s.timeout = 500ms;
    capture c;
    c.attach(s);
    auto cont = sb::container::start(s);
    ASSERT_TRUE(cont.has_value()) << cont.error().what();
    const auto o = cont->wait();
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->how, sb::outcome::ending::timed_out);
    EXPECT_EQ(c.out, "ready\n");
    EXPECT_GE(o->elapsed, 500ms);
    EXPECT_LT(o->elapsed, 5s);
    EXPECT_EQ(processes_with(marker), 0);
}

TEST(SandboxContainer, KillAndSignalFromAnotherThread) {
    test_rootfs r;
    sb::spec s = probe_spec(r, {"sleep-until-signal"});
    std::mutex m;
    std::condition_variable cv;
    std::string out;
    s.stdout_sink.callback = [&](std::string_view chunk) {
        const std::lock_guard l(m);
        out.append(chunk);
        cv.notify_all();
    };
    auto cont = sb::container::start(s);
    ASSERT_TRUE(cont.has_value()) << cont.error().what();
    {
        std::unique_lock l(m);
        ASSERT_TRUE(cv.wait_for(l, 20s, [&] { return out == "waiting\n"; }));
    }
    // SIGTERM goes through our init to the process, which handles it and exits 0.
    std::thread([&] { cont->signal(SIGTERM); }).join();
    auto o = cont->wait();
    ASSERT_TRUE(o.has_value());
    EXPECT_TRUE(o->ok());
    EXPECT_EQ(out, "waiting\nsignal 15\n");

    auto c2 = sb::container::start(probe_spec(r, {"sleep-until-signal"}));
    ASSERT_TRUE(c2.has_value());
    std::thread waiter([&] {
        const auto w = c2->wait();
        ASSERT_TRUE(w.has_value());
        EXPECT_EQ(w->how, sb::outcome::ending::signaled);
        EXPECT_EQ(w->signal, SIGKILL);
    });
    c2->kill();
    waiter.join();
    EXPECT_EQ(c2->wait()->signal, SIGKILL);  // same outcome again
}

TEST(SandboxContainer, StartsFromManyThreadsAtOnce) {
    test_rootfs r;
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                sb::spec s = probe_spec(r, {"echo", std::to_string(t * 100 + i)});
                std::string out;
                s.stdout_sink.callback = [&](std::string_view c) { out.append(c); };
                if (t % 2 == 0) s.memory_bytes = 64 << 20;
                auto c = sb::container::start(s);
                if (!c) continue;
                const auto o = c->wait();
                if (o && o->ok() && out == std::to_string(t * 100 + i) + "\n") ++good;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(good.load(), 60);
}

TEST(SandboxContainer, BindMountsReadOnlyAndReadWrite) {
    test_rootfs r;
    const auto in = scar::testing::temp_dir("scar-sandbox-in");
    const auto out = scar::testing::temp_dir("scar-sandbox-out");
    std::ofstream(in.path() / "input.txt") << "input data";
    sb::spec s = probe_spec(r, {"cat", "/data/in/input.txt"});
    s.mounts = {{in.path(), "/data/in", true}, {out.path(), "/tmp/out", false}};
    EXPECT_EQ(run_probe(s).second, "input data");
    s.argv = {"/bin/scar-probe", "write", "/data/in/x", "1"};
    EXPECT_EQ(run_probe(s).second, "EROFS\n");
    s.argv = {"/bin/scar-probe", "write-output", "/tmp/out", "3"};
    EXPECT_EQ(run_probe(s).second, "ok\n");
    EXPECT_TRUE(fs::exists(out.path() / "out-2"));
    EXPECT_FALSE(fs::exists(in.path() / "x"));
}

TEST(SandboxContainer, Pid1ReapsOrphans) {
    test_rootfs r;
    EXPECT_EQ(run_out(r, {"orphan"}), "reaped\n");
}

TEST(SandboxContainer, NoCapabilitiesNoNewPrivsAndRlimits) {
    test_rootfs r;
    const auto caps = run_out(r, {"caps"});
    EXPECT_NE(caps.find("CapEff:\t0000000000000000"), std::string::npos) << caps;
    EXPECT_NE(caps.find("CapBnd:\t0000000000000000"), std::string::npos) << caps;
    EXPECT_EQ(run_out(r, {"no-new-privs"}), "1\n");
    sb::spec s = probe_spec(r, {"rlimit-nofile"});
    s.rlimits = {{RLIMIT_NOFILE, 64, 128}};
    EXPECT_EQ(run_probe(s).second, "64 128\n");
    // As host root, /proc/sys is read-only inside.
    EXPECT_EQ(run_out(r, {"write", "/proc/sys/kernel/hostname", "1"}), "EROFS\n");
}

TEST(SandboxContainer, MinimalDev) {
    test_rootfs r;
    EXPECT_EQ(
        run_out(r, {"ls", "/dev"}),
        "fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n"
    );
    EXPECT_EQ(run_out(r, {"readlink", "/dev/stdout"}), "/proc/self/fd/1\n");
    EXPECT_EQ(run_out(r, {"write", "/dev/shm/x", "100"}), "ok\n");
}

TEST(SandboxContainer, SetupErrorsAreClear) {
    test_rootfs r;
    auto s = probe_spec(r, {"true"});
    s.argv = {"/bin/nope"};
    auto res = sb::run(s);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error().code, "SandboxExecFailed");
    EXPECT_NE(res.error().message.find("'/bin/nope'"), std::string::npos) << res.error().message;
    s.argv = {"nope"};
    res = sb::run(s);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error().code, "SandboxExecFailed");
    s = probe_spec(r, {"true"});
    s.cwd = "/missing";
    res = sb::run(s);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error().code, "SandboxSetupFailed");
    EXPECT_NE(res.error().message.find("/missing"), std::string::npos) << res.error().message;
    s = probe_spec(r, {"true"});
    s.rootfs = r.path() / "nothing";
    EXPECT_EQ(sb::run(s).error().code, "InvalidParameterValue");
    s = probe_spec(r, {"true"});
    s.mounts = {{"/nonexistent-host-dir", "/x", true}};
    EXPECT_EQ(sb::run(s).error().code, "InvalidParameterValue");
    s.mounts = {{"/tmp", "../etc", true}};
    EXPECT_EQ(sb::run(s).error().code, "InvalidParameterValue");
}

TEST(SandboxContainer, OwnNetworkHasOnlyLoopback) {
    test_rootfs r;
    sb::spec s = probe_spec(r, {"ls", "/proc/net/dev_snmp6"});
    s.argv = {"/bin/scar-probe", "cat", "/proc/net/dev"};
    s.own_network = true;
    const auto [o, out] = run_probe(s);
    EXPECT_TRUE(o.ok());
    EXPECT_NE(out.find("lo:"), std::string::npos);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;  // two header lines + lo
}

/// Runs `body` in a forked child and returns its exit code (the child is ended by its PID).
template <class F>
int in_child(F body) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(body());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(SandboxContainer, UnprivilegedThroughAUserNamespace) {
    if (::geteuid() != 0) GTEST_SKIP() << "runs as root and drops to uid 65534 in a child";
    test_rootfs r;
    test_rootfs minimal(false);
    const int rc = in_child([&] {
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
        sb::spec s = probe_spec(r, {"id"});
        std::string out;
        s.stdout_sink.callback = [&](std::string_view c) { out.append(c); };
        auto o = sb::run(s);
        if (!o) {
            std::cerr << o.error().what() << "\n";
            return o.error().code == "SandboxUnavailable" ? 77 : 11;
        }
        if (out != "uid=0 gid=0 groups=0\n") return 12;
        s.argv = {"/bin/scar-probe", "write", "/x", "1"};
        out.clear();
        if (!sb::run(s) || out != "EROFS\n") return 13;
        // The overlay root (mount points missing) and bind mounts work in a user namespace too.
        s.rootfs = minimal.path();
        s.mounts = {{minimal.path() / "bin", "/opt/bin", true}};
        s.argv = {"/opt/bin/scar-probe", "ls", "/"};
        out.clear();
        if (!sb::run(s) || out != "bin\ndata\ndev\netc\nopt\nproc\ntmp\n") return 14;
        // No cgroup is writable for uid 65534 here: the run goes on without the limit.
        s.memory_bytes = 64 << 20;
        s.argv = {"/opt/bin/scar-probe", "true"};
        const auto limited = sb::run(s);
        if (!limited || !limited->ok()) return 15;
        return 0;
    });
    if (rc == 77) GTEST_SKIP() << "user namespaces are not permitted for uid 65534 here";
    EXPECT_EQ(rc, 0);
}

TEST(SandboxContainer, CallerSignalDispositionsDoNotLeakIn) {
    test_rootfs r;
    const int rc = in_child([&] {
        // A caller that ignores SIGCHLD and SIGTERM (servers often do).
        std::signal(SIGCHLD, SIG_IGN);
        std::signal(SIGTERM, SIG_IGN);
        const auto o = sb::run(probe_spec(r, {"exit", "9"}));
        if (!o || o->exit_code != 9) return 10;
        // SIGTERM has its default action inside: the process dies of it.
        const auto t = sb::run(probe_spec(r, {"kill-self", "15"}));
        return t && t->how == sb::outcome::ending::signaled && t->signal == SIGTERM ? 0 : 11;
    });
    EXPECT_EQ(rc, 0);
}

TEST(SandboxContainer, ContainerDiesWithItsCaller) {
    test_rootfs r;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t caller = ::fork();
    if (caller == 0) {
        auto c = sb::container::start(probe_spec(r, {"sleep-until-signal"}));
        const pid_t init = c ? c->pid() : -1;
        [[maybe_unused]] auto n = ::write(fds[1], &init, sizeof(init));
        while (true) ::pause();
    }
    ::close(fds[1]);
    pid_t init = -1;
    ASSERT_EQ(::read(fds[0], &init, sizeof(init)), static_cast<ssize_t>(sizeof(init)));
    ::close(fds[0]);
    ASSERT_GT(init, 0);
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, init, 0));
    ASSERT_GE(pidfd, 0);
    ::kill(caller, SIGKILL);
    ::waitpid(caller, nullptr, 0);
    pollfd p{pidfd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 20000), 1) << "the container outlived its caller";
    ::close(pidfd);
}

/// Installs a seccomp filter making clone3 fail with `clone3_errno` and, when
/// `deny_clone_ns`, clone/unshare with namespace flags fail with EPERM (like AWS Lambda).
bool deny_namespaces(int clone3_errno, bool deny_clone_ns) {
    const std::uint32_t ns_flags = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID;
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(clone3_errno)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, deny_clone_ns ? ns_flags : 0, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

TEST(SandboxContainer, NamespacesDeniedIsSandboxUnavailable) {
    test_rootfs r;
    const int rc = in_child([&] {
        if (!deny_namespaces(EPERM, true)) return 10;
        const auto a = sb::check_available();
        if (a || a.error().code != "SandboxUnavailable") return 11;
        if (a.error().message.find("udocker") == std::string::npos) return 12;
        const auto o = sb::run(probe_spec(r, {"true"}));
        return !o && o.error().code == "SandboxUnavailable" ? 0 : 13;
    });
    EXPECT_EQ(rc, 0);
}

TEST(SandboxContainer, FallsBackToCloneWhenClone3IsFiltered) {
    test_rootfs r;
    const int rc = in_child([&] {
        if (!deny_namespaces(ENOSYS, false)) return 10;
        const auto o = sb::run(probe_spec(r, {"exit", "5"}));
        return o && o->exit_code == 5 ? 0 : 11;
    });
    EXPECT_EQ(rc, 0);
}

TEST(SandboxCgroup, StaleGroupsOfDeadProcessesAreRemoved) {
    using scar::sandbox::detail::cgroup_version;
    if (sb::detail::memory_cgroup_version() == cgroup_version::none)
        GTEST_SKIP() << "no usable memory cgroup here";
    const pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    ::waitpid(dead, nullptr, 0);
    const fs::path stale = sb::detail::memory_cgroup_parent() / ("scar-" + std::to_string(dead) + "-1");
    ASSERT_TRUE(fs::create_directory(stale));
    const fs::path live =
        sb::detail::memory_cgroup_parent() / ("scar-" + std::to_string(::getppid()) + "-999");
    ASSERT_TRUE(fs::create_directory(live));
    sb::detail::remove_stale_groups();
    EXPECT_FALSE(fs::exists(stale));
    EXPECT_TRUE(fs::exists(live));
    fs::remove(live);
}

}  // namespace
