#pragma once
/// @file
/// What `scar init`, `rm` and `ls` do: deploy a function definition to a target (the local
/// emulator or AWS), take it down again, and list what is deployed. The same calls go to
/// both targets; only the endpoints and credentials differ.
///
/// @code
/// auto t = scar::deploy::resolve_target({.local_endpoint = "http://127.0.0.1:4566"}).value();
/// auto defs = scar::config::load({.files = {"grayify.toml"}}).value();
/// auto done = scar::deploy::init(t, defs.functions[0], defs, {.supervisor_dir = bundle});
/// @endcode

#include <scar/config/function.hpp>
#include <scar/core/aws_config.hpp>
#include <scar/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::deploy {

/// Where and as whom to deploy.
struct target {
    bool local = true;
    std::string region = "us-east-1";
    std::string account = "000000000000";
    aws::credentials credentials;
    std::string lambda_url;  ///< "http://127.0.0.1:4566" or AWS's regional endpoints
    std::string s3_url;      ///< empty: AWS's
    std::string logs_url;
    std::string ecr_url;
    std::string batch_url;
    /// The role functions get when their definition names none (the emulator accepts any).
    std::string default_role;
};

struct target_options {
    /// The emulator's endpoint; empty: the target is AWS.
    std::string local_endpoint;
    std::string region;  ///< empty: from the environment / profile (AWS), "us-east-1" (local)
    aws::config_sources sources = aws::config_sources::from_process();
};

/// Fills the endpoints and credentials. Locally the emulator's endpoint and its default
/// credential (`test`/`test`, unless `AWS_ACCESS_KEY_ID` says otherwise); on AWS the usual
/// chain (environment, profile). The account comes from the emulator (local) or STS is not
/// called: ARNs on AWS are read from CreateFunction's answer.
[[nodiscard]] result<target> resolve_target(const target_options& o);

/// How `init` builds the function's image.
struct init_options {
    /// The supervisor bundle: a directory whose contents go to `/opt/scar` in the image
    /// (its launcher `scar-supervisor` at the top). See docs/supervisor.md.
    std::filesystem::path supervisor_dir;
    /// The image cache (`$SCAR_HOME/images`); empty: the image module's default.
    std::filesystem::path image_store;
    /// Registries reached over plain HTTP although not on loopback.
    std::vector<std::string> insecure_registries;
    /// Called with a one-line description before each step ("creating function grayify").
    std::function<void(std::string_view)> on_step;
};

/// What `init` made.
struct deployed {
    std::string function_arn;
    std::string image_uri;  ///< the function's image, pushed to ECR (digest-pinned)
    std::string log_group;
    std::vector<std::string> buckets;  ///< created or already there
};

/// Deploys one function: builds its image (the user's image + the supervisor + the deployed
/// configuration and script) and pushes it to the target's ECR; creates the log group with
/// its retention, the function, the input and output buckets (and folders), the permission
/// for S3 to invoke it, and merges a notification rule into each input bucket's
/// configuration (other rules stay). For execution_mode batch and lambda-batch it also creates
/// the Batch compute environment, job queue and job definition named after the function
/// (`ConfigInvalid` first when AWS would need subnets or security groups that are missing).
/// A failed step rolls back what this call created; the error names the step.
[[nodiscard]] result<deployed> init(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const init_options& o
);

/// Brings a deployed function in line with its definition: rebuilds and pushes its image
/// (the code is updated only when the image changed), updates memory, timeout, ephemeral
/// storage, description and variables, the log retention, and the triggers (new inputs
/// wired, inputs no longer defined unwired), and the Batch resources (a new job definition
/// revision when it changed; made or removed when the mode changed). `ResourceNotFoundException` when the
/// function was never deployed (`scar init` it).
[[nodiscard]] result<deployed> update(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const init_options& o
);

/// What `remove` took down (and what was already gone).
struct removal {
    std::vector<std::string> removed;  ///< "function grayify", "log group /aws/lambda/grayify", …
    std::vector<std::string> absent;   ///< pieces that were not there
};

/// Takes a function down: its notification rules on its input buckets, the function (and
/// with it its permissions), the log group, the ECR repository, and its Batch job definitions,
/// job queue and compute environment (disabled first, as AWS requires). Buckets and their objects
/// stay, as in SCAR. Robust when pieces are already gone; an error only for a failure that
/// leaves something behind.
[[nodiscard]] result<removal> remove(const target& t, const std::string& name);

/// A deployed function, as `scar ls` shows it.
struct function_summary {
    std::string name;
    std::string image;  ///< the user's image (from the deployed configuration)
    int memory_mb = 0;
    int timeout_s = 0;
    std::vector<std::string> inputs;  ///< "bucket/folder"
    std::string api_url;              ///< the invoke URL of its API Gateway endpoint, if any
    std::string mode = "lambda";      ///< execution_mode: lambda, batch, lambda-batch
};

/// Functions deployed by scar (recognised by their `SCAR_*` variables).
[[nodiscard]] result<std::vector<function_summary>> list(const target& t);

/// One line of a function's log.
struct log_line {
    std::int64_t timestamp_ms = 0;
    std::string stream;
    std::string message;  ///< without its trailing newline
};

/// The function's log, every stream, oldest first (CloudWatch Logs FilterLogEvents); with
/// `request_id`, only that invocation's lines (its `START` to its `REPORT`).
/// `ResourceNotFoundException` when the function has no log group.
[[nodiscard]] result<std::vector<log_line>> logs(
    const target& t,
    const std::string& name,
    const std::string& request_id = {}
);

/// A Batch job and its log, as `scar log -ri <job id>` shows them.
struct job_log {
    std::string job_id;
    std::string status;  ///< SUBMITTED … RUNNING, SUCCEEDED, FAILED
    std::string status_reason;
    std::string log_stream;  ///< in `/aws/batch/job`; empty before the job started
    std::vector<log_line> lines;
};

/// The Batch job `job_id` (DescribeJobs) and its log stream's lines (FilterLogEvents on
/// `/aws/batch/job`); nullopt when Batch does not know the id (a Lambda request id).
[[nodiscard]] result<std::optional<job_log>> batch_job_log(const target& t, const std::string& job_id);

/// The input folders ("bucket/folder") scar recorded in a deployed function's environment
/// (`SCAR_INPUTS`); empty for a function without inputs or not deployed by scar.
[[nodiscard]] std::vector<std::string> recorded_inputs(const std::map<std::string, std::string>& environment);

/// Names of the environment variables scar sets on every function it deploys.
inline constexpr std::string_view env_image = "SCAR_IMAGE";    ///< the user's image
inline constexpr std::string_view env_inputs = "SCAR_INPUTS";  ///< "s3://b/f s3://b2"
/// execution_mode, set when it is batch or lambda-batch (the function has Batch resources).
inline constexpr std::string_view env_mode = "SCAR_EXECUTION_MODE";

}  // namespace scar::deploy
