#include "scar/testing/process.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT

namespace scar::testing {
namespace {

using steady = std::chrono::steady_clock;

void set_nonblocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

child_process::child_process(process_options opts) {
    if (opts.argv.empty()) throw std::invalid_argument("child_process: empty argv");
    std::array<int, 2> out{};
    std::array<int, 2> err{};
    std::array<int, 2> in{};
    if (::pipe2(out.data(), O_CLOEXEC) != 0 || ::pipe2(err.data(), O_CLOEXEC) != 0 ||
        ::pipe2(in.data(), O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe2");
    }

    // Environment: the test's, edited.
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view kv(*e);
        const auto eq = kv.find('=');
        if (eq != std::string_view::npos)
            env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    for (const auto& name : opts.unset_env) env.erase(name);
    for (const auto& [k, v] : opts.env) env[k] = v;
    std::vector<std::string> env_strings;
    env_strings.reserve(env.size());
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (auto& a : opts.argv) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    if (opts.cwd) posix_spawn_file_actions_addchdir_np(&actions, opts.cwd->c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so that a Ctrl-C on the test run does not hit it twice.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    const int rc = ::posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    ::close(in[0]);
    if (rc != 0) {
        ::close(out[0]);
        ::close(err[0]);
        ::close(in[1]);
        throw std::runtime_error("cannot start '" + opts.argv[0] + "': " + std::strerror(rc));
    }
    out_fd_ = out[0];
    err_fd_ = err[0];
    set_nonblocking(out_fd_);
    set_nonblocking(err_fd_);
    if (opts.stdin_data.empty()) {
        ::close(in[1]);
    } else {
        in_fd_ = in[1];
        set_nonblocking(in_fd_);
        pending_in_ = std::move(opts.stdin_data);
    }
}

child_process::~child_process() {
    if (!status_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        reap(true);
    }
    for (const int fd : {out_fd_, err_fd_, in_fd_}) {
        if (fd >= 0) ::close(fd);
    }
}

bool child_process::reap(bool block) {
    if (status_) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r == pid_) {
        status_ = decode_status(status);
        return true;
    }
    return false;
}

void child_process::pump(std::chrono::milliseconds timeout) {
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (in_fd_ >= 0) fds[n++] = {in_fd_, POLLOUT, 0};
    if (n == 0) return;
    if (::poll(fds.data(), n, static_cast<int>(timeout.count())) <= 0) return;
    std::array<char, 65536> buf{};
    for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == in_fd_) {
            const auto w = ::write(in_fd_, pending_in_.data(), pending_in_.size());
            if (w > 0) pending_in_.erase(0, static_cast<std::size_t>(w));
            if (pending_in_.empty() || (w < 0 && errno != EAGAIN)) {
                ::close(in_fd_);
                in_fd_ = -1;
            }
            continue;
        }
        int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
        std::string& sink = fds[i].fd == out_fd_ ? out_ : err_;
        while (true) {
            const auto r = ::read(fd, buf.data(), buf.size());
            if (r > 0) {
                sink.append(buf.data(), static_cast<std::size_t>(r));
                continue;
            }
            if (r == 0 || errno != EAGAIN) {
                ::close(fd);
                fd = -1;
            }
            break;
        }
    }
}

std::optional<std::string> child_process::wait_for_output(
    std::string_view text,
    std::chrono::milliseconds timeout
) {
    const auto deadline = steady::now() + timeout;
    while (true) {
        if (out_.find(text) != std::string::npos || err_.find(text) != std::string::npos) return out_ + err_;
        if (out_fd_ < 0 && err_fd_ < 0) return std::nullopt;  // both pipes closed: it exited
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        if (left.count() <= 0) return std::nullopt;
        pump(std::min(left, std::chrono::milliseconds(200)));
    }
}

std::optional<int> child_process::wait(std::chrono::milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    while (true) {
        if (out_fd_ < 0 && err_fd_ < 0 && in_fd_ < 0) {
            // Output is complete; only the exit status is left to collect.
            while (!reap(false)) {
                if (steady::now() >= deadline) return std::nullopt;
                pollfd none{};
                ::poll(&none, 0, 5);
            }
            return status_;
        }
        if (reap(false)) {
            pump(std::chrono::milliseconds(0));
            pump(std::chrono::milliseconds(0));
            return status_;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        if (left.count() <= 0) return std::nullopt;
        pump(std::min(left, std::chrono::milliseconds(50)));
    }
}

int child_process::stop(int signal, std::chrono::milliseconds timeout) {
    if (!reap(false)) ::kill(pid_, signal);
    if (auto s = wait(timeout)) return *s;
    ::kill(pid_, SIGKILL);
    reap(true);
    return *status_;
}

bool child_process::running() {
    return !reap(false);
}

run_result run(process_options opts, std::chrono::milliseconds timeout) {
    child_process p(std::move(opts));
    run_result r;
    if (const auto code = p.wait(timeout)) {
        r.exit_code = *code;
    } else {
        p.stop(SIGKILL);
        r.exit_code = -1;
    }
    r.out = p.stdout_text();
    r.err = p.stderr_text();
    return r;
}

temp_dir::temp_dir(std::string_view prefix) {
    std::string templ = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr)
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = templ;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace scar::testing
