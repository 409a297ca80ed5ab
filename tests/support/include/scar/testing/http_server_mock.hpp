#pragma once
/// @file
/// A real HTTP/1.1 server on 127.0.0.1 for tests of HTTP clients: a handler answers each
/// request; the server records what it received, counts requests in flight, and can
/// drop a connection without answering. One thread per connection, keep-alive supported,
/// `Expect: 100-continue` answered with `100 Continue` before the body is read.
///
/// Boost.Beast stays in `http_server_mock.cpp`; this header is cheap to include.

#include <scar/core/http.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::testing {

/// One request as the server received it.
struct recorded_request {
    std::string method;
    std::string target;  ///< exactly as on the request line: path and query
    http::header_list headers;
    std::string body;
    /// Which TCP connection carried it: 1 for the first one accepted, 2 for the next…
    /// Equal numbers on two requests mean the client kept the connection alive.
    std::size_t connection = 0;

    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept {
        return http::find_header(headers, name);
    }
};

/// What the handler answers. `Content-Length` is set from `body` unless the handler sets
/// it (useful for HEAD answers).
struct mock_response {
    int status = 200;
    http::header_list headers;
    std::string body;
    /// Reset the connection (TCP RST) without sending anything: a client sees
    /// "connection reset by peer" or an empty reply.
    bool drop_connection = false;
};

/// A gate handlers can wait at until the test opens it (for "requests in flight" and
/// timeout tests, without sleeping). Once open it stays open.
class gate {
public:
    /// Blocks until the gate is open.
    void wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return open_; });
    }

    /// Blocks until the gate is open or `timeout` has passed; true when open. Handlers use
    /// it so that a broken client fails a test instead of hanging it.
    [[nodiscard]] bool wait_for(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [this] { return open_; });
    }

    void open() {
        {
            const std::lock_guard lock(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }

    [[nodiscard]] bool is_open() const {
        const std::lock_guard lock(mutex_);
        return open_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

/// The server. Listens on 127.0.0.1 on a free port from construction until destruction.
///
/// The handler runs on the connection's thread, so several requests may be handled at
/// once (one per connection); it must be thread-safe. It may block (on a `gate`), which
/// holds that one request in flight. The destructor closes every connection and joins
/// every thread: open any gate a handler waits at before destroying the server.
class http_server_mock {
public:
    using handler = std::function<mock_response(const recorded_request&)>;

    explicit http_server_mock(handler h);
    ~http_server_mock();
    http_server_mock(const http_server_mock&) = delete;
    http_server_mock& operator=(const http_server_mock&) = delete;
    http_server_mock(http_server_mock&&) = delete;
    http_server_mock& operator=(http_server_mock&&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept;
    /// "http://127.0.0.1:PORT"
    [[nodiscard]] std::string url() const;
    /// A copy of every request received so far, in arrival order.
    [[nodiscard]] std::vector<recorded_request> requests() const;
    [[nodiscard]] std::size_t request_count() const;
    /// TCP connections accepted so far.
    [[nodiscard]] std::size_t connection_count() const;
    /// Requests being handled right now (received, not yet answered).
    [[nodiscard]] int in_flight() const;
    /// Most requests seen being handled at the same time.
    [[nodiscard]] int max_in_flight() const;
    /// Blocks until at least `n` requests are being handled at once, or `timeout` passes;
    /// true when reached.
    [[nodiscard]] bool wait_in_flight(int n, std::chrono::milliseconds timeout = std::chrono::seconds(20))
        const;
    /// Blocks until at least `n` requests have been received, or `timeout` passes; true
    /// when reached.
    [[nodiscard]] bool wait_requests(
        std::size_t n,
        std::chrono::milliseconds timeout = std::chrono::seconds(20)
    ) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace scar::testing
