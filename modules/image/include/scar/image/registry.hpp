#pragma once
/// @file
/// A client of the OCI distribution (Docker registry v2) API: manifests, blobs (parallel,
/// verified downloads into the store; monolithic, chunked and cross-repository-mounted
/// uploads), with the registry's authentication challenge answered on the way.
///
/// Transport: HTTPS, except for loopback registries (`localhost`, `127.*`, `[::1]`) and
/// those listed in `registry_options::insecure_registries`, which are spoken to over plain
/// HTTP. Retries (connection errors, 429, 5xx) with backoff come from `scar::http`; a
/// download that breaks mid-way is started again from scratch (up to 3 rounds).
/// Redirects (blob storage on S3 or a CDN) are followed without sending the registry's
/// credentials to the other host.
///
/// Errors (`scar::error::code`), each naming the registry, repository and object:
///   - `Unauthorized` (401 after authenticating): no or wrong credentials; the message
///     says where credentials are read from.
///   - `Denied` (403), `ManifestUnknown` / `BlobUnknown` / `NameUnknown` (404), with the
///     registry's own error text when it sent one.
///   - `BlobDigestMismatch`, `BlobSizeMismatch`: the bytes received are not those the
///     manifest promised (a corrupt or malicious registry); nothing is stored.
///   - `RegistryError` for other statuses; `NetworkError` / `RequestTimeout` from HTTP.

#include <scar/core/error.hpp>
#include <scar/core/http.hpp>
#include <scar/image/auth.hpp>
#include <scar/image/manifest.hpp>
#include <scar/image/store.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scar::image {

/// Bytes moved so far, for progress display.
struct transfer_progress {
    std::string digest;       ///< the blob concerned
    std::uint64_t done = 0;   ///< bytes received or sent
    std::uint64_t total = 0;  ///< its size
};

/// Options of `registry_client` (and of `pull`, `push`, `build`).
struct registry_options {
    auth_options auth;
    /// Registries (host[:port]) to reach over plain HTTP although they are not loopback.
    std::vector<std::string> insecure_registries;
    /// Timeouts and retries of each HTTP request.
    http::options http;
    /// Blobs downloaded at once.
    std::size_t parallel_downloads = 4;
    /// Upload blobs larger than this in PATCH chunks of this size; 0 = one PUT.
    std::uint64_t chunk_size = 0;
    /// Called (from the calling thread) as blob bytes arrive or leave.
    std::function<void(const transfer_progress&)> on_progress;
};

/// A manifest or index as the registry sent it.
struct fetched_manifest {
    std::string body;        ///< the exact bytes: their sha256 is `digest`
    std::string media_type;  ///< from Content-Type (or the document)
    std::string digest;      ///< verified "sha256:…"
};

/// A client for one registry.
///
/// @par Thread safety
/// One object per thread; `download_blobs` runs its transfers in parallel itself.
class registry_client {
public:
    /// @param registry  a reference's registry: `docker.io`, `ghcr.io`, `127.0.0.1:5000`
    explicit registry_client(std::string registry, registry_options opts = {});
    ~registry_client();
    registry_client(registry_client&&) noexcept;
    registry_client& operator=(registry_client&&) noexcept;
    registry_client(const registry_client&) = delete;
    registry_client& operator=(const registry_client&) = delete;

    /// "https://ghcr.io" or "http://127.0.0.1:5000".
    [[nodiscard]] const std::string& base_url() const noexcept;

    /// Fetches a manifest or index by tag or digest. When `ref` is a digest the body is
    /// verified against it. Errors: see the file comment.
    [[nodiscard]] result<fetched_manifest> get_manifest(std::string_view repository, std::string_view ref);

    /// Fetches a small blob (a config) into memory, verified against `digest` and `size`.
    [[nodiscard]] result<std::string> get_blob(std::string_view repository, const descriptor& blob);

    /// Downloads every blob of `blobs` not yet in `dest`, `parallel_downloads` at a time,
    /// each verified (digest and size) while it streams to a temp file and then renamed
    /// into place. On error some blobs may be stored (all verified), none partly.
    [[nodiscard]] result<void> download_blobs(
        std::string_view repository,
        std::span<const descriptor> blobs,
        const store& dest
    );

    /// The size of blob `digest` in `repository`, or nullopt when the registry lacks it.
    [[nodiscard]] result<std::optional<std::uint64_t>> blob_size(
        std::string_view repository,
        std::string_view digest
    );

    /// Mounts blob `digest` into `repository` from `from` (another repository of this
    /// registry) without moving its bytes. Returns true when the blob is now present
    /// (mounted, or there already), false when the registry declined (then upload it).
    [[nodiscard]] result<bool> mount_blob(
        std::string_view repository,
        std::string_view digest,
        std::string_view from
    );

    /// Makes blob `digest` (the file `path`, `size` bytes) present in `repository`:
    /// nothing is sent when the registry has it (HEAD), else one PUT, or PATCH chunks of
    /// `registry_options::chunk_size` and a closing PUT. Returns true when bytes were sent.
    [[nodiscard]] result<bool> upload_blob(
        std::string_view repository,
        std::string_view digest,
        const std::filesystem::path& path,
        std::uint64_t size
    );

    /// Uploads a manifest or index under `ref` (a tag, or its digest); returns the digest.
    [[nodiscard]] result<std::string> put_manifest(
        std::string_view repository,
        std::string_view ref,
        std::string_view body,
        std::string_view media_type
    );

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace scar::image
