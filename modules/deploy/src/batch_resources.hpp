#pragma once
// The AWS Batch resources of a function whose execution_mode is batch or lambda-batch: one
// compute environment, one job queue and one job definition, all named after the function
// (SCAR's naming), made by `scar init`, kept in line by `scar update`, removed by `scar rm`.

#include <scar/config/function.hpp>
#include <scar/core/error.hpp>
#include <scar/deploy/deploy.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::deploy::detail {

/// True for execution_mode batch and lambda-batch.
[[nodiscard]] bool uses_batch(const config::function_definition& fn);

/// What AWS needs that the emulator does not (subnets, security groups): `ConfigInvalid`
/// naming the missing keys, checked before anything is created.
[[nodiscard]] result<void> check_batch_config(const target& t, const config::function_definition& fn);

/// Registers an undo step (the rollback of `init`).
using undo_step = std::function<void(std::string what, std::function<void()> undo)>;
using step_report = std::function<void(std::string_view)>;

/// Creates the compute environment (waits until VALID), the job queue on it (waits until
/// VALID) and the job definition running `image_uri`. `function_arn` gives the account on
/// AWS (for the default instance role).
[[nodiscard]] result<void> create_batch_resources(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const std::string& image_uri,
    const std::string& function_arn,
    const undo_step& undo,
    const step_report& step
);

/// `update`: creates the resources when the function had none (its mode changed to a Batch
/// one), otherwise registers a new job definition revision when the definition changed (and
/// deregisters the older ones); removes them when the mode is no longer a Batch one.
[[nodiscard]] result<void> update_batch_resources(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const std::string& image_uri,
    const std::string& function_arn,
    const step_report& step
);

/// Deregisters the job definitions, disables and deletes the queue, then the compute
/// environment (waiting on the states AWS requires). Pieces already gone go to `absent`.
[[nodiscard]] result<void> remove_batch_resources(const target& t, const std::string& name, removal& out);

/// DescribeJobs of one id: its status and log stream (no lines), or nullopt when unknown.
[[nodiscard]] result<std::optional<job_log>> describe_job(const target& t, const std::string& job_id);

/// A finished job of a function's queue and what it ran on.
struct job_usage {
    std::string id;
    std::int64_t started_ms = 0;
    std::int64_t stopped_ms = 0;
    double vcpus = 1;
    int memory_mb = 2048;
    bool fargate = false;  ///< its compute environment is FARGATE or FARGATE_SPOT
};

/// The jobs on the queue named `name` that ran and ended (SUCCEEDED or FAILED), with the
/// vCPUs and memory of the job definition revision each ran.
[[nodiscard]] result<std::vector<job_usage>> finished_jobs(const target& t, const std::string& name);

}  // namespace scar::deploy::detail
