#pragma once
/// @file
/// The local image store under `$SCAR_HOME/images` (default `~/.scar/images`):
///
///     blobs/sha256/<hex>      content-addressed blobs: layers, configs, manifests
///     rootfs/sha256/<hex>/    unpacked root filesystems, keyed by the manifest digest
///     refs/<registry>/<repository>/<tag>   the manifest digest a tag pointed to at pull
///     tmp/                    partial downloads and extractions (same filesystem)
///
/// Everything is written to `tmp/` first and renamed into place, so a blob or a rootfs
/// is either complete or absent, and two processes pulling the same image at once both
/// succeed (the second rename finds the first one's identical result and discards its
/// own).
///
/// Errors (`scar::error::code`): `LocalIOError` with the path and the system's reason.

#include <scar/core/error.hpp>
#include <scar/image/reference.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::image {

/// `$SCAR_HOME/images`, else `$HOME/.scar/images`.
[[nodiscard]] std::filesystem::path default_store_root();

/// The local store. Cheap to construct; directories are created on first write.
///
/// @par Thread safety
/// Any number of `store` objects, in any number of threads and processes, may share a
/// root.
class store {
public:
    explicit store(std::filesystem::path root = default_store_root());

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

    /// Where the blob `digest` ("sha256:…") lives, whether or not it is there.
    [[nodiscard]] std::filesystem::path blob_path(std::string_view digest) const;

    /// True when the blob is present (and has `size` bytes, when given).
    [[nodiscard]] bool has_blob(std::string_view digest, std::optional<std::uint64_t> size = std::nullopt)
        const;

    /// Reads a (small) blob into memory, verifying its digest. Errors: `BlobUnknown`
    /// when absent, `BlobDigestMismatch` when its content does not match.
    [[nodiscard]] result<std::string> read_blob(std::string_view digest) const;

    /// Stores `data` as a blob; returns its digest.
    [[nodiscard]] result<std::string> write_blob(std::string_view data) const;

    /// A fresh, unique path under `tmp/` (nothing is created), for a blob or a directory
    /// that `commit_blob` / `commit_rootfs` will move into place.
    [[nodiscard]] result<std::filesystem::path> temp_path(std::string_view hint) const;

    /// Moves the verified file `temp` into place as blob `digest`.
    [[nodiscard]] result<void> commit_blob(const std::filesystem::path& temp, std::string_view digest) const;

    /// Where the rootfs of manifest `digest` lives, whether or not it is there.
    [[nodiscard]] std::filesystem::path rootfs_path(std::string_view manifest_digest) const;

    /// Moves the completely extracted directory `temp` into place as the rootfs of
    /// `manifest_digest`. If another process got there first, `temp` is removed and its
    /// rootfs kept.
    [[nodiscard]] result<std::filesystem::path> commit_rootfs(
        const std::filesystem::path& temp,
        std::string_view manifest_digest
    ) const;

    /// Records that `ref`'s tag pointed to `manifest_digest`.
    [[nodiscard]] result<void> set_ref(const reference& ref, std::string_view manifest_digest) const;

    /// The digest recorded for `ref`'s tag, if any.
    [[nodiscard]] std::optional<std::string> get_ref(const reference& ref) const;

    /// Every recorded tag, as (reference, manifest digest).
    [[nodiscard]] std::vector<std::pair<reference, std::string>> list_refs() const;

    /// Forgets `ref`'s tag (blobs and rootfs stay until `prune`). Missing is not an error.
    [[nodiscard]] result<void> remove_ref(const reference& ref) const;

    /// What `prune` removed.
    struct prune_stats {
        std::size_t rootfs = 0;
        std::size_t blobs = 0;
        std::uint64_t bytes = 0;  ///< of blobs
    };
    /// Removes every rootfs and blob that no recorded tag needs (a tag keeps its manifest,
    /// the manifest's config and layers, and its rootfs), and leftovers in `tmp/`. Safe to
    /// run while nothing else uses the store.
    [[nodiscard]] result<prune_stats> prune() const;

    /// Removes a rootfs (the blobs stay). Missing is not an error.
    [[nodiscard]] result<void> remove_rootfs(std::string_view manifest_digest) const;

private:
    std::filesystem::path root_;
};

}  // namespace scar::image
