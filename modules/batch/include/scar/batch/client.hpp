#pragma once
/// @file
/// The AWS Batch client: what `scar init/update/rm/log` and the supervisor's delegation
/// need, on AWS or on the local emulator (same wire protocol, different endpoint).
///
/// Batch speaks REST-JSON: every operation is `POST /v1/<operation in lower case>` with a
/// JSON body of camelCase members, signed with SigV4 for the service `batch`. Errors are
/// `ClientException` (400) and `ServerException` (500) with `{"message": …}`; the client
/// keeps AWS's code (from `x-amzn-ErrorType`, else the body's `__type`) and prefixes the
/// message with the operation and the object, e.g.
/// "DeleteComputeEnvironment fn: Cannot delete, found existing JobQueue relationship".
/// Network failures are core's `NetworkError` / `RequestTimeout`.
///
/// @code
/// auto ep = scar::batch::resolve_endpoint(scar::aws::config_sources::from_process()).value();
/// scar::batch::client b(ep);
/// auto job = b.submit_job({.name = "fn", .queue = "fn", .definition = "fn"}).value();
/// auto details = b.describe_jobs({job.id}).value();
/// @endcode
///
/// @par Thread safety
/// One client per thread (it keeps a connection).

#include <scar/core/aws_config.hpp>
#include <scar/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace scar::batch {

/// Where and as whom to call Batch.
struct endpoint {
    std::string url{};  ///< "http://127.0.0.1:4566" or "https://batch.us-east-1.amazonaws.com"
    std::string region = "us-east-1";
    aws::credentials credentials{};
};

/// The endpoint as the aws CLI finds it: `AWS_ENDPOINT_URL_BATCH`, else `AWS_ENDPOINT_URL`,
/// else the profile's `endpoint_url`, else `https://batch.<region>.amazonaws.com`; region and
/// credentials from the usual chain. Errors: those of `aws_config.hpp`.
[[nodiscard]] result<endpoint> resolve_endpoint(const aws::config_sources& src);

/// `computeResources` of a MANAGED compute environment.
struct compute_resources {
    std::string type = "EC2";  ///< EC2, SPOT, FARGATE or FARGATE_SPOT
    int min_vcpus = 0;
    int max_vcpus = 2;
    std::optional<int> desired_vcpus{};
    std::vector<std::string> instance_types{};  ///< EC2/SPOT only ("optimal", "m5.large")
    std::vector<std::string> subnets{};
    std::vector<std::string> security_group_ids{};
    std::string instance_role{};  ///< EC2/SPOT only: an instance profile ARN
};

/// CreateComputeEnvironment.
struct compute_environment_request {
    std::string name{};
    std::string type = "MANAGED";  ///< MANAGED or UNMANAGED
    std::string state = "ENABLED";
    std::optional<compute_resources> resources{};  ///< required for MANAGED on AWS
    std::string service_role{};                    ///< empty: AWS's service-linked role
    std::map<std::string, std::string> tags{};
};

/// A compute environment as DescribeComputeEnvironments shows it.
struct compute_environment {
    std::string name{};
    std::string arn{};
    std::string type{};
    std::string state{};   ///< ENABLED, DISABLED
    std::string status{};  ///< CREATING, UPDATING, DELETING, DELETED, VALID, INVALID
    std::string status_reason{};
    std::optional<compute_resources> resources{};
};

/// One entry of a job queue's `computeEnvironmentOrder`.
struct environment_order {
    int order = 1;
    std::string compute_environment{};  ///< name or ARN
    bool operator==(const environment_order&) const = default;
};

/// CreateJobQueue.
struct job_queue_request {
    std::string name{};
    int priority = 1;  ///< higher is scheduled first among queues sharing a compute environment
    std::string state = "ENABLED";
    std::vector<environment_order> compute_environments{};
    std::map<std::string, std::string> tags{};
};

/// A job queue as DescribeJobQueues shows it.
struct job_queue {
    std::string name{};
    std::string arn{};
    std::string state{};
    std::string status{};
    std::string status_reason{};
    int priority = 0;
    std::vector<environment_order> compute_environments{};
};

