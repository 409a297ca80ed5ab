#pragma once
/// @file
/// Registry credentials: where they come from and how the registry's challenge is read.
///
/// A registry answers an unauthenticated request with `401` and a `WWW-Authenticate`
/// challenge: `Basic realm="…"` (send the user and password with every request) or
/// `Bearer realm="https://auth…",service="…",scope="repository:x:pull"` (fetch a token
/// from the realm, with the user and password if there are any, anonymously otherwise).
/// `registry_client` runs that dance; this header holds the pieces it is made of.
///
/// Credentials are looked up, first hit wins: `auth_options::credentials`, then the ECR
/// hook for ECR registries, then `auths` in Docker's `config.json`
/// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`). Credential helpers
/// (`credsStore`, `credHelpers`) are not run.

#include <scar/core/error.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::image {

/// A user name and password, or an identity (refresh) token from `docker login`.
struct credentials {
    std::string username;
    std::string password;
    std::string identity_token;  ///< OAuth2 refresh token; used instead of the password
    friend bool operator==(const credentials&, const credentials&) = default;
};

/// One `WWW-Authenticate` challenge: its scheme ("basic", "bearer", lowercase) and its
/// parameters (`realm`, `service`, `scope`, `error`).
struct challenge {
    std::string scheme;
    std::map<std::string, std::string> params;
};

/// Parses a `WWW-Authenticate` value (quoted strings with escapes, unquoted tokens).
/// nullopt when it is not a challenge.
[[nodiscard]] std::optional<challenge> parse_challenge(std::string_view header);

/// The path of Docker's config file: `$DOCKER_CONFIG/config.json`, else
/// `$HOME/.docker/config.json`.
[[nodiscard]] std::filesystem::path docker_config_path();

/// Credentials for `registry` (a reference's registry: `docker.io`, `host:5000`) from the
/// `auths` of a Docker config file. Keys match with or without a scheme and path
/// (`https://index.docker.io/v1/` is `docker.io`). A missing file is no credentials.
///
/// Errors: `ConfigInvalid` when the file is not JSON or an `auth` value is not
/// base64("user:password"); the message names the file.
[[nodiscard]] result<std::optional<credentials>> docker_config_credentials(
    std::string_view registry,
    const std::filesystem::path& config_file
);

/// Returns the base64 `authorizationToken` of ECR's `GetAuthorizationToken` for a
/// registry host. Provided by the caller (the lambda/ECR client, or the emulator's ECR),
/// so this module does not depend on AWS signing.
using ecr_token_provider = std::function<result<std::string>(std::string_view registry)>;

/// Decodes an ECR authorization token (base64 of `AWS:<password>`).
/// Errors: `InvalidToken`.
[[nodiscard]] result<credentials> ecr_credentials(std::string_view authorization_token);

/// True for `<account>.dkr.ecr.<region>.amazonaws.com[.cn]` (and the `-fips` forms).
[[nodiscard]] bool is_ecr_registry(std::string_view host) noexcept;

/// Where credentials come from.
struct auth_options {
    /// Used for every registry when set (`--username/--password`).
    std::optional<credentials> explicit_credentials;
    /// Consulted for ECR hosts and for every host in `ecr_registries`.
    ecr_token_provider ecr_token;
    /// More hosts to treat as ECR (the emulator's registry on loopback).
    std::vector<std::string> ecr_registries;
    /// Docker config file to read; empty = `docker_config_path()`; set
    /// `use_docker_config = false` to read none.
    std::filesystem::path docker_config;
    bool use_docker_config = true;
};

/// Resolves the credentials for `registry` per `opts` (nullopt: anonymous).
/// Errors: those of the ECR hook (wrapped) and of `docker_config_credentials`.
[[nodiscard]] result<std::optional<credentials>> resolve_credentials(
    std::string_view registry,
    const auth_options& opts
);

}  // namespace scar::image
