#pragma once
/// @file
/// The local AWS region: every emulated service on one loopback endpoint.
///
/// `scar-emulator` is a thin `main` over this class; tests run it in-process on port 0.
///
/// @code
/// scar::emulator::options o;
/// o.port = 0;
/// o.data_dir = dir;
/// scar::emulator::server s(o);
/// s.start().value();          // listening when this returns
/// auto url = s.endpoint();    // "http://127.0.0.1:41234"
/// ...
/// s.stop();
/// @endcode

#include <scar/core/aws_config.hpp>
#include <scar/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace scar::emulator {

/// How the emulator is started.
struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 4566;  ///< 0 picks a free port
    /// Where state lives (objects, functions, jobs); it survives restarts.
    std::filesystem::path data_dir;
    /// Accepted credentials: requests must be SigV4-signed with one of these.
    std::vector<aws::credentials> credentials{{"test", "test", "", "emulator default"}};
    std::string region = "us-east-1";
    std::string account = "000000000000";
    /// Threads serving requests; 0 = one per core (at least 2).
    unsigned threads = 0;
    /// fsync object data and metadata before acknowledging a write (durable across power
    /// loss; a killed emulator never loses an acknowledged write either way).
    bool fsync = true;
    /// Lambda: concurrent executions account-wide.
    int lambda_concurrency = 64;
    /// Lambda: delay before the first retry of a failed asynchronous invocation (AWS waits
    /// about a minute; tests shorten it).
    std::chrono::milliseconds lambda_retry_delay{60'000};
    /// Lambda: maximum event ages (MaximumEventAgeInSeconds, 60 s to 6 h) are multiplied by
    /// this, so tests see an event outlive its age in milliseconds.
    double lambda_event_age_scale = 1.0;
    /// Lambda: an execution environment idle this long is stopped; the next invocation
    /// starts a new one (a cold start). AWS does not say how long it keeps them.
    std::chrono::milliseconds lambda_idle_timeout{600'000};
    /// Batch: this machine's share for jobs, the ceiling over every compute environment:
    /// vCPUs (0: the number of cores) and memory in MiB (0: all of it).
    double batch_vcpus = 0;
    std::int64_t batch_memory_mib = 0;
    /// Batch: time between SIGTERM and SIGKILL for a job that timed out or was terminated
    /// (AWS: 30 s).
    std::chrono::milliseconds batch_kill_grace{30'000};
    /// API Gateway: the longest an integration may take before the caller gets 504 (AWS:
    /// 29 s; tests shorten it).
    std::chrono::milliseconds apigw_integration_timeout{29'000};
};

/// One S3 event notification: a change that matched a bucket's notification configuration,
/// addressed to its destination (a Lambda function, queue or topic ARN).
struct s3_notification {
    std::string destination;  ///< the configured ARN
    std::string kind;         ///< "CloudFunction", "Queue" or "Topic"
    std::string payload;      ///< {"Records":[…]} with one eventVersion 2.1 record
    std::string event_name;   ///< "ObjectCreated:Put", …
    std::string bucket;
    std::string key;
};

/// The running emulator.
///
/// @par Thread safety
/// `start`, `stop` and `wait` are called from one controlling thread.
class server {
public:
    explicit server(options opts);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Receives every S3 notification (call before `start`). The Lambda service consumes
    /// them as asynchronous invocations; tests observe them here. Called on a request
    /// thread: keep it short.
    void on_s3_notification(std::function<void(const s3_notification&)> sink);

    /// Opens the data directory, binds and starts serving on background threads.
    /// Errors: `AddressInUse` (port taken: pick another with --port), `DataDirError`.
    [[nodiscard]] result<void> start();

    /// The bound port (after `start`).
    [[nodiscard]] std::uint16_t port() const noexcept;

    /// "http://host:port".
    [[nodiscard]] std::string endpoint() const;

    /// Stops accepting, ends open connections and joins the threads. Idempotent.
    void stop();

    /// Blocks until SIGINT or SIGTERM arrives (installing handlers for them), then stops.
    void run_until_signal();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace scar::emulator
