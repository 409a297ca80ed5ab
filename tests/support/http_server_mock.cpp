#include "scar/testing/http_server_mock.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

namespace scar::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

struct http_server_mock::impl {
    handler on_request;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::thread accept_thread;
    std::atomic<bool> stopping{false};

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::vector<recorded_request> seen;
    std::vector<std::thread> connections;
    std::vector<std::shared_ptr<tcp::socket>> sockets;
    int in_flight = 0;
    int max_in_flight = 0;

    void serve(const std::shared_ptr<tcp::socket>& socket) {
        beast::flat_buffer buffer;
        beast::error_code ec;
        while (!stopping) {
            beast::http::request_parser<beast::http::string_body> parser;
            parser.body_limit(1ULL << 32U);
            beast::http::read(*socket, buffer, parser, ec);
            if (ec) return;
            const auto& msg = parser.get();
            recorded_request r;
            r.method = std::string(msg.method_string());
            r.target = std::string(msg.target());
            for (const auto& f : msg)
                r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
            r.body = msg.body();
            {
                const std::lock_guard lock(mutex);
                seen.push_back(r);
                max_in_flight = std::max(max_in_flight, ++in_flight);
            }
            changed.notify_all();
            mock_response answer = on_request(r);
            {
                const std::lock_guard lock(mutex);
                --in_flight;
            }
            changed.notify_all();
            if (answer.drop_connection) {
                socket->shutdown(tcp::socket::shutdown_both, ec);
                socket->close(ec);
                return;
            }
            beast::http::response<beast::http::string_body> res{
                static_cast<beast::http::status>(answer.status),
                msg.version()};
            for (const auto& [n, v] : answer.headers) res.set(n, v);
            const bool head = msg.method() == beast::http::verb::head;
            if (head) {
                if (!answer.headers.empty() && http::find_header(answer.headers, "content-length")) {
                    // keep the handler's Content-Length
                } else {
                    res.content_length(answer.body.size());
                }
            } else {
                res.body() = std::move(answer.body);
                res.prepare_payload();
            }
            res.keep_alive(msg.keep_alive());
            if (head) {
                beast::http::response_serializer<beast::http::string_body> sr{res};
                beast::http::write_header(*socket, sr, ec);
            } else {
                beast::http::write(*socket, res, ec);
            }
            if (ec || !msg.keep_alive()) return;
        }
    }

    void accept_loop() {
        while (!stopping) {
            auto socket = std::make_shared<tcp::socket>(io);
            beast::error_code ec;
            acceptor.accept(*socket, ec);
            if (ec || stopping) return;
            const std::lock_guard lock(mutex);
            sockets.push_back(socket);
            connections.emplace_back([this, socket] { serve(socket); });
        }
    }
};

http_server_mock::http_server_mock(handler h) : impl_(std::make_unique<impl>()) {
    impl_->on_request = std::move(h);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

http_server_mock::~http_server_mock() {
    impl_->stopping = true;
    beast::error_code ec;
    // Wake the blocking accept with a connection of our own, then close everything.
    {
        tcp::socket poke(impl_->io);
        poke.connect(impl_->acceptor.local_endpoint(), ec);
    }
    impl_->accept_thread.join();
    impl_->acceptor.close(ec);
    std::vector<std::thread> threads;
    {
        const std::lock_guard lock(impl_->mutex);
        for (auto& s : impl_->sockets) {
            s->shutdown(tcp::socket::shutdown_both, ec);
        }
        threads = std::move(impl_->connections);
    }
    for (auto& t : threads) t.join();
}

std::uint16_t http_server_mock::port() const noexcept {
    return impl_->acceptor.local_endpoint().port();
}

std::string http_server_mock::url() const {
    return "http://127.0.0.1:" + std::to_string(port());
}

std::vector<recorded_request> http_server_mock::requests() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->seen;
}

std::size_t http_server_mock::request_count() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->seen.size();
}

int http_server_mock::max_in_flight() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->max_in_flight;
}

void http_server_mock::wait_in_flight(int n) const {
    std::unique_lock lock(impl_->mutex);
    impl_->changed.wait(lock, [&] { return impl_->in_flight >= n; });
}

}  // namespace scar::testing