/// What UpdateJobQueue / UpdateComputeEnvironment change; unset fields stay.
struct queue_update {
    std::optional<std::string> state{};
    std::optional<int> priority{};
    std::optional<std::vector<environment_order>> compute_environments{};
};
struct environment_update {
    std::optional<std::string> state{};
    std::optional<int> min_vcpus{};
    std::optional<int> max_vcpus{};
    std::optional<int> desired_vcpus{};
};

/// `containerProperties` of a job definition, the part scar uses.
struct container_properties {
    std::string image{};
    std::vector<std::string> command{};
    std::map<std::string, std::string> environment{};
    /// `resourceRequirements` VCPU and MEMORY (MiB) and, when above 0, GPU.
    double vcpus = 1;
    int memory_mb = 2048;
    int gpus = 0;
    std::string job_role_arn{};
    std::string execution_role_arn{};  ///< required by Fargate
    bool operator==(const container_properties&) const = default;
};

/// RegisterJobDefinition (type `container`).
struct job_definition_request {
    std::string name{};
    container_properties container{};
    std::map<std::string, std::string> parameters{};   ///< `Ref::name` defaults
    int attempts = 0;                                  ///< retryStrategy.attempts; 0: not sent
    int timeout_s = 0;                                 ///< timeout.attemptDurationSeconds; 0: none
    std::vector<std::string> platform_capabilities{};  ///< "EC2" or "FARGATE"; empty: not sent
    std::map<std::string, std::string> tags{};
};

/// A job definition revision.
struct job_definition {
    std::string name{};
    std::string arn{};
    int revision = 0;
    std::string status{};  ///< ACTIVE, INACTIVE
    container_properties container{};
    std::map<std::string, std::string> parameters{};
    int attempts = 0;
    int timeout_s = 0;
    std::vector<std::string> platform_capabilities{};
};

/// `dependsOn` of SubmitJob.
struct dependency {
    std::string job_id{};
    std::string type{};  ///< "", N_TO_N or SEQUENTIAL
};

/// SubmitJob. `containerOverrides` are sent only when something is overridden.
struct submit_job_request {
    std::string name{};
    std::string queue{};       ///< name or ARN
    std::string definition{};  ///< name (latest ACTIVE), name:revision, or ARN
    std::map<std::string, std::string> parameters{};
    std::vector<std::string> command{};                ///< replaces the definition's
    std::map<std::string, std::string> environment{};  ///< added to / replaces the definition's
    std::optional<double> vcpus{};
    std::optional<int> memory_mb{};
    int array_size = 0;  ///< 2..10000 for an array job; 0: not an array job
    std::vector<dependency> depends_on{};
    int attempts = 0;   ///< 0: the definition's
    int timeout_s = 0;  ///< 0: the definition's
    std::map<std::string, std::string> tags{};
};

/// What SubmitJob answered.
struct submitted_job {
    std::string id{};
    std::string name{};
    std::string arn{};
};

/// One attempt of a job.
struct job_attempt {
    std::optional<int> exit_code{};
    std::string reason{};
    std::string log_stream{};
    std::int64_t started_at = 0;  ///< epoch ms, 0 when not set
    std::int64_t stopped_at = 0;
    std::string status_reason{};
};

/// A job as DescribeJobs shows it (the part scar uses).
struct job {
    std::string id{};
    std::string name{};
    std::string arn{};
    std::string queue{};       ///< ARN
    std::string definition{};  ///< ARN
    std::string status{};      ///< SUBMITTED PENDING RUNNABLE STARTING RUNNING SUCCEEDED FAILED
    std::string status_reason{};
    std::int64_t created_at = 0;  ///< epoch ms, 0 when not set
    std::int64_t started_at = 0;
    std::int64_t stopped_at = 0;
    std::string image{};
    std::vector<std::string> command{};  ///< after `Ref::` substitution
    std::map<std::string, std::string> environment{};
    std::optional<int> exit_code{};
    std::string container_reason{};
    std::string log_stream{};  ///< in the log group `/aws/batch/job`
    std::vector<job_attempt> attempts{};
    std::optional<int> array_size{};   ///< array parents and children
    std::optional<int> array_index{};  ///< array children
    std::vector<dependency> depends_on{};

    /// SUCCEEDED or FAILED.
    [[nodiscard]] bool done() const { return status == "SUCCEEDED" || status == "FAILED"; }
};

