#include "process.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace scar::emulator::lambda {

bool host_process::read_available() noexcept {
    const std::lock_guard lock(read_mutex_);
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n > 0) {
            lines_.feed(std::string_view(buf, static_cast<std::size_t>(n)), on_line_);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

void host_process::sync_output() noexcept {
    (void)read_available();
}

result<std::unique_ptr<host_process>> host_process::start(
    const launch_spec& spec,
    line_handler on_line,
    exit_handler on_exit
) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return make_error(
            "ServiceException",
            std::string("cannot create a pipe: ") + std::strerror(errno),
            500
        );
    }
    std::vector<char*> argv;
    for (const auto& a : spec.argv)
        argv.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execve's signature
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));  // NOLINT
    envp.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        return make_error(
            "ServiceException",
            std::string("cannot start the function's process: ") + std::strerror(errno),
            500
        );
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the emulator
        if (::getppid() != parent) ::_exit(127);
        const int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(pipe_fds[1], 1);
        ::dup2(pipe_fds[1], 2);
        if (::chdir(spec.cwd.c_str()) != 0) ::_exit(126);
        ::execve(argv[0], argv.data(), envp.data());
        const char msg[] = "scar-emulator: cannot execute the function's bootstrap\n";
        [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    ::setpgid(pid, pid);
    ::close(pipe_fds[1]);
    ::fcntl(pipe_fds[0], F_SETFL, ::fcntl(pipe_fds[0], F_GETFL) | O_NONBLOCK);
    auto p = std::make_unique<host_process>(pid, pipe_fds[0]);
    host_process* raw = p.get();
    raw->on_line_ = std::move(on_line);
    p->reader_ = std::thread([raw, on_exit = std::move(on_exit)] {
        for (;;) {
            pollfd pfd{raw->out_fd_, POLLIN, 0};
            if (::poll(&pfd, 1, -1) < 0 && errno != EINTR) break;
            if (!raw->read_available()) break;
        }
        {
            const std::lock_guard lock(raw->read_mutex_);
            raw->lines_.flush(raw->on_line_);
        }
        int status = 0;
        while (::waitpid(raw->pid_, &status, 0) < 0 && errno == EINTR) {
        }
        raw->exited_ = true;
        on_exit(status);
    });
    return p;
}

void host_process::kill() noexcept {
    if (!exited_) ::killpg(pid_, SIGKILL);
}

host_process::~host_process() {
    kill();
    if (reader_.joinable()) {
        if (reader_.get_id() == std::this_thread::get_id()) {
            reader_.detach();  // destroyed from its own exit handler
        } else {
            reader_.join();
        }
    }
    ::close(out_fd_);
}

}  // namespace scar::emulator::lambda
