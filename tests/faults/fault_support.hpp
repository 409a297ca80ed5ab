#pragma once
// What the fault-injection suites share: signed calls to every service of a running
// emulator, a custom-runtime zip, a seeded random source that prints its seed, and waits
// that poll an outcome until a deadline.

#include <scar/core/http.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace scar::faults {

namespace json = boost::json;
using namespace std::chrono_literals;

/// One signed request to the emulator at `url` (no retries: a fault must be seen as it
/// happens). `service` is the SigV4 service name (s3, lambda, batch, logs, ecr); a transport
/// failure (the emulator died mid-request) is an error, not a response.
[[nodiscard]] result<http::response> call(
    const std::string& url,
    std::string_view service,
    std::string method,
    const std::string& path,
    std::string body = {},
    http::header_list headers = {},
    std::chrono::milliseconds timeout = 60s
);

/// A JSON 1.1 call (CloudWatch Logs, ECR): `POST /` with `X-Amz-Target: target`.
[[nodiscard]] result<http::response> call_json11(
    const std::string& url,
    std::string_view service,
    const std::string& target,
    const json::object& body
);

/// The response's status, or -1 when there was none (the emulator is gone).
[[nodiscard]] inline int status_of(const result<http::response>& r) {
    return r ? r->status : -1;
}

/// The body as JSON (null when it is not JSON).
[[nodiscard]] json::value json_of(const http::response& r);

/// The hex MD5 of `data` (an S3 ETag without quotes).
[[nodiscard]] std::string md5_hex(std::string_view data);

/// Deterministic bytes for (`seed`, `size`): the same arguments give the same body.
[[nodiscard]] std::string body_bytes(std::uint64_t seed, std::size_t size);

/// Every `<tag>…</tag>` text in an XML body, in order.
[[nodiscard]] std::vector<std::string> xml_all(std::string_view xml, std::string_view tag);
/// The first `<tag>…</tag>` text, or empty.
[[nodiscard]] std::string xml_first(std::string_view xml, std::string_view tag);
/// An ETag without its quotes (`"…"` in a header, `&quot;…&quot;` in XML).
[[nodiscard]] std::string unquote_etag(std::string_view etag);

/// The smallest custom runtime (sh + curl from the host, two processes per event): prints
/// "got <event>" to its log for each event (a one-line JSON payload), then answers
/// `{"ok":true}`.
extern const char* const sink_runtime;

/// A zip holding `bootstrap` (mode 0755) with `script` as its text, base64-encoded as
/// CreateFunction's `Code.ZipFile` wants it.
[[nodiscard]] std::string bootstrap_zip_base64(const std::string& script, const std::filesystem::path& work);

/// CreateFunction for a `provided.al2023` zip function; the response (200 expected).
[[nodiscard]] http::response create_function(
    const std::string& url,
    const std::string& name,
    const std::string& zip_base64,
    int timeout_s,
    int memory_mib = 128,
    const json::object& env = {}
);

/// Invoke (`RequestResponse`, `Event` or `DryRun`).
[[nodiscard]] result<http::response> invoke(
    const std::string& url,
    const std::string& function,
    std::string payload,
    std::string_view type = "RequestResponse",
    std::chrono::milliseconds timeout = 60s
);

/// The messages of every event in a log group containing `text` (FilterLogEvents, all pages).
[[nodiscard]] std::vector<std::string> log_messages(
    const std::string& url,
    const std::string& group,
    const std::string& text
);

/// Calls `done` until it returns true or `limit` passes; true if it did. Between calls the
/// thread pauses for `interval` (polling an outcome the emulator produces: no fixed wait
/// stands in for an event).
bool poll_until(
    const std::function<bool()>& done,
    std::chrono::milliseconds limit,
    std::chrono::milliseconds interval = 2ms
);

/// A Mersenne Twister seeded with `seed` — or with `SCAR_FAULTS_SEED` from the environment,
/// to replay a failure or explore other kill points — printed to the test's output.
class seeded_rng {
public:
    explicit seeded_rng(std::uint32_t seed);
    [[nodiscard]] std::uint32_t seed() const noexcept { return seed_; }
    /// Uniform in [lo, hi].
    [[nodiscard]] std::uint64_t between(std::uint64_t lo, std::uint64_t hi);
    [[nodiscard]] std::mt19937& engine() noexcept { return rng_; }

private:
    std::uint32_t seed_;
    std::mt19937 rng_;
};

/// Files under `dir` (recursively) whose name ends with `suffix`.
[[nodiscard]] std::vector<std::filesystem::path> files_ending(
    const std::filesystem::path& dir,
    std::string_view suffix
);

/// Regular files under `dir` (recursively); 0 when it does not exist.
[[nodiscard]] std::size_t count_files(const std::filesystem::path& dir);

/// The resident set size of process `pid` in KiB (VmRSS), 0 when unknown.
[[nodiscard]] std::uint64_t rss_kib(int pid);

/// A small tmpfs mounted on `dir` in a mount namespace of its own, held by a `sleep` that
/// is its only process: the test's namespace (and every other user of the machine) never
/// sees it, and it goes away with the holder. Programs enter it with `enter()`; the test
/// reaches its files through `/proc/<holder>/root`.
class private_tmpfs {
public:
    /// Mounts it; `unavailable()` says why when neither `unshare --mount` (as root) nor
    /// `unshare --user --map-root-user --mount` works here.
    private_tmpfs(const std::filesystem::path& dir, std::size_t bytes);
    ~private_tmpfs();
    private_tmpfs(const private_tmpfs&) = delete;
    private_tmpfs& operator=(const private_tmpfs&) = delete;

    [[nodiscard]] const std::string& unavailable() const noexcept { return why_; }
    /// The command prefix that runs a program inside the namespace (same PID: setpriv and
    /// nsenter exec; the program is killed if the test process dies).
    [[nodiscard]] std::vector<std::string> enter() const;
    /// `path` (under the mounted directory) as this process reaches it.
    [[nodiscard]] std::filesystem::path outside(const std::filesystem::path& path) const;
    /// Writes zeros into `name` until the file system is full; the bytes written.
    std::uint64_t fill(const std::string& name) const;

private:
    std::filesystem::path dir_;
    std::unique_ptr<testing::child_process> holder_;
    bool user_ns_ = false;
    std::string why_;
};

/// scar-emulator started behind a command prefix (e.g. `private_tmpfs::enter()`), on a free
/// port; stopped by its PID.
class wrapped_emulator {
public:
    wrapped_emulator(
        const std::vector<std::string>& prefix,
        const std::filesystem::path& data_dir,
        std::vector<std::string> extra_args = {}
    );
    ~wrapped_emulator();
    wrapped_emulator(const wrapped_emulator&) = delete;
    wrapped_emulator& operator=(const wrapped_emulator&) = delete;
    [[nodiscard]] const std::string& url() const noexcept { return url_; }
    [[nodiscard]] testing::child_process& process() noexcept { return *proc_; }

private:
    std::unique_ptr<testing::child_process> proc_;
    std::string url_;
};

}  // namespace scar::faults
