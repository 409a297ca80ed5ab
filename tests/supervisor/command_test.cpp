// run_command with the host's /bin/sh: exit codes, capture limits, streaming, deadlines
// that kill the whole process group, and nothing left behind.

#include "scar/supervisor/command.hpp"

#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

namespace {

namespace sv = scar::supervisor;
using namespace std::chrono_literals;

sv::command_spec shell(const std::string& script) {
    sv::command_spec s;
    s.argv = {"/bin/sh", "-c", script};
    s.env = {"PATH=/usr/bin:/bin", "GREETING=hi"};
    return s;
}

/// True when `pid` is running: not gone and not a zombie (a killed grandchild stays a zombie
/// until whoever adopted it reaps it). Waits up to 2 s for a killed process to die.
bool alive(pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    for (;;) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string text;
        std::getline(stat, text);
        const auto paren = text.rfind(')');
        if (!stat || paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] == 'Z')
            return false;
        if (std::chrono::steady_clock::now() > deadline) return true;
        std::this_thread::yield();
    }
}

pid_t read_pid(const std::filesystem::path& p) {
    std::ifstream in(p);
    pid_t pid = 0;
    in >> pid;
    return pid;
}

TEST(Command, ExitCodeStdoutAndStderrTail) {
    auto s = shell("echo out; echo $GREETING; echo err1 >&2; echo err2 >&2; exit 3");
    s.stderr_tail = 5;
    const auto o = sv::run_command(s).value();
    EXPECT_EQ(o.how, sv::command_outcome::ending::exited);
    EXPECT_EQ(o.exit_code, 3);
    EXPECT_FALSE(o.succeeded());
    EXPECT_EQ(o.stdout_text, "out\nhi\n");
    EXPECT_EQ(o.stderr_tail, "err2\n");
    EXPECT_EQ(sv::describe(o), "exited with code 3");
    EXPECT_LE(o.started, o.ended);
}

TEST(Command, StdoutIsCappedButStreamedWhole) {
    auto s = shell("i=0; while [ $i -lt 100 ]; do echo 0123456789; i=$((i+1)); done");
    s.stdout_limit = 25;
    std::size_t streamed = 0;
    s.on_output = [&](std::string_view chunk, bool is_err) {
        EXPECT_FALSE(is_err);
        streamed += chunk.size();
    };
    const auto o = sv::run_command(s).value();
    EXPECT_TRUE(o.succeeded());
    EXPECT_EQ(o.stdout_text.size(), 25U);
    EXPECT_TRUE(o.stdout_truncated);
    EXPECT_EQ(streamed, 1100U);
}

TEST(Command, ProgramIsLookedUpInTheGivenPath) {
    sv::command_spec s;
    s.argv = {"echo", "found"};
    s.env = {"PATH=/nonexistent:/bin"};
    EXPECT_EQ(sv::run_command(s).value().stdout_text, "found\n");
    s.argv = {"no-such-program-here"};
    const auto missing = sv::run_command(s);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "ScriptNotRunnable");
    EXPECT_NE(missing.error().message.find("no-such-program-here"), std::string::npos);
    s.argv = {"/no/such/sh"};
    const auto absent = sv::run_command(s);
    ASSERT_FALSE(absent);
    EXPECT_NE(absent.error().message.find("No such file"), std::string::npos);
}

TEST(Command, DeadlineKillsTheWholeGroup) {
    scar::testing::temp_dir dir("scar-sv-cmd");
    const auto pidfile = dir.path() / "child.pid";
    // The child ignores SIGTERM: only the SIGKILL after the grace period ends it.
    auto s =
        shell("sh -c 'trap \"\" TERM; echo $$ > " + pidfile.string() + "; while :; do sleep 1; done' & wait");
    s.deadline = std::chrono::steady_clock::now() + 300ms;
    s.grace = 100ms;
    const auto before = std::chrono::steady_clock::now();
    const auto o = sv::run_command(s).value();
    EXPECT_EQ(o.how, sv::command_outcome::ending::timed_out);
    EXPECT_EQ(sv::describe(o), "ran out of time and was killed");
    EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
    const pid_t child = read_pid(pidfile);
    ASSERT_GT(child, 0);
    EXPECT_FALSE(alive(child)) << "the grandchild outlived the deadline";
}

TEST(Command, BackgroundProcessesDoNotOutliveTheScript) {
    scar::testing::temp_dir dir("scar-sv-cmd");
    const auto pidfile = dir.path() / "bg.pid";
    // The background job keeps stdout open: without the group kill this would hang.
    auto s = shell("sleep 60 & echo $! > " + pidfile.string() + "; echo done");
    const auto before = std::chrono::steady_clock::now();
    const auto o = sv::run_command(s).value();
    EXPECT_TRUE(o.succeeded());
    EXPECT_EQ(o.stdout_text, "done\n");
    EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
    const pid_t bg = read_pid(pidfile);
    ASSERT_GT(bg, 0);
    EXPECT_FALSE(alive(bg));
}

TEST(Command, KilledBySignalIsReported) {
    const auto o = sv::run_command(shell("kill -9 $$")).value();
    EXPECT_EQ(o.how, sv::command_outcome::ending::signaled);
    EXPECT_EQ(o.signal, SIGKILL);
    EXPECT_NE(sv::describe(o).find("signal 9"), std::string::npos);
}

TEST(Command, WorkingDirectoryAndNoInheritedDescriptors) {
    scar::testing::temp_dir dir("scar-sv-cmd");
    auto s = shell("pwd; ls /proc/self/fd | wc -l; read x || echo eof");
    s.cwd = dir.path();
    const auto o = sv::run_command(s).value();
    // 0, 1, 2 and the descriptor ls opens to read the directory.
    EXPECT_EQ(o.stdout_text, dir.path().string() + "\n4\neof\n");
}

}  // namespace
