// scar-probe: the one program inside test containers (STYLE.md rule 26). Statically linked,
// so a rootfs needs nothing else. Each command prints a short, parseable answer.
//
//   true | exit N | echo ARGS… | echo-err ARGS… | env | cat [FILE] | pwd | id | hostname | pid
//   sleep-until-signal            waits for SIGTERM/SIGINT/SIGHUP/SIGUSR1, prints "signal N"
//   write PATH BYTES              creates PATH with BYTES bytes: "ok" or the errno name
//   write-output DIR N            writes N files DIR/out-<i> of 1 KiB: "ok" or the errno name
//   fill PATH                     writes 1 MiB chunks until an error: "<ERRNO> <bytes>"
//   memhog MIB                    allocates and touches MIB MiB, prints "done"
//   spawn-tree N                  N children and itself ignore SIGTERM; prints "ready", waits
//   orphan                        makes an orphan and checks that PID 1 reaps it
//   kill-self SIG                 sends itself SIG (exits 99 if it is ignored)
//   stat PATH | readlink PATH     "dir"/"file"/"other" or the target, else the errno name
//   ls DIR                        one entry per line, sorted
//   caps                          the CapEff and CapBnd lines of /proc/self/status
//   rlimit-nofile                 "<soft> <hard>"
//   no-new-privs                  "1" or "0"
//   write-stdout BYTES            BYTES bytes of 'x' on stdout
//
// The Lambda handlers (lambda-handler NAME) are not here yet; the Lambda module adds them.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT

