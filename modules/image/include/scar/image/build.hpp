#pragma once
/// @file
/// Building images without a daemon: a base image (or nothing) plus new layers made from
/// local directories or tar files, plus config changes, pushed to a registry. This is how
/// a function's image gets `scar-supervisor` added, and how example images are published
/// to a local registry offline.
///
/// Layers are written reproducibly: entries sorted by name, owned by root (unless asked
/// otherwise), mtimes clamped to `layer_options::mtime` when given (`SOURCE_DATE_EPOCH`
/// by convention). The manifest keeps the base's family (Docker schema 2 or OCI) when
/// the new layers are gzip; zstd layers make it OCI.
///
/// Errors: `LocalIOError` (a source cannot be read), `InvalidParameterValue` (a source
/// that is neither a directory nor a tar), and those of `pull`/`registry_client`.

#include <scar/core/error.hpp>
#include <scar/image/manifest.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/registry.hpp>
#include <scar/image/store.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace scar::image {

/// How `create_layer` writes a layer.
struct layer_options {
    image::compression compression = image::compression::gzip;
    /// Where the source goes inside the image, e.g. "opt/scar/bin" (directories only);
    /// empty = the image root.
    std::string prefix;
    /// Every entry gets this mtime (seconds since the epoch) when set.
    std::optional<std::int64_t> mtime;
    /// Entries owned by 0:0 (true) or by the source files' owners (false).
    bool root_owned = true;
};

/// A layer blob in the store.
struct layer_blob {
    std::string media_type;  ///< OCI layer type for its compression
    std::string digest;      ///< of the compressed blob
    std::string diff_id;     ///< of the uncompressed tar
    std::uint64_t size = 0;
};

/// Makes a layer from `source`: a directory (its content becomes the layer), or a tar file
/// (plain or compressed; re-compressed as asked). The blob is stored in `dest`.
[[nodiscard]] result<layer_blob> create_layer(
    const std::filesystem::path& source,
    const store& dest,
    const layer_options& opts = {}
);

/// Changes to the base image's config; unset fields keep the base's values.
struct config_changes {
    std::optional<std::vector<std::string>>
        entrypoint;  ///< setting it clears an inherited Cmd (as Docker does)
    std::optional<std::vector<std::string>> cmd;
    std::vector<std::string> env;  ///< "NAME=value", replacing a base variable of that name
    std::optional<std::string> working_dir;
    std::optional<std::string> user;
    std::map<std::string, std::string> labels;
};

/// What to build.
struct build_request {
    std::optional<reference> base;              ///< none: from scratch
    std::vector<std::filesystem::path> layers;  ///< directories or tar files, one layer each
    layer_options layer;
    config_changes changes;
    reference target;
    image::platform platform{};  ///< of the base to use, and of a scratch image
};

/// The image that was pushed.
struct built_image {
    std::string manifest_digest;
    image::manifest manifest;
    std::string config_digest;
};

/// Builds the image and pushes it to `target` (blobs the registry has are skipped; base
/// layers are mounted across repositories of the same registry when it allows).
[[nodiscard]] result<built_image> build_image(
    const build_request& req,
    const store& dest,
    const registry_options& opts = {}
);

}  // namespace scar::image
