#pragma once
/// @file
/// The typed model of scar's TOML function definitions (SCAR's FDL, rebuilt in TOML).
///
/// One file may define several functions (`[[function]]` tables) and the storage providers
/// they use (`[storage.<type>.<id>]`). `conf/defaults.toml` (compiled in) gives every
/// default, the user file (`~/.config/scar/config.toml`) overrides it, the definition file
/// overrides both, and CLI flags override everything (`overrides`). Tables merge key by
/// key; arrays are replaced, not concatenated as SCAR did. A definition file's
/// `[defaults.function]` and `[deployment]` apply to its own functions only. The reference
/// of every key is `docs/configuration.md` (checked against `known_keys()` by a test).
///
/// @code
/// auto defs = scar::config::load({.files = {"conf/examples/features/scripts.toml"}});
/// if (!defs) { std::cerr << defs.error().message; return 1; }   // file:line:col: key: what
/// for (const auto& fn : defs->functions) deploy(fn);
/// @endcode
///
/// The supervisor gets the same model: `to_toml(fn, defs)` writes the deployed
/// configuration of one function, `parse` reads it back inside the container.
///
/// @par Thread safety
/// Every function may be called from several threads (the built-in defaults are parsed
/// once, on first use); `load` reads the environment, so do not `setenv` meanwhile.

#include <scar/core/error.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::config {

/// Where a function runs its user code (SCAR's `execution_mode`).
enum class execution_mode {
    lambda,        ///< in Lambda
    batch,         ///< Lambda only dispatches; the script runs as a Batch job
    lambda_batch,  ///< in Lambda; delegated to Batch when it would time out
};

/// "lambda", "batch", "lambda-batch".
[[nodiscard]] std::string_view to_string(execution_mode m) noexcept;

/// Where `scar` deploys: the local emulator (default) or real AWS.
enum class target_kind { local, aws };

/// "local", "aws".
[[nodiscard]] std::string_view to_string(target_kind t) noexcept;

/// The instances of a function's Batch compute environment.
enum class batch_compute {
    ec2,   ///< on-demand EC2 instances
    spot,  ///< EC2 Spot instances
};

/// "ec2", "spot".
[[nodiscard]] std::string_view to_string(batch_compute c) noexcept;

/// A storage provider the supervisor (and, for `s3.default`, the CLI) talks to.
///
/// `type.id` names it from a function's `input`/`output` entries: `s3` means `s3.default`,
/// whose credentials are the function's own (the Lambda role on AWS, the emulator's
/// credential locally). Other ids carry their own credentials and endpoint.
struct storage_provider {
    std::string type = "s3";  ///< "s3" or "minio" (an S3-compatible endpoint)
    std::string id = "default";
    std::string endpoint{};  ///< empty: AWS's (or the emulator's) S3 endpoint
    std::string region{};    ///< empty: the function's region
    std::string access_key{};
    std::string secret_key{};
    std::string session_token{};
    bool verify_tls = true;
    bool path_style = false;  ///< true for minio and other endpoints without virtual hosts

    /// "type.id", the name used in `input`/`output` entries.
    [[nodiscard]] std::string name() const { return type + "." + id; }

    bool operator==(const storage_provider&) const = default;
};

/// An input or output location: `bucket[/folder/sub]` on a provider, with the output
/// filters on the file names (relative to `$TMP_OUTPUT_DIR`).
struct storage_path {
    std::string provider = "s3.default";  ///< normalised "type.id"
    std::string bucket{};
    std::string folder{};                 ///< no leading or trailing '/'; may be empty
    std::vector<std::string> prefixes{};  ///< output only: a file matches when it starts with one
    std::vector<std::string> suffixes{};  ///< output only: … and ends with one

    /// "bucket/folder" (or "bucket").
    [[nodiscard]] std::string path() const { return folder.empty() ? bucket : bucket + "/" + folder; }

    bool operator==(const storage_path&) const = default;
};

/// API Gateway exposure of a function (`[function.api_gateway]`).
struct api_gateway {
    std::string name{};  ///< REST API name; present ⇒ an API is created
    std::string stage = "scar";
    std::string path = "launch";
    std::vector<std::string> binary_media_types = {"*/*"};

    bool operator==(const api_gateway&) const = default;
};

/// Batch resources (`[function.batch]`), used when `mode` is batch or lambda-batch.
struct batch {
    int vcpus = 1;
    int memory_mb = 1024;
    bool gpu = false;
    int max_vcpus = 2;  ///< of the compute environment
    int attempts = 1;   ///< retry strategy
    int timeout_s = 0;  ///< attemptDurationSeconds; 0 = none
    std::map<std::string, std::string> environment{};
    batch_compute compute = batch_compute::ec2;
    std::vector<std::string> instance_types = {"optimal"};
    std::vector<std::string> subnets{};          ///< required on AWS: `subnet-…` ids
    std::vector<std::string> security_groups{};  ///< required on AWS: `sg-…` ids

