// 1,000 containers in a row leave nothing behind: no mounts, cgroups, temp dirs,
// descriptors or child processes.

#include <scar/sandbox/container.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cgroup.hpp"
#include "rootfs.hpp"
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;
namespace sb = scar::sandbox;

std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

std::vector<std::string> entries(const fs::path& dir, std::string_view prefix = "") {
    std::vector<std::string> out;
    if (dir.empty() || !fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const auto name = e.path().filename().string();
        if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::size_t open_fds() {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{})
    );
}

TEST(SandboxRepeat, ThousandRunsLeaveNothingBehind) {
    sb::testing::test_rootfs full;
    sb::testing::test_rootfs minimal(false);
    const auto bind_dir = scar::testing::temp_dir("scar-sandbox-repeat");
    // Warm up once so that process-wide descriptors (the lifetime pipe, /dev/null) exist.
    sb::spec warm;
    warm.rootfs = full.path();
    warm.argv = {"/bin/scar-probe", "true"};
    ASSERT_TRUE(sb::run(warm).has_value());

    // The sandbox makes no temp files; any would land in TMPDIR, pointed at an empty
    // directory here (/tmp itself changes under parallel tests and other programs).
    const auto private_tmp = scar::testing::temp_dir("scar-sandbox-tmpdir");
    ::setenv("TMPDIR", private_tmp.path().c_str(), 1);
    const auto mounts_before = read_all("/proc/self/mountinfo");
    const auto cgroup_dir = sb::detail::memory_cgroup_parent();
    const auto mine = "scar-" + std::to_string(::getpid()) + "-";
    const auto fds_before = open_fds();

    for (int i = 0; i < 1000; ++i) {
        sb::spec s;
        // Alternate the plain bind root and the overlay root, with and without a cgroup.
        s.rootfs = i % 2 == 0 ? full.path() : minimal.path();
        s.argv = {"/bin/scar-probe", "exit", std::to_string(i % 7)};
        s.mounts = {{bind_dir.path(), "/mnt/in", i % 3 == 0}};
        if (i % 4 == 0) s.memory_bytes = 64 << 20;
        if (i % 5 == 0) s.stdout_sink.callback = [](std::string_view) {};
        const auto o = sb::run(s);
        ASSERT_TRUE(o.has_value()) << "run " << i << ": " << o.error().what();
        ASSERT_EQ(o->exit_code, i % 7) << "run " << i;
    }

    EXPECT_EQ(read_all("/proc/self/mountinfo"), mounts_before);
    ::unsetenv("TMPDIR");
    EXPECT_EQ(entries(private_tmp.path()), std::vector<std::string>{});
    EXPECT_EQ(entries(cgroup_dir, mine), std::vector<std::string>{});
    EXPECT_EQ(open_fds(), fds_before);
    // No child left to reap (our inits have no exit signal, hence __WALL).
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG | __WALL), -1);
    EXPECT_EQ(errno, ECHILD);
}

}  // namespace
