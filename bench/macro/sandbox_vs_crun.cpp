// Start-to-exit of /bin/true in the same busybox rootfs: scar::sandbox against `crun run`
// (Debian crun) on an OCI bundle over that rootfs, in one run. Prints medians and the ratio.
//
//   scar_sandbox_macro_bench [--runs N]
//
// Both run /bin/true with a read-only root, new mount/PID/IPC/UTS/cgroup namespaces, /proc,
// a tmpfs /tmp and a minimal /dev, no capabilities and no_new_privs. crun is timed from
// posix_spawn to waitpid (its own exec included, as a user of it pays that too); ours from
// the call to run() to its return. "crun, no cgroup" adds --cgroup-manager=disabled, the
// closest to ours without a memory limit; "ours, memory limit" creates and removes a
// cgroup per run.

#include <scar/sandbox/container.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

double median_ms(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

double percentile_ms(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0
                     : v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

/// Runs a program with stdio on /dev/null; its exit code, or -1.
int spawn_wait(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_bundle(const fs::path& bundle, const fs::path& rootfs) {
    std::ofstream(bundle / "config.json") << R"({
  "ociVersion": "1.0.0",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/true"],
    "env": ["PATH=/bin"],
    "cwd": "/",
    "noNewPrivileges": true
  },
  "root": {"path": ")" + rootfs.string() + R"(", "readonly": true},
  "hostname": "scar",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=536870912"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", "size=536870912"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/acpi"]
  }
})";
}

/// crun 1.8 refuses hosts in cgroup "hybrid" mode whose v2 tree has controllers ("cgroups in
/// hybrid mode not supported, drop all controllers from cgroupv2"). This bench then hides
/// that tree in a mount namespace of its own by unmounting it there (the host keeps it);
/// both runners see the same view.
bool hide_hybrid_cgroup2() {
    struct statfs st {};
    if (::statfs("/sys/fs/cgroup/unified", &st) != 0 || st.f_type != CGROUP2_SUPER_MAGIC) return false;
    std::ifstream in("/sys/fs/cgroup/unified/cgroup.controllers");
    std::string controllers;
    if (!(in >> controllers)) return false;
    return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
           ::umount2("/sys/fs/cgroup/unified", MNT_DETACH) == 0;
}

struct series {
    std::string name;
    std::vector<double> ms;
    int failures = 0;
};

}  // namespace

int main(int argc, char** argv) {
    int runs = 200;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
    }
    if (!fs::exists("/usr/bin/busybox")) {
        std::fprintf(stderr, "needs /usr/bin/busybox (Debian busybox-static)\n");
        return 77;
    }
    char tmpl[] = "/tmp/scar-sandbox-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return 1;
    const fs::path base = tmpl;
    const fs::path rootfs = base / "bundle" / "rootfs";
    fs::create_directories(rootfs / "bin");
    for (const char* d : {"proc", "dev", "tmp"}) fs::create_directories(rootfs / d);
    fs::copy_file("/usr/bin/busybox", rootfs / "bin" / "busybox");
    fs::create_symlink("busybox", rootfs / "bin" / "true");
    write_bundle(base / "bundle", rootfs);
    const bool have_crun = spawn_wait({"crun", "--version"}) == 0;
    if (have_crun && hide_hybrid_cgroup2())
        std::printf("note: cgroup v2 controllers hidden from crun (hybrid host, see hide_hybrid_cgroup2)\n");

    scar::sandbox::spec ours;
    ours.rootfs = rootfs;
    ours.argv = {"/bin/true"};
    ours.env = {"PATH=/bin"};
    scar::sandbox::spec ours_mem = ours;
    ours_mem.memory_bytes = 128 << 20;

    series s_ours{"ours", {}, 0};
    series s_ours_mem{"ours, memory limit", {}, 0};
    series s_crun{"crun run", {}, 0};
    series s_crun_nocg{"crun run, no cgroup", {}, 0};
    const auto time_it = [](series& s, const std::function<bool()>& f) {
        const auto t0 = clock_type::now();
        const bool ok = f();
        const auto t1 = clock_type::now();
        if (!ok) ++s.failures;
        s.ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    };
    const std::string bundle = (base / "bundle").string();
    // Interleaved so that both see the same machine load.
    for (int i = 0; i < runs; ++i) {
        time_it(s_ours, [&] {
            const auto r = scar::sandbox::run(ours);
            if (!r) std::fprintf(stderr, "%s\n", r.error().what().c_str());
            return r && r->ok();
        });
        time_it(s_ours_mem, [&] {
            const auto r = scar::sandbox::run(ours_mem);
            return r && r->ok();
        });
        if (have_crun) {
            const std::string id = "scar-bench-" + std::to_string(::getpid()) + "-" + std::to_string(i);
            time_it(s_crun, [&] { return spawn_wait({"crun", "run", "--bundle", bundle, id}) == 0; });
            time_it(s_crun_nocg, [&] {
                return spawn_wait({"crun", "--cgroup-manager=disabled", "run", "--bundle", bundle, id + "n"}
                       ) == 0;
            });
        }
    }
    fs::remove_all(base);

    std::printf("start-to-exit of /bin/true, %d runs each (ms)\n", runs);
    std::printf("%-22s %8s %8s %8s %6s\n", "", "median", "p10", "p90", "fail");
    for (const series* s : {&s_ours, &s_ours_mem, &s_crun, &s_crun_nocg}) {
        if (s->ms.empty()) continue;
        std::printf(
            "%-22s %8.3f %8.3f %8.3f %6d\n",
            s->name.c_str(),
            median_ms(s->ms),
            percentile_ms(s->ms, 0.1),
            percentile_ms(s->ms, 0.9),
            s->failures
        );
    }
    if (have_crun) {
        std::printf("ratio ours / crun run: %.3f\n", median_ms(s_ours.ms) / median_ms(s_crun.ms));
        std::printf(
            "ratio ours / crun run, no cgroup: %.3f\n",
            median_ms(s_ours.ms) / median_ms(s_crun_nocg.ms)
        );
        std::printf(
            "ratio ours with memory limit / crun run: %.3f\n",
            median_ms(s_ours_mem.ms) / median_ms(s_crun.ms)
        );
    } else {
        std::printf("crun not found: install Debian 'crun' for the comparison\n");
    }
    return s_ours.failures == 0 ? 0 : 1;
}
