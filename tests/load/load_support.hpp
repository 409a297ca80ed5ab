#pragma once
// What the load and security suites share: requests to a running scar-emulator signed for
// any service (with any credential and time), a Zip function around the suites' static
// runtime (fn_runtime.cpp), FilterLogEvents over all pages, percentiles, and a HEAD probe
// that measures the emulator's latency while something else loads it.

#include <scar/core/aws_config.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace scar::load {

using namespace std::chrono_literals;

/// The emulator's default credential (`--access-key test --secret-key test`).
inline const aws::credentials emulator_credentials{"test", "test", "", "test"};

/// A request to `url + target` (target: path and query, already percent-encoded).
[[nodiscard]] http::request make_request(
    const std::string& url,
    std::string method,
    const std::string& target,
    std::string body = {},
    http::header_list headers = {}
);

/// `req` signed in place for `service` with `creds` at `when`.
void sign(
    http::request& req,
    std::string_view service,
    const aws::credentials& creds = emulator_credentials,
    clock::time_point when = clock::system().now()
);

/// A made and signed request (the emulator's credential, now).
[[nodiscard]] http::request signed_request(
    const std::string& url,
    std::string_view service,
    std::string method,
    const std::string& target,
    std::string body = {},
    http::header_list headers = {}
);

/// Options for a client that never retries (a 429 or 503 must be seen, not hidden) and gives
/// up after `timeout`.
[[nodiscard]] http::options no_retry(std::chrono::milliseconds timeout = 60s);

/// Sends `req` once; a transport failure throws (the test fails with its message).
[[nodiscard]] http::response send(const http::request& req);

/// Headers of a JSON 1.1 call (CloudWatch Logs, ECR): `X-Amz-Target: target`.
[[nodiscard]] http::header_list json11_headers(const std::string& target);

/// One entry of a zip made by `zip_base64`: a file with `content`, or a symbolic link to
/// `link_target` when that is not empty.
struct zip_entry {
    std::string name;
    std::string content;
    std::string link_target;
};

/// A zip of `entries`, names exactly as given (`..` and absolute names included, for the
/// escape tests), base64-encoded as CreateFunction's `Code.ZipFile` and
/// PublishLayerVersion's `Content.ZipFile` want it.
[[nodiscard]] std::string zip_base64(const std::vector<zip_entry>& entries);

/// A Zip holding the suites' runtime as an executable `bootstrap`, base64-encoded as
/// CreateFunction's `Code.ZipFile` wants it.
[[nodiscard]] std::string runtime_zip_base64();

/// CreateFunction for a `provided.al2023` Zip function running the suites' runtime, then
/// waits until it is Active. Throws with the emulator's answer when it cannot.
void create_function(const std::string& url, const std::string& name, int timeout_s = 30);

/// The messages of every event of `group` that contain `text` (FilterLogEvents, all pages).
[[nodiscard]] std::vector<std::string> log_messages(
    const std::string& url,
    const std::string& group,
    const std::string& text
);

/// Calls `done` until it returns true or `limit` passes; true if it did. This polls an
/// outcome the emulator produces (yielding between calls); nothing waits a fixed time.
bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

/// The `p`-th percentile (0..100, nearest rank) of `values` in milliseconds; 0 when empty.
[[nodiscard]] double percentile(std::vector<double> values, double p);

/// Milliseconds in `d`.
[[nodiscard]] double ms(std::chrono::steady_clock::duration d);

/// A thread that sends a signed `HEAD url+target` every `interval` and records how long each
/// took, until stopped. A probe that fails (no answer, or not 200) is counted, not timed.
class head_probe {
public:
    head_probe(std::string url, std::string target, std::chrono::milliseconds interval = 10ms);
    ~head_probe();
    head_probe(const head_probe&) = delete;
    head_probe& operator=(const head_probe&) = delete;

    /// Stops the thread; the latencies (ms) it measured.
    std::vector<double> stop();
    [[nodiscard]] int failures() const noexcept { return failures_; }

private:
    std::string url_;
    std::string target_;
    std::chrono::milliseconds interval_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> failures_{0};
    std::vector<double> latencies_;
    std::thread thread_;
};

/// `n` HEADs in a row (the emulator idle); the latencies in ms.
[[nodiscard]] std::vector<double> head_latencies(const std::string& url, const std::string& target, int n);

}  // namespace scar::load
