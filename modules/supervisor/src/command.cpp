#include "scar/supervisor/command.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace scar::supervisor {
namespace {

using steady = std::chrono::steady_clock;
constexpr std::string_view default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

class fd_owner {
public:
    fd_owner() = default;
    explicit fd_owner(int fd) noexcept : fd_(fd) {}
    ~fd_owner() { reset(); }
    fd_owner(const fd_owner&) = delete;
    fd_owner& operator=(const fd_owner&) = delete;
    [[nodiscard]] int get() const noexcept { return fd_; }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

std::string_view env_value(const std::vector<std::string>& env, std::string_view name) {
    for (const auto& e : env) {
        if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
            return std::string_view(e).substr(name.size() + 1);
    }
    return {};
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

result<std::string> resolve(const command_spec& spec) {
    const std::string& name = spec.argv.front();
    if (name.find('/') != std::string::npos) return name;
    std::string_view path = env_value(spec.env, "PATH");
    if (path.empty()) path = default_path;
    while (!path.empty()) {
        const auto colon = path.find(':');
        std::string dir(path.substr(0, colon));
        path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + name;
        if (is_executable_file(candidate)) return candidate;
    }
    return make_error(
        "ScriptNotRunnable",
        "cannot run '" + name + "': no such program in PATH (" +
            std::string(env_value(spec.env, "PATH").empty() ? default_path : env_value(spec.env, "PATH")) +
            "); check the image's command or the cmd_args sent"
    );
}

int poll_timeout_ms(std::optional<steady::time_point> until, bool need_tick) {
    if (!until) return need_tick ? 50 : -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*until - steady::now()).count();
    int ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, 60'000));
    if (need_tick) ms = std::min(ms, 50);
    return ms;
}

}  // namespace

result<command_outcome> run_command(const command_spec& spec) {
    if (spec.argv.empty()) return make_error("InvalidParameterValue", "run_command: argv is empty");
    auto program = resolve(spec);
    if (!program) return program.error();

    std::array<int, 2> out{-1, -1};
    std::array<int, 2> err{-1, -1};
    if (::pipe2(out.data(), O_CLOEXEC) != 0 || ::pipe2(err.data(), O_CLOEXEC) != 0) {
        const int e = errno;
        for (int fd : {out[0], out[1], err[0], err[1]})
            if (fd >= 0) ::close(fd);
        return make_error("ScriptNotRunnable", std::string("cannot make a pipe: ") + std::strerror(e));
    }
    fd_owner out_r(out[0]);
    fd_owner out_w(out[1]);
    fd_owner err_r(err[0]);
    fd_owner err_w(err[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_w.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_w.get(), STDERR_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr,
        static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
    );

    std::vector<char*> argv;
    argv.reserve(spec.argv.size() + 1);
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(spec.env.size() + 1);
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, program->c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    out_w.reset();
    err_w.reset();
    if (rc != 0) {
        std::string hint = rc == ENOENT   ? "; the image needs it (a script needs /bin/sh)"
                           : rc == EACCES ? "; is it executable?"
                                          : "";
        if (rc == ENOENT && !spec.cwd.empty() && !std::filesystem::exists(spec.cwd))
            hint = "; its working directory '" + spec.cwd.string() + "' does not exist";
        return make_error("ScriptNotRunnable", "cannot run '" + *program + "': " + std::strerror(rc) + hint);
    }

    command_outcome o;
    o.started = steady::now();
    fd_owner pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    std::optional<steady::time_point> term_at = spec.deadline;
    std::optional<steady::time_point> kill_at;
    std::optional<steady::time_point> drain_until;
    bool leader_gone = false;
    int status = 0;
    std::string buf(64 * 1024, '\0');

    const auto consume = [&](int fd, bool is_err) -> bool {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) return errno == EINTR || errno == EAGAIN;
        if (n == 0) return false;
        const std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
        if (spec.on_output) spec.on_output(chunk, is_err);
        if (is_err) {
            o.stderr_tail.append(chunk);
            if (o.stderr_tail.size() > spec.stderr_tail)
                o.stderr_tail.erase(0, o.stderr_tail.size() - spec.stderr_tail);
        } else {
            const std::size_t room = spec.stdout_limit - std::min(spec.stdout_limit, o.stdout_text.size());
            if (chunk.size() > room) o.stdout_truncated = true;
            o.stdout_text.append(chunk.substr(0, std::min(room, chunk.size())));
        }
        return true;
    };
    // Once the leader is gone, its group is killed: what is left (`cmd &`) must not outlive
    // the invocation. The zombie is kept (WNOWAIT) until then, so its pid names the group.
    const auto leader_exited = [&] {
        siginfo_t info{};
        const int w = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
        return w == 0 && info.si_pid == pid;
    };
    const auto finish_leader = [&] {
        ::kill(-pid, SIGKILL);
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        leader_gone = true;
        o.ended = steady::now();
        drain_until = o.ended + std::chrono::seconds(1);
    };

    while (out_r.get() >= 0 || err_r.get() >= 0 || !leader_gone) {
        std::optional<steady::time_point> wake;
        if (!leader_gone) wake = kill_at ? kill_at : term_at;
        if (leader_gone) wake = drain_until;
        std::array<pollfd, 3> fds{};
        nfds_t n = 0;
        if (out_r.get() >= 0) fds[n++] = {out_r.get(), POLLIN, 0};
        if (err_r.get() >= 0) fds[n++] = {err_r.get(), POLLIN, 0};
        if (!leader_gone && pidfd.get() >= 0) fds[n++] = {pidfd.get(), POLLIN, 0};
        const int ready = ::poll(fds.data(), n, poll_timeout_ms(wake, !leader_gone && pidfd.get() < 0));
        if (ready < 0 && errno != EINTR) break;
        for (nfds_t i = 0; ready > 0 && i < n; ++i) {
            if (fds[i].revents == 0) continue;
            if (fds[i].fd == out_r.get()) {
                if (!consume(out_r.get(), false)) out_r.reset();
            } else if (fds[i].fd == err_r.get()) {
                if (!consume(err_r.get(), true)) err_r.reset();
            }
        }
        if (!leader_gone && leader_exited()) finish_leader();
        const auto now = steady::now();
        if (!leader_gone && term_at && now >= *term_at && !kill_at) {
            o.how = command_outcome::ending::timed_out;
            ::kill(-pid, SIGTERM);
            kill_at = now + spec.grace;
        } else if (!leader_gone && kill_at && now >= *kill_at) {
            ::kill(-pid, SIGKILL);
            kill_at = now + std::chrono::hours(1);  // the leader's exit is next
        }
        if (leader_gone && drain_until && now >= *drain_until)
            break;  // a process outside the group holds the pipe
    }
    if (o.how != command_outcome::ending::timed_out) {
        if (WIFEXITED(status)) {
            o.how = command_outcome::ending::exited;
            o.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            o.how = command_outcome::ending::signaled;
            o.signal = WTERMSIG(status);
        }
    } else if (WIFEXITED(status)) {
        o.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        o.signal = WTERMSIG(status);
    }
    return o;
}

std::string describe(const command_outcome& o) {
    switch (o.how) {
        case command_outcome::ending::exited:
            return "exited with code " + std::to_string(o.exit_code);
        case command_outcome::ending::signaled:
            return "was killed by signal " + std::to_string(o.signal) + " (" + ::strsignal(o.signal) + ")";
        case command_outcome::ending::timed_out:
            return "ran out of time and was killed";
    }
    return "ended";
}

}  // namespace scar::supervisor
