#pragma once
/// @file
/// A real HTTP/1.1 server on 127.0.0.1 for tests of HTTP clients: a handler answers each
/// request; the server records what it received, counts requests in flight, and can
/// drop a connection without answering. One thread per connection, keep-alive supported.

#include <scar/core/http.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace scar::testing {

struct recorded_request {
    std::string method;
    std::string target;
    http::header_list headers;
    std::string body;
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept {
        return http::find_header(headers, name);
    }
};

struct mock_response {
    int status = 200;
    http::header_list headers;
    std::string body;
    /// Close the connection without sending anything (a reset, as a client sees it).
    bool drop_connection = false;
};

/// A gate handlers can wait at until the test opens it (for "requests in flight" and
/// timeout tests, without sleeping).
class gate {
public:
    void wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return open_; });
    }
    void open() {
        {
            const std::lock_guard lock(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

class http_server_mock {
public:
    using handler = std::function<mock_response(const recorded_request&)>;

    explicit http_server_mock(handler h);
    ~http_server_mock();
    http_server_mock(const http_server_mock&) = delete;
    http_server_mock& operator=(const http_server_mock&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept;
    /// "http://127.0.0.1:PORT"
    [[nodiscard]] std::string url() const;
    [[nodiscard]] std::vector<recorded_request> requests() const;
    [[nodiscard]] std::size_t request_count() const;
    /// Most requests seen being handled at the same time.
    [[nodiscard]] int max_in_flight() const;
    /// Blocks until at least `n` requests are being handled at once.
    void wait_in_flight(int n) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace scar::testing
