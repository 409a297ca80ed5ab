#pragma once
// The one door through which extraction reaches anything inside a rootfs: a path is
// resolved relative to a root directory fd, symlinks included, and can never name
// anything outside it. openat2(2) does it in the kernel; where that is missing (Linux
// < 5.6, or seccomp-denied) a component-by-component walk with O_NOFOLLOW does the same.

#include <scar/core/unique_fd.hpp>

#include <string_view>
#include <utility>

#include <sys/types.h>
#include <unistd.h>

namespace scar::image::detail {

using scar::unique_fd;

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
