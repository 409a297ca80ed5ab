#pragma once
/// @file
/// AWS credentials, region and endpoints, resolved the way the aws CLI does it.
///
/// Credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`),
/// else the profile (`--profile`, else `AWS_PROFILE`, else `default`) in the shared
/// credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), else the
/// same profile in the config file (`AWS_CONFIG_FILE`, else `~/.aws/config`, section
/// `[profile NAME]`, or `[default]`).
///
/// Region: `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `region` of the
/// profile in the config file.
///
/// Endpoints: `AWS_ENDPOINT_URL_<SERVICE>` (service id upper-cased, spaces → `_`: `S3`,
/// `LAMBDA`, `API_GATEWAY`, `CLOUDWATCH_LOGS`, `ECR`, `BATCH`), else `AWS_ENDPOINT_URL`,
/// else `endpoint_url` of the profile, else AWS's public endpoint for the region.
///
/// Errors: `MissingCredentials` and `MissingRegion` name every place that was looked at;
/// `ConfigInvalid` names the file and line of a malformed entry.

#include <scar/core/error.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace scar::aws {

/// An access key pair, with the session token of temporary credentials.
struct credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  ///< empty for long-term keys
    /// Where they came from, for messages: "environment", "~/.aws/credentials [dev]".
    std::string source;
};

/// Where configuration is read from. Defaults read the process environment and the home
/// directory; tests replace `getenv` and the home directory.
struct config_sources {
    /// Returns the value of an environment variable, if set (and non-empty).
    std::function<std::optional<std::string>(std::string_view)> getenv;
    /// Home directory used for `~/.aws/…` (default: `$HOME`).
    std::optional<std::filesystem::path> home;
    /// Explicit `--profile` / `--region` from the command line, which win over everything.
    std::optional<std::string> profile;
    std::optional<std::string> region;

    /// Sources that read the real process environment.
    [[nodiscard]] static config_sources from_process();
    /// Sources that read only `env` (and the files under `home`, if given).
    [[nodiscard]] static config_sources from_map(
        std::map<std::string, std::string> env,
        std::optional<std::filesystem::path> home = std::nullopt
    );
};

[[nodiscard]] result<credentials> load_credentials(const config_sources& src);
[[nodiscard]] result<std::string> load_region(const config_sources& src);

/// The endpoint URL for a service, without trailing slash: e.g. "http://127.0.0.1:4566"
/// or "https://lambda.eu-west-1.amazonaws.com". `service_id` is AWS's service id as used
/// in `AWS_ENDPOINT_URL_<SERVICE>` ("S3", "Lambda", "API Gateway", "CloudWatch Logs").
[[nodiscard]] result<std::string> endpoint_url(
    const config_sources& src,
    std::string_view service_id,
    std::string_view region
);

/// True when an endpoint was configured (environment or profile) rather than defaulted to
/// AWS's public one: such endpoints get path-style S3 addressing by default.
[[nodiscard]] bool has_custom_endpoint(const config_sources& src, std::string_view service_id);

/// Parsed INI file as the aws CLI reads it: section → key → value. Nested keys
/// (`s3 =\n  addressing_style = path`) are flattened to "s3.addressing_style".
using ini_file = std::map<std::string, std::map<std::string, std::string>>;

/// Reads an INI file. A missing file is an empty result, not an error.
[[nodiscard]] result<ini_file> read_ini(const std::filesystem::path& path);

}  // namespace scar::aws
