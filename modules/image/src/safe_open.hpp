#pragma once
// The one door through which extraction reaches anything inside a rootfs: a path is
// resolved relative to a root directory fd, symlinks included, and can never name
// anything outside it. openat2(2) does it in the kernel; where that is missing (Linux
// < 5.6, or seccomp-denied) a component-by-component walk with O_NOFOLLOW does the same.

#include <string_view>
#include <utility>

#include <sys/types.h>
#include <unistd.h>

namespace scar::image::detail {

/// Owns a file descriptor.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    ~unique_fd() { reset(); }
    unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

/// How symlinks met during resolution are treated.
enum class resolve_mode {
    /// A symlink (or `..`) that would leave the root fails with EXDEV: escapes are errors.
    beneath,
    /// Absolute symlinks and `..` are resolved as if the root were `/` (chroot semantics).
    in_root,
};

/// Opens `path` (relative to `root_fd`; a leading '/' is relative too) with `flags` and
/// `mode` as openat(2) takes them; magic links (/proc/self/fd/…) are never followed.
/// Returns the fd, or -errno (EXDEV for an escape in `beneath` mode, ELOOP for more than
/// 40 symlinks).
[[nodiscard]] int safe_openat(
    int root_fd,
    std::string_view path,
    int flags,
    mode_t mode,
    resolve_mode how,
    bool allow_openat2 = true
) noexcept;

/// Whether the running kernel offers openat2 (checked once).
[[nodiscard]] bool have_openat2() noexcept;

}  // namespace scar::image::detail
