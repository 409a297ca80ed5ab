#pragma once
// What the Batch service keeps: resources as the JSON AWS describes them (so Describe*
// answers exactly what was stored) and jobs with the fields the scheduler works on.

#include <scar/sandbox/container.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace scar::emulator::batch {

struct compute_environment {
    boost::json::object detail;  ///< ComputeEnvironmentDetail
    double max_vcpus = 0;        ///< maxvCpus (MANAGED) or unmanagedvCpus (UNMANAGED)
};

struct job_queue {
    boost::json::object detail;  ///< JobQueueDetail
    std::int64_t priority = 0;
    std::vector<std::string> environments;  ///< compute environment names, by ascending order
};

struct job_definition {
    boost::json::object detail;  ///< JobDefinition
};

struct job {
    std::string id;  ///< UUID, or "<parent>:<index>" for an array child
    std::string name;
    std::string arn;
    std::string queue;  ///< name
    std::string definition_arn;
    std::string definition_name;
    std::string status = "SUBMITTED";
    std::string reason;  ///< statusReason
    std::int64_t created_at = 0;
    std::int64_t started_at = 0;
    std::int64_t stopped_at = 0;
    std::uint64_t seq = 0;              ///< order of becoming RUNNABLE (FIFO inside a queue)
    boost::json::array depends_on;      ///< as submitted
    std::vector<std::string> wait_for;  ///< jobs that must SUCCEED first
    boost::json::object parameters;
    boost::json::object container;  ///< ContainerDetail: image, command (substituted), environment, …
    boost::json::object retry_strategy;
    int max_attempts = 1;
    boost::json::array evaluate_on_exit;
    std::int64_t timeout_s = 0;  ///< attemptDurationSeconds; 0: none
    boost::json::object tags;
    bool propagate_tags = false;
    boost::json::array platform_capabilities;
    boost::json::array attempts;  ///< AttemptDetail of every finished attempt
    double vcpus = 1;
    std::int64_t memory_mib = 0;  ///< 0: not given (no limit, not counted)
    int array_size = 0;           ///< parent and children: the array's size; 0: not an array job
    int array_index = -1;         ///< children: their index
    std::string parent;           ///< children: the parent's id
    std::vector<std::string> children;
    bool cancelled = false;
    bool terminated = false;

    // The attempt in progress (STARTING or RUNNING).
    std::string ce;       ///< compute environment it was placed in
    std::string task_id;  ///< names the log stream
    std::int64_t attempt_started = 0;
    std::optional<std::chrono::steady_clock::time_point> deadline;  ///< attempt timeout
    std::optional<std::chrono::steady_clock::time_point> kill_at;   ///< SIGKILL after SIGTERM
    bool timed_out = false;
    std::string stop_reason;  ///< why it is being stopped (timeout, TerminateJob's reason)

    [[nodiscard]] bool is_parent() const noexcept { return array_size > 0 && array_index < 0; }
    [[nodiscard]] bool terminal() const noexcept { return status == "SUCCEEDED" || status == "FAILED"; }
    [[nodiscard]] std::string log_stream() const { return definition_name + "/default/" + task_id; }
};

/// How an attempt ended.
struct attempt_end {
    std::optional<int> exit_code;  ///< when the container exited
    std::string container_reason;  ///< container.reason (signals, OOM, pull or start failures)
    std::string status_reason;     ///< the job's statusReason for this attempt
    bool retryable = true;         ///< false after a timeout or TerminateJob
};

/// One attempt's thread and container.
struct runner {
    std::string job_id;
    int attempt = 0;
    // What to run, captured when the attempt was placed.
    std::string image;
    std::vector<std::string> command;
    std::vector<std::pair<std::string, std::string>> env;
    std::int64_t memory_mib = 0;
    std::string log_stream;

    std::mutex mutex;
    std::optional<sandbox::container> container;
    bool stop_requested = false;  ///< set before the container exists: never start it
    std::thread thread;
    std::atomic<bool> done{false};
};

}  // namespace scar::emulator::batch
