#pragma once
/// @file
/// An HTTP/1.1 client on libcurl: any method, bodies from memory or a file, responses to
/// memory, a file or a callback, timeouts, retries with exponential backoff and full
/// jitter, progress callbacks, and many transfers at once (`client::send_all`, curl multi).
///
/// libcurl stays behind this interface (`core/src/http_client.cpp`); no header of ours
/// includes `<curl/curl.h>`, and no program links it: the first transfer of the process
/// opens `libcurl.so.4` with dlopen (thread-safe, once), so programs that never send a
/// request never pay for loading libcurl and its ~35 libraries. Constructing a `client`
/// loads nothing.
///
/// Errors (`scar::error::code`):
///   - `NetworkError` (retryable): connection refused or reset, DNS failure, TLS failure;
///     the message names the method and URL and the curl reason, e.g.
///     "GET http://127.0.0.1:4566/: couldn't connect to server (curl 7); is the server running?"
///   - `RequestTimeout` (retryable): the connect or transfer timeout expired.
///   - `InvalidRequest`: a malformed URL, an unreadable request body file.
///   - `LocalIOError`: the response file could not be written.
///   - `Aborted`: a sink or progress callback asked to stop.
///   - `MissingLibrary`: libcurl.so.4 cannot be loaded or is older than 7.66; the message
///     names the package to install (`apt-get install libcurl4`). Every later transfer of
///     the process fails the same way.
/// An HTTP status of 4xx or 5xx is **not** an error of this layer: `send` returns the
/// response and the caller (a service client) maps it. After retries are exhausted on a
/// retryable status, the last response is returned.

#include <scar/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scar::http {

/// Header fields in the order they were added or received; names keep their case.
/// Lookups are case-insensitive.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// First value of header `name` (case-insensitive), if present.
[[nodiscard]] std::optional<std::string_view> find_header(
    const header_list& h,
    std::string_view name
) noexcept;

/// Replaces every `name` header by one with `value`, or appends it.
void set_header(header_list& h, std::string_view name, std::string value);

/// Removes every `name` header.
void remove_header(header_list& h, std::string_view name);

/// A request body read from a file, optionally a slice of it (multipart parts).
struct file_body {
    std::filesystem::path path;
    std::uint64_t offset = 0;
    std::optional<std::uint64_t> length;  ///< to the end of the file when empty
};

/// An outgoing request.
///
/// `url` is sent as written: the caller percent-encodes the path and query (the signer
/// needs the exact bytes on the wire). `Content-Length` is set by the client from the
/// body; `Host` from the URL unless a `Host` header is given.
struct request {
    std::string method = "GET";
    std::string url;
    header_list headers;
    std::string body;  ///< used when `body_file` is empty
    std::optional<file_body> body_file;
};

/// A received response. For `send_to_file` and `send_to_sink`, `body` stays empty
/// unless the status is >= 300 (error bodies are always kept in memory so that callers
/// can parse them).
struct response {
    int status = 0;
    header_list headers;
    std::string body;
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept {
        return find_header(headers, name);
    }
};

/// Receives response body bytes as they arrive. Return false to abort the transfer
/// (the send then fails with `Aborted`).
using sink = std::function<bool(std::string_view chunk)>;

/// Transfer progress in bytes; totals are 0 while unknown.
struct progress {
    std::uint64_t download_total = 0;
    std::uint64_t download_now = 0;
    std::uint64_t upload_total = 0;
    std::uint64_t upload_now = 0;
};

/// When and how often to try again.
///
/// Attempt n (n >= 1 is a retry) waits a uniformly random time in
/// [0, min(max_delay, base_delay * 2^(n-1))] ("full jitter").
struct retry_policy {
    int max_attempts = 4;  ///< total attempts including the first; 1 disables retries
    std::chrono::milliseconds base_delay{100};
    std::chrono::milliseconds max_delay{20'000};
    /// Whether a received response should be retried. Default: 429, 500, 502, 503, 504.
    std::function<bool(const response&)> retry_on;
};

struct options {
    std::chrono::milliseconds connect_timeout{10'000};
    /// Whole-transfer limit; 0 means none (big downloads). See `low_speed_*` for stalls.
    std::chrono::milliseconds timeout{0};
    /// Abort when fewer than `low_speed_bytes` per second arrive for `low_speed_time`.
    std::uint32_t low_speed_bytes = 1;
    std::chrono::seconds low_speed_time{60};
    retry_policy retry{};
    bool verify_tls = true;
    /// Called from the transfer thread; return false to abort.
    std::function<bool(const progress&)> on_progress;
    /// Called before every attempt, including retries, with a copy of the request that
    /// will be sent: the hook for signing (SigV4 dates must be fresh on a retry).
    std::function<result<void>(request&)> before_send;
    /// Force the connection to go to this address: "host:port:127.0.0.1:4566"
    /// (curl's CONNECT_TO), e.g. virtual-hosted bucket names on a loopback endpoint.
    std::vector<std::string> connect_to;
};

/// One transfer of a batch given to `client::send_all`.
struct transfer {
    request req;
    /// Where the body goes: memory (default), a file, or a sink.
    std::optional<std::filesystem::path> to_file;
    sink to_sink;
};

/// A reusable HTTP client. Keeps connections alive between calls.
///
/// @par Thread safety
/// One `client` must not be used by two threads at once; create one per thread (they
/// are cheap) or use `send_all` for parallel transfers.
class client {
public:
    explicit client(options opts = {});
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    [[nodiscard]] const options& opts() const noexcept;

    /// Sends `req`, retrying per the policy; body in memory.
    [[nodiscard]] result<response> send(const request& req);

    /// Sends `req`; a 2xx body is written to `path` (created or truncated; written to a
    /// temporary file beside it and renamed into place on success, so `path` never holds
    /// a partial body).
    [[nodiscard]] result<response> send_to_file(const request& req, const std::filesystem::path& path);

    /// Sends `req`; a 2xx body is streamed to `out`. Retried only while no byte has been
    /// delivered to `out`.
    [[nodiscard]] result<response> send_to_sink(const request& req, const sink& out);

    /// Runs every transfer, at most `max_parallel` at once over curl multi, each with
    /// this client's options and retry policy. Results are in the order of `batch`.
    [[nodiscard]] std::vector<result<response>> send_all(
        std::span<transfer> batch,
        std::size_t max_parallel = 8
    );

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace scar::http
