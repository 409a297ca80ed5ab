#pragma once
/// @file
/// Image manifests, manifest lists / OCI indexes, platform selection and the image
/// config, in both the Docker schema 2 and the OCI forms.
///
/// Parsing is strict about what matters for a pull (digests, sizes, media types) and
/// lenient about the rest (unknown fields are ignored, as the OCI spec asks). Docker
/// schema 1 manifests (signed, from 2016) are refused with a clear error.
///
/// Errors (`scar::error::code`): `ManifestInvalid` (not JSON, a required field missing or
/// of the wrong type, a bad digest), `ManifestUnsupported` (schema 1, unknown media type),
/// `NoMatchingPlatform` (an index without the wanted platform; the message lists the
/// platforms it has), `ConfigInvalid` (the image config is malformed).

#include <scar/core/error.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace scar::image {

/// Media types of the documents and blobs this module reads and writes.
namespace media_type {
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_foreign_layer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
/// The `Accept` header value asking a registry for any manifest or index we read.
inline constexpr std::string_view accept_all =
    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
}  // namespace media_type

/// OS, architecture and variant of an image (`linux/arm64/v8`).
struct platform {
    std::string os = "linux";
    std::string architecture = "amd64";
    std::string variant;     ///< "v7", "v8"; empty when irrelevant
    std::string os_version;  ///< Windows only

    /// "linux/amd64" or "linux/arm/v7".
    [[nodiscard]] std::string str() const;
    friend bool operator==(const platform&, const platform&) = default;
};

/// Parses `os/arch[/variant]` as `--platform` takes it; `arm64` alone means
/// `linux/arm64`. Errors: `InvalidParameterValue` naming the text.
[[nodiscard]] result<platform> parse_platform(std::string_view text);

/// The platform this program was built for (`linux/amd64` on x86-64).
[[nodiscard]] platform host_platform();

/// A reference to a blob or manifest: what it is, its digest and its exact size.
struct descriptor {
    std::string media_type;
    std::string digest;  ///< validated "sha256:…"
    std::uint64_t size = 0;
    std::vector<std::string> urls;                   ///< foreign layers only
    std::map<std::string, std::string> annotations;  ///< kept for round trips
    std::optional<image::platform> platform;         ///< entries of an index only
};

/// An image manifest (Docker schema 2 or OCI): one config and the layers, base first.
struct manifest {
    std::string media_type;  ///< docker_manifest or oci_manifest
    descriptor config;
    std::vector<descriptor> layers;
    std::map<std::string, std::string> annotations;
};

/// A manifest list (Docker) or image index (OCI): one manifest per platform.
struct index {
    std::string media_type;  ///< docker_manifest_list or oci_index
    std::vector<descriptor> manifests;
    std::map<std::string, std::string> annotations;
};

/// What a registry answers for a manifest reference: an image or an index.
using manifest_document = std::variant<manifest, index>;

/// Parses a manifest or index. `content_type` is the response's `Content-Type` (may be
/// empty; then the document's own `mediaType`, or its shape, decides).
[[nodiscard]] result<manifest_document> parse_manifest_document(
    std::string_view body,
    std::string_view content_type = {}
);

/// Picks the manifest for `wanted` from `idx`: same os and architecture, and the same
/// variant when `wanted` names one (`arm64` without a variant matches `v8`). Entries for
/// `unknown/unknown` (attestations) are never chosen. Errors: `NoMatchingPlatform`.
[[nodiscard]] result<descriptor> select_platform(const index& idx, const platform& wanted);

/// Serialises a manifest (compact JSON, fields in the conventional order). The bytes
/// are what gets pushed; their sha256 is the manifest digest.
[[nodiscard]] std::string serialize(const manifest& m);

/// Serialises an index.
[[nodiscard]] std::string serialize(const index& idx);

/// How a layer blob is compressed, from its media type.
enum class compression { none, gzip, zstd };

/// The compression of a layer media type. Errors: `ManifestUnsupported` for foreign or
/// non-distributable layers and unknown types.
[[nodiscard]] result<compression> layer_compression(std::string_view layer_media_type);

/// The part of an image config a container runtime needs (`config` in the JSON).
struct container_config {
    std::string user;                     ///< "uid[:gid]" or a name; empty = root
    std::vector<std::string> env;         ///< "NAME=value"
    std::vector<std::string> entrypoint;  ///< empty when unset
    std::vector<std::string> cmd;         ///< empty when unset
    std::string working_dir;              ///< empty = "/"
    std::map<std::string, std::string> labels;
    std::vector<std::string> exposed_ports;  ///< "8080/tcp"
    std::string stop_signal;
};

/// An image config (`application/vnd.oci.image.config.v1+json` or Docker's).
struct image_config {
    std::string architecture;
    std::string os;
    std::string variant;
    std::string created;  ///< RFC 3339, may be empty
    container_config config;
    std::vector<std::string> diff_ids;  ///< sha256 of each uncompressed layer, base first
};

/// Parses an image config. Errors: `ConfigInvalid` naming the field.
[[nodiscard]] result<image_config> parse_image_config(std::string_view body);

}  // namespace scar::image