namespace {

const char* errno_name(int e) {
    switch (e) {
        case ENOENT:
            return "ENOENT";
        case EACCES:
            return "EACCES";
        case EPERM:
            return "EPERM";
        case EROFS:
            return "EROFS";
        case ENOSPC:
            return "ENOSPC";
        case EDQUOT:
            return "EDQUOT";
        case ENOTDIR:
            return "ENOTDIR";
        case EEXIST:
            return "EEXIST";
        case EINVAL:
            return "EINVAL";
        case EXDEV:
            return "EXDEV";
        default:
            return "EOTHER";
    }
}

int fail(const char* what) {
    std::printf("%s\n", errno_name(errno));
    std::fprintf(stderr, "probe: %s: %s\n", what, std::strerror(errno));
    return 1;
}

bool write_all(int fd, const char* data, std::size_t len) {
    while (len > 0) {
        const auto n = ::write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

int write_file(const std::string& path, std::size_t bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(path.c_str());
    const std::string chunk(std::min<std::size_t>(bytes, 65536), 'x');
    while (bytes > 0) {
        const auto n = std::min(bytes, chunk.size());
        if (!write_all(fd, chunk.data(), n)) return fail(path.c_str());
        bytes -= n;
    }
    if (::close(fd) != 0) return fail(path.c_str());
    std::printf("ok\n");
    return 0;
}

int fill(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(path.c_str());
    const std::string chunk(1 << 20, 'x');
    unsigned long long total = 0;
    while (true) {
        const auto n = ::write(fd, chunk.data(), chunk.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (n == 0) break;
        total += static_cast<unsigned long long>(n);
    }
    std::printf("%s %llu\n", errno_name(errno), total);
    return 0;
}

void ignore_term() {
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    ::sigaction(SIGTERM, &sa, nullptr);
}

int spawn_tree(int n) {
    ignore_term();
    for (int i = 0; i < n; ++i) {
        const pid_t p = ::fork();
        if (p == 0) {
            // Grandchildren too, so that the tree is more than one level deep.
            if (::fork() == 0) {
                while (true) ::pause();
            }
            while (true) ::pause();
        }
        if (p < 0) return fail("fork");
    }
    std::printf("ready\n");
    std::fflush(stdout);
    while (true) ::pause();
}

int orphan() {
    int fds[2];
    if (::pipe(fds) != 0) return fail("pipe");
    const pid_t child = ::fork();
    if (child == 0) {
        const pid_t grandchild = ::fork();
        if (grandchild == 0) ::_exit(0);
        [[maybe_unused]] const auto n = ::write(fds[1], &grandchild, sizeof(grandchild));
        ::_exit(0);  // the grandchild is now an orphan: PID 1 must reap it
    }
    pid_t grandchild = 0;
    if (::read(fds[0], &grandchild, sizeof(grandchild)) != static_cast<ssize_t>(sizeof(grandchild)))
        return fail("read");
    ::waitpid(child, nullptr, 0);
    const std::string stat = "/proc/" + std::to_string(grandchild) + "/stat";
    // Wait (bounded) for the orphan's /proc entry to go: it stays while it is a zombie.
    for (int i = 0; i < 5000; ++i) {
        if (::access(stat.c_str(), F_OK) != 0) {
            std::printf("reaped\n");
            return 0;
        }
        ::usleep(1000);
    }
    std::printf("zombie\n");
    return 1;
}

volatile sig_atomic_t got_signal = 0;

void on_signal(int sig) {
    got_signal = sig;
}

int sleep_until_signal() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) ::sigaction(sig, &sa, nullptr);
    std::printf("waiting\n");
    std::fflush(stdout);
    while (got_signal == 0) ::pause();
    std::printf("signal %d\n", static_cast<int>(got_signal));
    return 0;
}

int print_status_lines(std::initializer_list<std::string_view> keys) {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return fail("/proc/self/status");
    char line[256];
    while (std::fgets(line, sizeof(line), f) != nullptr) {
        for (const auto k : keys) {
            if (std::string_view(line).substr(0, k.size()) == k) std::fputs(line, stdout);
        }
    }
    std::fclose(f);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: probe COMMAND [ARGS…] (see tests/probe/probe.cpp)\n");
        return 2;
    }
    const std::string_view cmd = argv[1];
    const auto arg = [&](int i) { return i < argc ? std::string(argv[i]) : std::string(); };
    if (cmd == "true") return 0;
    if (cmd == "exit") return std::atoi(arg(2).c_str());
    if (cmd == "echo" || cmd == "echo-err") {
        std::string line;
        for (int i = 2; i < argc; ++i) line += (i > 2 ? " " : "") + std::string(argv[i]);
        std::fprintf(cmd == "echo" ? stdout : stderr, "%s\n", line.c_str());
        return 0;
    }
    if (cmd == "env") {
        for (char** e = environ; *e != nullptr; ++e) std::printf("%s\n", *e);
        return 0;
    }
    if (cmd == "cat") {
        const int fd = argc > 2 ? ::open(argv[2], O_RDONLY | O_CLOEXEC) : 0;
        if (fd < 0) return fail(argv[2]);
        char buf[65536];
        ssize_t n = 0;
        while ((n = ::read(fd, buf, sizeof(buf))) > 0) write_all(1, buf, static_cast<std::size_t>(n));
        return 0;
    }
    if (cmd == "pwd") {
        char buf[4096];
        if (::getcwd(buf, sizeof(buf)) == nullptr) return fail("getcwd");
        std::printf("%s\n", buf);
        return 0;
    }
    if (cmd == "id") {
        std::printf("uid=%u gid=%u groups=%d\n", ::getuid(), ::getgid(), ::getgroups(0, nullptr));
        return 0;
    }
    if (cmd == "hostname") {
        char buf[256] = {};
        ::gethostname(buf, sizeof(buf) - 1);
        std::printf("%s\n", buf);
        return 0;
    }
    if (cmd == "pid") {
        std::printf("%d\n", ::getpid());
        return 0;
    }
    if (cmd == "sleep-until-signal") return sleep_until_signal();
    if (cmd == "write") return write_file(arg(2), std::strtoull(arg(3).c_str(), nullptr, 10));
    if (cmd == "write-output") {
        const int n = std::atoi(arg(3).c_str());
        const std::string kib(1024, 'x');
        for (int i = 0; i < n; ++i) {
            const std::string path = arg(2) + "/out-" + std::to_string(i);
            const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0 || !write_all(fd, kib.data(), kib.size())) return fail(path.c_str());
            ::close(fd);
        }
        std::printf("ok\n");
        return 0;
    }
    if (cmd == "fill") return fill(arg(2));
    if (cmd == "memhog") {
        const std::size_t mib = std::strtoull(arg(2).c_str(), nullptr, 10);
        std::vector<char*> blocks;
        for (std::size_t i = 0; i < mib; ++i) {
            auto* b = static_cast<char*>(std::malloc(1 << 20));
            if (b == nullptr) return fail("malloc");
            std::memset(b, 1, 1 << 20);
            blocks.push_back(b);
        }
        std::printf("done\n");
        return 0;
    }
    if (cmd == "spawn-tree") return spawn_tree(std::atoi(arg(2).c_str()));
    if (cmd == "orphan") return orphan();
    if (cmd == "kill-self") {
        // The disposition is left as inherited: an ignored signal returns 99.
        ::kill(::getpid(), std::atoi(arg(2).c_str()));
        return 99;
    }
    if (cmd == "stat") {
        struct stat st {};
        if (::lstat(arg(2).c_str(), &st) != 0) return fail(arg(2).c_str());
        std::printf("%s\n", S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other");
        return 0;
    }
    if (cmd == "readlink") {
        char buf[4096] = {};
        if (::readlink(arg(2).c_str(), buf, sizeof(buf) - 1) < 0) return fail(arg(2).c_str());
        std::printf("%s\n", buf);
        return 0;
    }
    if (cmd == "ls") {
        DIR* d = ::opendir(arg(2).c_str());
        if (d == nullptr) return fail(arg(2).c_str());
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(d)) {
            const std::string_view n = e->d_name;
            if (n != "." && n != "..") names.emplace_back(n);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) std::printf("%s\n", n.c_str());
        return 0;
    }
    if (cmd == "caps") return print_status_lines({"CapEff:", "CapBnd:", "CapPrm:"});
    if (cmd == "rlimit-nofile") {
        rlimit r{};
        ::getrlimit(RLIMIT_NOFILE, &r);
        std::printf(
            "%llu %llu\n",
            static_cast<unsigned long long>(r.rlim_cur),
            static_cast<unsigned long long>(r.rlim_max)
        );
        return 0;
    }
    if (cmd == "no-new-privs") {
        std::printf("%d\n", ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        return 0;
    }
    if (cmd == "write-stdout") {
        std::size_t n = std::strtoull(arg(2).c_str(), nullptr, 10);
        const std::string chunk(65536, 'x');
        while (n > 0) {
            const auto k = std::min(n, chunk.size());
            if (!write_all(1, chunk.data(), k)) return fail("write");
            n -= k;
        }
        return 0;
    }
    std::fprintf(stderr, "probe: unknown command '%s'\n", argv[1]);
    return 2;
}