    bool operator==(const batch&) const = default;
};

/// One function, every key resolved (defaults applied, paths absolute).
struct function_definition {
    std::string name{};   ///< also the ECR repository, the log group `/aws/lambda/<name>`, …
    std::string image{};  ///< the user's image reference
    std::string description = "Created by scar";
    int memory_mb = 512;
    int timeout_s = 300;
    int timeout_threshold_s = 10;  ///< kept back from the deadline to upload outputs
    int ephemeral_storage_mb = 512;
    execution_mode mode = execution_mode::lambda;
    std::string log_level = "info";  ///< the supervisor's: debug, info, warning, error
    std::string architecture = "x86_64";
    std::string role{};  ///< IAM role ARN (required on AWS, defaulted locally)
    std::vector<std::string> layers{};
    std::map<std::string, std::string> environment{};            ///< Lambda's variables
    std::map<std::string, std::string> container_environment{};  ///< the script's variables
    std::filesystem::path init_script{};  ///< run on every invocation (absolute; may be empty)
    std::filesystem::path run_script{};   ///< default of `scar run -s`
    bool file_stage_in = false;           ///< true: do not download the input
    std::vector<storage_path> inputs{};
    std::vector<storage_path> outputs{};
    std::optional<config::api_gateway> api_gateway{};
    int log_retention_days = 30;
    config::batch batch{};
    target_kind target = target_kind::local;
    std::string region = "us-east-1";
    std::string endpoint{};  ///< empty: the emulator's (local) or AWS's (aws)

    bool operator==(const function_definition&) const = default;
};

/// Everything a set of files defines.
struct definitions {
    std::vector<function_definition> functions{};
    std::map<std::string, storage_provider> storage{};  ///< by name(): "s3.default", "minio.x"

    /// The provider `p.provider` names, or nullptr.
    [[nodiscard]] const storage_provider* provider_of(const storage_path& p) const;

    bool operator==(const definitions&) const = default;
};

/// What to read and what to override.
struct load_options {
    /// Definition files, read in order after the defaults and the user file.
    std::vector<std::filesystem::path> files{};
    /// The user file, which must exist. Empty: the file `$SCAR_CONFIG` names (which must
    /// exist), else `$XDG_CONFIG_HOME/scar/config.toml` or `~/.config/scar/config.toml` when
    /// present.
    std::filesystem::path user_file{};
    /// `key=value` overrides applied to every function (`memory=1024`,
    /// `container.environment.K=V`), as CLI flags give them.
    std::vector<std::string> overrides{};
};

/// Reads defaults, the user file, `files` and `overrides`; validates everything. Without
/// `files`, non-empty `overrides` define one function (`name=f`, `image=busybox`, …).
/// On failure the error (code `ConfigInvalid`) lists every problem, one per line, as
/// `file:line:col: key: what is wrong; what would be valid` (unreadable files as
/// `cannot read '<path>': <reason>; <fix>`, overrides as `override '<k=v>': key: …`).
[[nodiscard]] result<definitions> load(const load_options& opts);

/// Parses one TOML text over the built-in defaults (no user file, no overrides), as a
/// definition file. `source_name` names it in errors. Relative script paths resolve against
/// `base_dir` (empty: the current directory). Errors as `load`.
[[nodiscard]] result<definitions> parse(
    std::string_view toml,
    std::string_view source_name,
    const std::filesystem::path& base_dir = {}
);

/// How `parse` treats what the text refers to.
struct parse_options {
    /// Relative script paths resolve against it (empty: the current directory).
    std::filesystem::path base_dir{};
    /// false: `init_script`/`run_script` are resolved but not required to exist (a Batch job
    /// gets its script in an environment variable, not as a file).
    bool check_scripts = true;
};

/// `parse` with options.
[[nodiscard]] result<definitions> parse(
    std::string_view toml,
    std::string_view source_name,
    const parse_options& opts
);

/// The deployed configuration of one function: TOML that `parse` reads back to an equal
/// definition (scripts are referenced by file name only, the providers it uses included).
///
/// Every key is written, so the text does not depend on the defaults of the reader. The
/// scripts it names (`init_script`, `run_script`) must sit in the `base_dir` given to
/// `parse` (the deployer copies them next to `function.toml`), or be read with
/// `check_scripts = false`. Credentials of the providers it uses are written in clear text,
/// as SCAR's `function_config.yaml` did: treat the text as a secret.
[[nodiscard]] std::string to_toml(const function_definition& fn, const definitions& defs);

}  // namespace scar::config
