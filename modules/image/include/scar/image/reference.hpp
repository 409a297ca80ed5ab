#pragma once
/// @file
/// Image references as Docker spells and normalises them, and content digests.
///
/// `ubuntu` is `docker.io/library/ubuntu:latest`; `localhost:5000/app:v1` names the
/// registry `localhost:5000`; `app@sha256:…` pins the content; `app:v1@sha256:…` keeps
/// the tag for display while the digest decides what is pulled. The grammar is Docker's
/// (github.com/distribution/reference): lowercase path components separated by `.`, `_`,
/// `__` or runs of `-`; a first component is a registry host when it holds a `.` or a
/// `:`, is `localhost`, or has an uppercase letter.
///
/// Errors (`scar::error::code`): `InvalidReference`, with a message that quotes the
/// reference and names the part that is wrong.

#include <scar/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace scar::image {

/// The registry Docker uses when a reference names none.
inline constexpr std::string_view default_registry = "docker.io";

/// A content digest `algorithm:hex`, e.g. `sha256:e3b0c442…`.
///
/// Only `sha256` (64 lowercase hex digits) and `sha512` (128) are accepted; content is
/// verified with sha256 only (what every registry uses), so a `sha512` digest parses but
/// cannot be verified (`UnsupportedDigest`).
struct digest {
    std::string algorithm;  ///< "sha256"
    std::string hex;        ///< lowercase hex

    /// "sha256:…"
    [[nodiscard]] std::string str() const { return algorithm + ":" + hex; }
    [[nodiscard]] bool empty() const noexcept { return hex.empty(); }
    friend bool operator==(const digest&, const digest&) = default;
};

/// Parses and validates a digest. Errors: `InvalidDigest`.
[[nodiscard]] result<digest> parse_digest(std::string_view text);

/// The sha256 digest of `data`.
[[nodiscard]] digest sha256_digest_of(std::string_view data);

/// A normalised image reference.
struct reference {
    std::string registry;    ///< "docker.io", "localhost:5000", "[::1]:5000"
    std::string repository;  ///< "library/ubuntu", "team/app"
    std::string tag;         ///< "latest" when neither tag nor digest was given; may be empty
    std::string digest;      ///< "sha256:…" or empty

    /// The full normalised form: `docker.io/library/ubuntu:latest`, `host/repo@sha256:…`,
    /// `host/repo:tag@sha256:…`.
    [[nodiscard]] std::string str() const;

    /// Docker's short form: `ubuntu:latest` for `docker.io/library/ubuntu:latest`.
    [[nodiscard]] std::string familiar() const;

    /// What to ask the registry for: the digest when there is one, else the tag.
    [[nodiscard]] const std::string& manifest_reference() const noexcept {
        return digest.empty() ? tag : digest;
    }

    /// The host to connect to: `registry-1.docker.io` for `docker.io`, else `registry`.
    [[nodiscard]] std::string endpoint_host() const;

    friend bool operator==(const reference&, const reference&) = default;
};

/// Parses and normalises an image reference the way `docker pull` does.
///
/// @param text  e.g. `busybox`, `ghcr.io/org/app:1.2`, `127.0.0.1:5000/x@sha256:…`
/// @returns the normalised reference; the tag defaults to `latest` only when no digest
///          is given.
///
/// Errors: `InvalidReference` (empty, too long, uppercase repository, bad tag, bad host,
/// bad digest), e.g. "invalid image reference 'Ubuntu': the repository name must be
/// lowercase (use 'ubuntu')".
[[nodiscard]] result<reference> parse_reference(std::string_view text);

/// True when `host` (with or without `:port`) is a loopback address or name:
/// `localhost`, `127.x.y.z`, `[::1]`. Such registries may be reached over plain HTTP.
[[nodiscard]] bool is_loopback_host(std::string_view host) noexcept;

}  // namespace scar::image
