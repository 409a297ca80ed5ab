#pragma once
/// @file
/// Safe extraction of image layers (tar, tar+gzip, tar+zstd) into a rootfs directory,
/// with OCI whiteouts applied.
///
/// A layer is untrusted input. Whatever it holds, nothing outside `rootfs` is created,
/// modified or removed:
///   - entry names and hardlink targets with a `..` component, or absolute, are refused;
///   - every path is resolved through one door (`openat2` with `RESOLVE_NO_MAGICLINKS`
///     and `RESOLVE_BENEATH` or `RESOLVE_IN_ROOT`, else an `O_NOFOLLOW` walk), so a
///     symlink planted by this or an earlier layer is never followed out of the rootfs;
///   - files are created with `O_EXCL|O_NOFOLLOW` after whatever was at their path is
///     removed, so a write never goes through a symlink;
///   - device nodes are created only when allowed (by default: when running as root),
///     otherwise skipped and counted.
/// A refused entry fails the whole layer with an error naming the entry; the caller
/// (the pull) then discards the partly extracted directory.
///
/// Errors (`scar::error::code`): `LayerEscape` (an entry or link would reach outside the
/// rootfs), `LayerInvalid` (not a tar, truncated or corrupt compression, a name longer
/// than 4096 bytes or a component longer than 255), `LocalIOError` (the disk said no:
/// the message has the path and errno text).

#include <scar/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>

namespace scar::image {

/// How symlinks that lead out of the rootfs are treated when a later entry goes
/// through them (`a -> /` then `a/etc/x`).
enum class symlink_policy {
    /// Fail the layer with `LayerEscape` (the default: such layers are hostile or broken).
    reject,
    /// Resolve them as the container would see them, inside the rootfs (chroot
    /// semantics: `a/etc/x` lands in `<rootfs>/etc/x`). For odd but legitimate images
    /// that write through absolute symlinks such as `/var/run -> /run`.
    contain,
};

/// Options of `extract_layer`.
struct extract_options {
    symlink_policy symlinks = symlink_policy::reject;
    /// Apply the uid/gid of entries. Default: when running as root (otherwise the files
    /// belong to the caller and a user namespace maps them).
    std::optional<bool> preserve_ownership;
    /// Create character and block devices. Default: when running as root. When false
    /// they are skipped and counted in `extract_stats::skipped_devices`.
    std::optional<bool> create_devices;
    /// Use openat2(2) when the kernel has it; false forces the portable walk (tests).
    bool allow_openat2 = true;
};

/// What an extraction did.
struct extract_stats {
    std::uint64_t entries = 0;
    std::uint64_t files = 0;
    std::uint64_t directories = 0;
    std::uint64_t symlinks = 0;
    std::uint64_t hardlinks = 0;
    std::uint64_t whiteouts = 0;  ///< `.wh.` entries and opaque markers applied
    std::uint64_t skipped_devices = 0;
    std::uint64_t bytes = 0;  ///< regular file content written
};

/// Extracts the layer blob at `layer` (compression detected from its bytes) over the
/// directory `rootfs`, which must exist and holds the layers below it already.
///
/// @par Thread safety
/// Safe to call concurrently on different rootfs directories; not on the same one.
[[nodiscard]] result<extract_stats> extract_layer(
    const std::filesystem::path& layer,
    const std::filesystem::path& rootfs,
    const extract_options& opts = {}
);

}  // namespace scar::image
