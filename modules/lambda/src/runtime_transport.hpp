#pragma once
// The Runtime API client's own HTTP/1.1 transport: one keep-alive TCP connection to
// AWS_LAMBDA_RUNTIME_API, blocking, without libcurl.
//
// The Runtime API is plain HTTP on the same host, one request at a time, and its client is
// the first thing every execution environment runs: going through scar::http::client would
// make every cold start load libcurl and its ~35 libraries (docs/supervisor.md, "Cold
// start"). What this speaks: requests with a Content-Length body; responses with a
// Content-Length, chunked or read-to-close body, 1xx answers skipped, `Connection: close`
// honoured. A request on a kept-alive connection the server has meanwhile closed is sent
// again once on a new one, as curl does.

#include <scar/core/error.hpp>
#include <scar/core/http.hpp>
#include <scar/core/unique_fd.hpp>

#include <string>
#include <string_view>

namespace scar::lambda::detail {

class runtime_transport {
public:
    /// `api` is "host:port" or "host:port/path-prefix"; `[v6]:port` for IPv6 literals.
    explicit runtime_transport(std::string_view api);

    /// Sends `method path` (path under the prefix, starting with '/') with `headers` and,
    /// unless `method` is GET, `body` with its Content-Length; waits for the whole answer
    /// without any time limit (`next` is a long poll).
    /// Errors: NetworkError (retryable) — cannot connect, connection reset or closed before
    /// a whole answer; InvalidRequest — `api` is not host:port; the message names the
    /// method and URL.
    [[nodiscard]] result<http::response> send(
        std::string_view method,
        std::string_view path,
        const http::header_list& headers,
        std::string_view body
    );

    /// "http://host:port/prefix" as the messages name it.
    [[nodiscard]] const std::string& base_url() const noexcept { return base_url_; }

private:
    enum class outcome { answered, stale, failed };
    result<void> connect();
    outcome exchange(
        const std::string& head,
        std::string_view body,
        bool head_request,
        http::response& out,
        error& err
    );
    /// Appends what the connection has to `in_`: 1, or 0 at its end, -1 on an error (`err`
    /// says which).
    int read_more(error& err);
    error network_error(std::string_view what) const;

    std::string host_;  // as in the Host header: "127.0.0.1:9001", "[::1]:9001"
    std::string name_;  // for getaddrinfo: "127.0.0.1", "::1"
    std::string port_;
    std::string prefix_;  // "" or "/_runtime/id"
    std::string base_url_;
    std::string parse_error_;  // why `api` was refused, empty when it is fine
    std::string where_;        // "METHOD URL" of the request in progress, for messages
    unique_fd fd_;
    std::string in_;  // received and not yet consumed
};

}  // namespace scar::lambda::detail