/// One entry of ListJobs.
struct job_summary {
    std::string id{};
    std::string name{};
    std::string arn{};
    std::string status{};
    std::string status_reason{};
    std::int64_t created_at = 0;
    std::int64_t started_at = 0;
    std::int64_t stopped_at = 0;
    std::optional<int> exit_code{};
    std::string definition{};
};

/// ListJobs: exactly one of `queue` and `array_job_id`; `status` filters (empty: not sent,
/// and AWS then lists RUNNING jobs only); `job_name` (a `JOB_NAME` filter, trailing `*`
/// allowed) lists every status instead.
struct list_jobs_request {
    std::string queue{};
    std::string array_job_id{};
    std::string status{};
    std::string job_name{};
};

/// A Batch client. See the file comment for errors.
class client {
public:
    explicit client(endpoint ep);
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;

    /// The new environment's name and ARN (`status` is not in the answer: describe it).
    [[nodiscard]] result<compute_environment> create_compute_environment(
        const compute_environment_request& req
    );
    /// The named environments that exist (all of them when `names` is empty); absent names
    /// are left out, as on the wire. Follows `nextToken`.
    [[nodiscard]] result<std::vector<compute_environment>> describe_compute_environments(
        const std::vector<std::string>& names = {}
    );
    [[nodiscard]] result<void> update_compute_environment(
        const std::string& name,
        const environment_update& u
    );
    /// AWS requires the environment DISABLED and no queue using it.
    [[nodiscard]] result<void> delete_compute_environment(const std::string& name);

    [[nodiscard]] result<job_queue> create_job_queue(const job_queue_request& req);
    [[nodiscard]] result<std::vector<job_queue>> describe_job_queues(
        const std::vector<std::string>& names = {}
    );
    [[nodiscard]] result<void> update_job_queue(const std::string& name, const queue_update& u);
    /// AWS requires the queue DISABLED.
    [[nodiscard]] result<void> delete_job_queue(const std::string& name);

    /// The new revision's name, ARN and revision number.
    [[nodiscard]] result<job_definition> register_job_definition(const job_definition_request& req);
    /// Revisions of `name` (every name when empty) with `status` (ACTIVE, INACTIVE, or empty
    /// for both). Follows `nextToken`.
    [[nodiscard]] result<std::vector<job_definition>> describe_job_definitions(
        const std::string& name = {},
        const std::string& status = "ACTIVE"
    );
    /// `definition`: ARN or name:revision.
    [[nodiscard]] result<void> deregister_job_definition(const std::string& definition);

    [[nodiscard]] result<submitted_job> submit_job(const submit_job_request& req);
    /// The jobs among `ids` that exist (at most 100 per call on AWS: longer lists are sent in
    /// several calls); unknown ids are left out, as on the wire.
    [[nodiscard]] result<std::vector<job>> describe_jobs(const std::vector<std::string>& ids);
    /// Follows `nextToken`.
    [[nodiscard]] result<std::vector<job_summary>> list_jobs(const list_jobs_request& req);
    /// Kills a STARTING/RUNNING job, cancels an earlier one.
    [[nodiscard]] result<void> terminate_job(const std::string& id, const std::string& reason);
    /// Cancels a SUBMITTED/PENDING/RUNNABLE job (a no-op for later states, as on AWS).
    [[nodiscard]] result<void> cancel_job(const std::string& id, const std::string& reason);

    /// Polls DescribeComputeEnvironments until `name`'s status is `status` ("VALID"), with
    /// growing pauses (50 ms to 2 s). "DELETED" is also reached when the environment is
    /// gone. Errors: `ResourceInvalid` when it becomes INVALID (with AWS's statusReason),
    /// `RequestTimeout` after `timeout`.
    [[nodiscard]] result<compute_environment> wait_compute_environment(
        const std::string& name,
        const std::string& status,
        std::chrono::milliseconds timeout = std::chrono::minutes(10)
    );
    /// The same for a job queue.
    [[nodiscard]] result<job_queue> wait_job_queue(
        const std::string& name,
        const std::string& status,
        std::chrono::milliseconds timeout = std::chrono::minutes(10)
    );

private:
    struct impl;
    std::unique_ptr<impl> impl_{};
};

}  // namespace scar::batch
