#include "safe_open.hpp"

#include <atomic>
#include <cerrno>
#include <deque>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

namespace scar::image::detail {
namespace {

std::atomic<int> openat2_state{-1};  // -1 unknown, 0 missing, 1 present

int retry_eintr_open(int dir, const char* name, int flags, mode_t mode) noexcept {
    int fd = -1;
    do {
        fd = ::openat(dir, name, flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

void split(std::string_view path, std::deque<std::string>& out) {
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto c = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
        if (!c.empty() && c != ".") out.emplace_back(c);
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
}

/// The portable walk: every component opened O_NOFOLLOW from its parent's fd, symlinks
/// read and spliced into the remaining path, `..` popped from our own stack of fds.
int walk(int root_fd, std::string_view path, int flags, mode_t mode, resolve_mode how) {
    std::deque<std::string> todo;
    split(path, todo);
    std::vector<unique_fd> stack;
    const int root = retry_eintr_open(root_fd, ".", O_PATH | O_DIRECTORY, 0);
    if (root < 0) return root;
    stack.emplace_back(root);
    int links = 0;
    if (todo.empty()) return retry_eintr_open(root_fd, ".", flags, mode);
    while (!todo.empty()) {
        std::string c = std::move(todo.front());
        todo.pop_front();
        const int cur = stack.back().get();
        if (c == "..") {
            if (stack.size() == 1) {
                if (how == resolve_mode::beneath) return -EXDEV;
            } else {
                stack.pop_back();
            }
            if (todo.empty()) return retry_eintr_open(stack.back().get(), ".", flags, mode);
            continue;
        }
        const bool last = todo.empty();
        struct stat st {};
        const bool exists = ::fstatat(cur, c.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (!exists && errno != ENOENT) return -errno;
        if (exists && S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW) != 0)) {
            if (++links > 40) return -ELOOP;
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            const auto n = ::readlinkat(cur, c.c_str(), target.data(), target.size());
            if (n < 0) return -errno;
            target.resize(static_cast<std::size_t>(n));
            if (!target.empty() && target.front() == '/') {
                if (how == resolve_mode::beneath) return -EXDEV;
                stack.resize(1);
            }
            std::deque<std::string> spliced;
            split(target, spliced);
            if (spliced.empty() && last) return retry_eintr_open(stack.back().get(), ".", flags, mode);
            todo.insert(todo.begin(), spliced.begin(), spliced.end());
            continue;
        }
        if (last) return retry_eintr_open(cur, c.c_str(), flags | O_NOFOLLOW, mode);
        if (!exists) return -ENOENT;
        if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
        const int next = retry_eintr_open(cur, c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
        if (next < 0) return next;
        stack.emplace_back(next);
    }
    return -EINVAL;  // unreachable: the loop returns on the last component
}

}  // namespace

bool have_openat2() noexcept {
    int s = openat2_state.load(std::memory_order_relaxed);
    if (s < 0) {
        open_how how{};
        how.flags = O_PATH | O_CLOEXEC;
        const auto fd = ::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
        s = fd >= 0 ? 1 : 0;
        if (fd >= 0) ::close(static_cast<int>(fd));
        openat2_state.store(s, std::memory_order_relaxed);
    }
    return s == 1;
}

int safe_openat(
    int root_fd,
    std::string_view path,
    int flags,
    mode_t mode,
    resolve_mode how,
    bool allow_openat2
) noexcept {
    try {
        while (!path.empty() && path.front() == '/') path.remove_prefix(1);
        if (allow_openat2 && have_openat2()) {
            const std::string p = path.empty() ? std::string(".") : std::string(path);
            open_how h{};
            h.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
            h.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
            h.resolve =
                RESOLVE_NO_MAGICLINKS | (how == resolve_mode::beneath ? RESOLVE_BENEATH : RESOLVE_IN_ROOT);
            for (;;) {
                const auto fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &h, sizeof h);
                if (fd >= 0) return static_cast<int>(fd);
                // EAGAIN: a concurrent rename raced the lookup; ENOSYS/EPERM: seccomp said no.
                if (errno == EINTR || errno == EAGAIN) continue;
                if (errno == ENOSYS || errno == EPERM) break;
                return -errno;
            }
        }
        return walk(root_fd, path, flags, mode, how);
    } catch (...) {
        return -ENOMEM;
    }
}

}  // namespace scar::image::detail
