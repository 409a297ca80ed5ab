#include "scar/testing/http_server_mock.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

namespace scar::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

/// One accepted TCP connection. Its thread reads and writes `socket`; the destructor of
/// the server may shut it down concurrently (a plain shutdown(2), safe next to a blocked
/// read), and `mutex` keeps that apart from the close.
struct connection {
    explicit connection(asio::io_context& io, std::size_t n) : socket(io), id(n) {}
    tcp::socket socket;
    std::size_t id;
    std::mutex mutex;
    bool closed = false;

    void close(bool reset) {
        const std::lock_guard lock(mutex);
        if (closed) return;
        beast::error_code ec;
        if (reset) {
            socket.set_option(asio::socket_base::linger(true, 0), ec);  // close sends RST
        } else {
            socket.shutdown(tcp::socket::shutdown_both, ec);
        }
        socket.close(ec);
        closed = true;
    }

    void shutdown() {
        const std::lock_guard lock(mutex);
        if (closed) return;
        beast::error_code ec;
        socket.shutdown(tcp::socket::shutdown_both, ec);
    }
};

}  // namespace

struct http_server_mock::impl {
    handler on_request;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::uint16_t port = 0;
    std::thread accept_thread;
    std::atomic<bool> stopping{false};

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::vector<recorded_request> seen;
    std::vector<std::shared_ptr<connection>> connections;
    std::vector<std::thread> threads;
    int in_flight = 0;
    int max_in_flight = 0;

    mock_response answer(const recorded_request& r) {
        try {
            return on_request(r);
        } catch (const std::exception& e) {
            return mock_response{
                500,
                {{"Content-Type", "text/plain"}},
                std::string("handler threw: ") + e.what(),
                false};
        }
    }

    /// Reads one request into `r`; false when the connection ended or is unusable.
    static bool read_request(
        connection& c,
        beast::flat_buffer& buffer,
        recorded_request& r,
        bool& keep_alive
    ) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(std::uint64_t{1} << 34U);
        parser.header_limit(1U << 20U);
        beast::error_code ec;
        bhttp::read_header(c.socket, buffer, parser, ec);
        if (ec) return false;
        if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
            bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, parser.get().version()};
            bhttp::write(c.socket, go_on, ec);
            if (ec) return false;
        }
        bhttp::read(c.socket, buffer, parser, ec);
        if (ec) return false;
        const auto& msg = parser.get();
        r.method = std::string(msg.method_string());
        r.target = std::string(msg.target());
        for (const auto& f : msg)
            r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        r.body = msg.body();
        r.connection = c.id;
        keep_alive = msg.keep_alive();
        return true;
    }

    static bool write_response(connection& c, const recorded_request& r, mock_response&& a, bool keep_alive) {
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(a.status), 11};
        for (const auto& [n, v] : a.headers) res.insert(n, v);
        const bool head = r.method == "HEAD";
        const bool has_length = http::find_header(a.headers, "content-length").has_value();
        if (head) {
            if (!has_length) res.content_length(a.body.size());
        } else {
            res.body() = std::move(a.body);
            if (!has_length) res.prepare_payload();
        }
        res.keep_alive(keep_alive);
        beast::error_code ec;
        if (head) {
            bhttp::response_serializer<bhttp::string_body> sr{res};
            bhttp::write_header(c.socket, sr, ec);
        } else {
            bhttp::write(c.socket, res, ec);
        }
        return !ec;
    }

    void serve(const std::shared_ptr<connection>& c) {
        beast::flat_buffer buffer;
        while (!stopping) {
            recorded_request r;
            bool keep_alive = false;
            if (!read_request(*c, buffer, r, keep_alive)) break;
            {
                const std::lock_guard lock(mutex);
                seen.push_back(r);
                max_in_flight = std::max(max_in_flight, ++in_flight);
            }
            changed.notify_all();
            mock_response a = answer(r);
            {
                const std::lock_guard lock(mutex);
                --in_flight;
            }
            changed.notify_all();
            if (a.drop_connection) {
                c->close(true);
                return;
            }
            if (!write_response(*c, r, std::move(a), keep_alive) || !keep_alive) break;
        }
        c->close(false);
    }

    void accept_loop() {
        for (std::size_t n = 1; !stopping; ++n) {
            auto c = std::make_shared<connection>(io, n);
            beast::error_code ec;
            acceptor.accept(c->socket, ec);
            if (stopping) return;
            if (ec == asio::error::connection_aborted) continue;  // the peer gave up first
            if (ec) return;
            c->socket.set_option(tcp::no_delay(true), ec);
            const std::lock_guard lock(mutex);
            connections.push_back(c);
            threads.emplace_back([this, c] { serve(c); });
        }
    }
};

http_server_mock::http_server_mock(handler h) : impl_(std::make_unique<impl>()) {
    impl_->on_request = std::move(h);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

http_server_mock::~http_server_mock() {
    impl_->stopping = true;
    beast::error_code ec;
    // Wake the blocking accept with a connection of our own.
    {
        tcp::socket poke(impl_->io);
        poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port), ec);
    }
    impl_->accept_thread.join();
    impl_->acceptor.close(ec);
    std::vector<std::thread> threads;
    {
        const std::lock_guard lock(impl_->mutex);
        for (const auto& c : impl_->connections) c->shutdown();
        threads = std::move(impl_->threads);
    }
    for (auto& t : threads) t.join();
}

std::uint16_t http_server_mock::port() const noexcept {
    return impl_->port;
}

std::string http_server_mock::url() const {
    return "http://127.0.0.1:" + std::to_string(impl_->port);
}

std::vector<recorded_request> http_server_mock::requests() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->seen;
}

std::size_t http_server_mock::request_count() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->seen.size();
}

std::size_t http_server_mock::connection_count() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->connections.size();
}

int http_server_mock::in_flight() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->in_flight;
}

int http_server_mock::max_in_flight() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->max_in_flight;
}

bool http_server_mock::wait_in_flight(int n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] { return impl_->in_flight >= n; });
}

bool http_server_mock::wait_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] { return impl_->seen.size() >= n; });
}

}  // namespace scar::testing
