#pragma once
// The emulator's AWS Batch: compute environments, job queues, job definitions and jobs
// (REST-JSON, `POST /v1/<operation>`), and the scheduler that runs jobs as sandboxed
// containers from their images.
//
// State: <data>/batch/{compute-environments,job-queues,job-definitions}.json and one JSON
// file per job under <data>/batch/jobs/, each rewritten atomically on every change. A job
// found STARTING or RUNNING at start-up was interrupted by the stop and is FAILED; queued
// jobs go on.

#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../logs/service.hpp"
#include "../service.hpp"
#include "model.hpp"

namespace scar::emulator::batch {

struct settings {
    std::filesystem::path root;  ///< <data>/batch
    std::string region;
    std::string account;
    /// Credentials handed to jobs so they can call the emulator.
    std::string access_key = "test";
    std::string secret_key = "test";
    /// This machine's share for jobs, the ceiling over every compute environment:
    /// vCPUs (0: the number of cores) and memory in MiB (0: the machine's memory).
    double host_vcpus = 0;
    std::int64_t host_memory_mib = 0;
    /// How long a job gets between SIGTERM and SIGKILL when it times out or is terminated
    /// (AWS: 30 s).
    std::chrono::milliseconds kill_grace{30'000};
    bool fsync = true;
};

class service final : public emulator::service {
public:
    service(settings s, std::shared_ptr<logs::service> logs);
    ~service() override;
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    /// Loads the state under `s.root` (failing interrupted jobs) and probes for containers.
    [[nodiscard]] static result<std::shared_ptr<service>> open(
        settings s,
        std::shared_ptr<logs::service> logs
    );

    [[nodiscard]] std::string_view name() const noexcept override { return "batch"; }
    void write_error(exchange& ex, const error& e) const override;
    net::awaitable<void> handle(exchange& ex, const sigv4::verified_request& auth) override;

    /// Where jobs reach the emulator ("127.0.0.1:PORT", also its own ECR registry); then
    /// starts the scheduler. Call once serving.
    void start(std::string host_port);

    /// Stops the scheduler and kills running containers, leaving their jobs RUNNING on disk
    /// (they are failed at the next start, as after a crash). Idempotent.
    void stop();

private:
    [[nodiscard]] result<std::string> dispatch(std::string_view op, const boost::json::object& in);

    // Control plane (service.cpp); callers hold mutex_.
    [[nodiscard]] result<std::string> create_compute_environment(const boost::json::object& in);
    [[nodiscard]] result<std::string> update_compute_environment(const boost::json::object& in);
    [[nodiscard]] result<std::string> delete_compute_environment(const boost::json::object& in);
    [[nodiscard]] result<std::string> describe_compute_environments(const boost::json::object& in) const;
    [[nodiscard]] result<std::string> create_job_queue(const boost::json::object& in);
    [[nodiscard]] result<std::string> update_job_queue(const boost::json::object& in);
    [[nodiscard]] result<std::string> delete_job_queue(const boost::json::object& in);
    [[nodiscard]] result<std::string> describe_job_queues(const boost::json::object& in) const;
    [[nodiscard]] result<std::string> register_job_definition(const boost::json::object& in);
    [[nodiscard]] result<std::string> deregister_job_definition(const boost::json::object& in);
    [[nodiscard]] result<std::string> describe_job_definitions(const boost::json::object& in) const;
    [[nodiscard]] result<std::string> submit_job(const boost::json::object& in);
    [[nodiscard]] result<std::string> describe_jobs(const boost::json::object& in) const;
    [[nodiscard]] result<std::string> list_jobs(const boost::json::object& in) const;
    [[nodiscard]] result<std::string> stop_job(const boost::json::object& in, bool terminate);

    [[nodiscard]] compute_environment* find_ce(std::string_view name_or_arn);
    [[nodiscard]] job_queue* find_queue(std::string_view name_or_arn);
    [[nodiscard]] job_definition* find_definition(std::string_view ref);
    [[nodiscard]] job* find_job(std::string_view id);
    [[nodiscard]] const job* find_job(std::string_view id) const;
    [[nodiscard]] std::string arn(std::string_view kind, std::string_view name) const;

    // Scheduler (scheduler.cpp).
    void scheduler_loop();
    /// One pass over every job: dependencies, placement, deadlines. Returns when the next
    /// deadline falls. Caller holds mutex_.
    std::chrono::steady_clock::time_point step();
    /// Moves `j` to `status` with a reason, stamps it and saves it. Caller holds mutex_.
    void set_status(job& j, std::string_view status, std::string reason = {});
    /// Ends the attempt in progress of `j` (the container's outcome or why it never ran),
    /// then retries or finishes it. Caller holds mutex_.
    void finish_attempt(job& j, const attempt_end& end);
    /// Derives an array parent's status from its children. Caller holds mutex_.
    void update_parent(job& parent);
    /// Fails a job that has not started, cascading to array children.
    void fail_unstarted(job& j, const std::string& reason);
    /// Starts the attempt's thread: pull the image, start the container, wait for it.
    void launch(job& j);
    void run_attempt(std::shared_ptr<runner> r);
    /// Asks the container of a running attempt to stop (SIGTERM, SIGKILL after the grace).
    void kill_attempt(job& j, std::string reason, bool timed_out);

    // Persistence (scheduler.cpp).
    [[nodiscard]] result<void> load();
    void save_job(const job& j) const;
    void save_resources() const;
    [[nodiscard]] result<void> write_atomically(const std::filesystem::path& p, const std::string& text)
        const;

    settings settings_;
    std::shared_ptr<logs::service> logs_;
    std::string host_port_;
    std::shared_future<result<void>> sandbox_check_;
    double host_vcpus_ = 1;
    std::int64_t host_memory_mib_ = 0;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool started_ = false;
    std::thread scheduler_;
    std::map<std::string, compute_environment, std::less<>> ces_;
    std::map<std::string, job_queue, std::less<>> queues_;
    /// name → revisions in order
    std::map<std::string, std::vector<job_definition>, std::less<>> definitions_;
    std::map<std::string, std::unique_ptr<job>, std::less<>> jobs_;
    std::uint64_t next_seq_ = 1;
    std::map<std::string, std::shared_ptr<runner>, std::less<>> runners_;
};

}  // namespace scar::emulator::batch
