#pragma once
/// @file
/// Pulling an image into the local store and unpacking its rootfs.
///
/// `pull` resolves the reference (a tag or digest; an index is narrowed to one platform),
/// stores the manifest and config, downloads the layers it lacks in parallel (each
/// verified), then extracts them in order into a temporary directory that is renamed to
/// `rootfs/sha256/<manifest hex>` only when complete. A second pull of the same image
/// finds the rootfs and downloads nothing but the manifest.
///
/// Errors: those of `registry_client`, `extract_layer` (wrapped with the layer's digest
/// and position) and `store`; `ManifestInvalid` when an index points to another index.

#include <scar/core/error.hpp>
#include <scar/image/extract.hpp>
#include <scar/image/manifest.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/registry.hpp>
#include <scar/image/store.hpp>

#include <filesystem>
#include <string>

namespace scar::image {

/// Options of `pull`.
struct pull_options {
    registry_options registry;
    /// Which image of a multi-platform index to take.
    image::platform platform{};
    extract_options extract;
    /// Extract the layers into a rootfs (false: download and verify only).
    bool unpack = true;
};

/// A resolved image: its manifest (for one platform) and config.
struct resolved_image {
    std::string manifest_digest;
    std::string manifest_bytes;
    image::manifest manifest;
    std::string config_bytes;
    image_config config;
};

/// Resolves `ref` to one image manifest for `platform` and fetches its config; stores
/// both in `dest`. No layer is downloaded.
[[nodiscard]] result<resolved_image> resolve_image(
    registry_client& client,
    const reference& ref,
    const platform& wanted,
    const store& dest
);

/// What `pull` produced.
struct pulled_image {
    reference ref;
    resolved_image image;
    std::filesystem::path rootfs;  ///< empty when `unpack` was false
    bool rootfs_was_cached = false;
};

/// Pulls `ref` into `dest` (and unpacks it unless `opts.unpack` is false).
///
/// @par Thread safety
/// Any number of pulls, in threads or processes, may run at once on the same store,
/// even of the same image.
[[nodiscard]] result<pulled_image> pull(
    const reference& ref,
    const store& dest,
    const pull_options& opts = {}
);

}  // namespace scar::image
