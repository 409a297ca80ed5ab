#include "scar/emulator/server.hpp"

#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "apigw/service.hpp"
#include "batch/service.hpp"
#include "ecr/service.hpp"
#include "lambda/service.hpp"
#include "logs/service.hpp"
#include "router.hpp"
#include "s3/service.hpp"
#include "util.hpp"
#include <fcntl.h>
#include <unistd.h>

namespace scar::emulator {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

constexpr std::chrono::seconds idle_timeout{75};
constexpr std::chrono::seconds io_timeout{300};
/// An unread request body up to this size is read and dropped so the connection can be
/// reused; a longer one closes the connection.
constexpr std::uint64_t drain_limit = 1 << 20;

/// Reads the body of the request being handled, sending `100 Continue` first when the
/// client asked for it.
class session_reader final : public body_reader {
public:
    session_reader(
        beast::tcp_stream& stream,
        beast::flat_buffer& buffer,
        bhttp::request_parser<bhttp::buffer_body>& parser,
        bool expect_continue
    )
        : stream_(stream), buffer_(buffer), parser_(parser), expect_continue_(expect_continue) {
        if (!parser_.chunked() && parser_.content_length()) raw_left_ = *parser_.content_length();
    }

    net::awaitable<result<std::size_t>> read_some(std::span<char> buf) override {
        if (done()) co_return std::size_t{0};
        if (expect_continue_ && !continue_sent_) {
            static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
            stream_.expires_after(io_timeout);
            auto [ec, n] = co_await net::async_write(stream_, net::buffer(cont), use_tuple);
            if (ec) co_return fail(ec);
            continue_sent_ = true;
        }
        arm_timer();
        if (raw_left_) {
            // A Content-Length body is read straight into the caller's buffer: one recv
            // per buffer instead of the parser's 64 KiB steps and a copy.
            if (*raw_left_ == 0) co_return std::size_t{0};
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(*raw_left_, buf.size()));
            std::size_t got = 0;
            if (buffer_.size() != 0) {
                got = net::buffer_copy(net::buffer(buf.data(), want), buffer_.data());
                buffer_.consume(got);
            } else {
                auto [ec, n] = co_await stream_.async_read_some(net::buffer(buf.data(), want), use_tuple);
                if (ec) co_return fail(ec);
                got = n;
            }
            *raw_left_ -= got;
            co_return got;
        }
        while (!parser_.is_done()) {
            parser_.get().body().data = buf.data();
            parser_.get().body().size = buf.size();
            auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, use_tuple);
            if (ec == bhttp::error::need_buffer) ec = {};
            if (ec) co_return fail(ec);
            const std::size_t got = buf.size() - parser_.get().body().size;
            if (got != 0) co_return got;
        }
        co_return std::size_t{0};
    }

    /// True once the whole body was read.
    [[nodiscard]] bool done() const noexcept { return raw_left_ ? *raw_left_ == 0 : parser_.is_done(); }
    [[nodiscard]] bool continue_sent() const noexcept { return continue_sent_; }
    [[nodiscard]] bool failed() const noexcept { return failed_; }

private:
    error fail(const boost::system::error_code& ec) {
        failed_ = true;
        return make_error(
            "IncompleteBody",
            "the request body ended early (" + ec.message() + "); send the whole body",
            400
        );
    }

    /// (Re)arms the read deadline, at most once a second: each change of a timer is a
    /// system call.
    void arm_timer() {
        const auto now = std::chrono::steady_clock::now();
        if (now - armed_ < std::chrono::seconds(1)) return;
        stream_.expires_after(io_timeout);
        armed_ = now;
    }

    beast::tcp_stream& stream_;
    beast::flat_buffer& buffer_;
    bhttp::request_parser<bhttp::buffer_body>& parser_;
    bool expect_continue_;
    bool continue_sent_ = false;
    bool failed_ = false;
    std::optional<std::uint64_t> raw_left_;
    std::chrono::steady_clock::time_point armed_{};
};

void fill_request(exchange& ex, const bhttp::request_parser<bhttp::buffer_body>& parser) {
    const auto& req = parser.get();
    ex.method = std::string(req.method_string());
    ex.target = std::string(req.target());
    const auto q = ex.target.find('?');
    ex.path = ex.target.substr(0, q);
    if (q != std::string::npos) ex.query = ex.target.substr(q + 1);
    ex.params = parse_query(ex.query);
    ex.headers.reserve(16);
    for (const auto& f : req) ex.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    if (const auto len = parser.content_length()) ex.content_length = *len;
    ex.has_body = parser.chunked() || (ex.content_length && *ex.content_length > 0);
}

/// Writes the response on `ex`; false when the connection is no longer usable.
net::awaitable<bool> write_response(beast::tcp_stream& stream, exchange& ex, bool keep_alive) {
    bhttp::response<bhttp::empty_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(ex.status));
    for (const auto& [name, value] : ex.response_headers) res.insert(name, value);
    const bool no_body = ex.status == 204 || ex.status == 304 || (ex.status >= 100 && ex.status < 200);
    std::uint64_t length = ex.response_body.size();
    if (ex.response_file) length = ex.response_file->length;
    if (ex.head_length) length = *ex.head_length;
    if (!no_body) res.content_length(length);
    res.keep_alive(keep_alive);
    bhttp::response_serializer<bhttp::empty_body> sr(res);
    stream.expires_after(io_timeout);
    if (auto [ec, n] = co_await bhttp::async_write_header(stream, sr, use_tuple); ec) co_return false;
    if (no_body || ex.head_length || ex.method == "HEAD") co_return true;
    if (!ex.response_file) {
        auto [ec, n] = co_await net::async_write(stream, net::buffer(ex.response_body), use_tuple);
        co_return !ec;
    }
    const int fd = *ex.response_file->fd;
    std::vector<char> buf(std::min<std::uint64_t>(length, 512 * 1024));
    std::uint64_t offset = ex.response_file->offset;
    std::uint64_t left = length;
    while (left > 0) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        const ssize_t got = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
        if (got <= 0) {
            if (got < 0 && errno == EINTR) continue;
            co_return false;
        }
        stream.expires_after(io_timeout);
        auto [ec, n] = co_await net::async_write(
            stream,
            net::buffer(buf.data(), static_cast<std::size_t>(got)),
            use_tuple
        );
        if (ec) co_return false;
        offset += static_cast<std::uint64_t>(got);
        left -= static_cast<std::uint64_t>(got);
    }
    co_return true;
}

net::awaitable<void> session(beast::tcp_stream stream, std::shared_ptr<router> r) {
    beast::flat_buffer buffer;
    std::string remote;
    {
        boost::system::error_code ec;
        const auto ep = stream.socket().remote_endpoint(ec);
        if (!ec) remote = ep.address().to_string();
    }
    for (;;) {
        bhttp::request_parser<bhttp::buffer_body> parser;
        parser.header_limit(64 * 1024);
        parser.body_limit(boost::none);  // services set their own limits
        stream.expires_after(idle_timeout);
        auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
        if (ec) break;  // closed, idle too long, or not HTTP

        exchange ex;
        fill_request(ex, parser);
        ex.remote_address = remote;
        const bool expect_continue = encoding::iequals(parser.get()[bhttp::field::expect], "100-continue");
        session_reader reader(stream, buffer, parser, expect_continue);
        ex.reader = &reader;
        stream.expires_never();
        co_await r->handle(ex);

        bool keep_alive = parser.get().keep_alive() && !reader.failed();
        if (keep_alive && !reader.done()) {
            if (expect_continue && !reader.continue_sent()) {
                keep_alive = false;  // the client may not send the body it announced
            } else {
                std::array<char, 16384> sink{};
                std::uint64_t drained = 0;
                while (drained <= drain_limit) {
                    auto got = co_await reader.read_some(sink);
                    if (!got || *got == 0) break;
                    drained += *got;
                }
                keep_alive = reader.done();
            }
        }
        if (!co_await write_response(stream, ex, keep_alive) || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

net::awaitable<result<void>> exchange::read_body(
    const std::function<result<void>(std::string_view)>& sink,
    std::uint64_t limit
) {
    if (body) {
        if (body->size() > limit)
            co_return make_error("EntityTooLarge", "the request body is too large", 413);
        co_return sink(*body);
    }
    if (body_consumed) co_return make_error("InternalError", "the request body was already read", 500);
    body_consumed = true;
    if (content_length && *content_length > limit) {
        co_return make_error(
            "EntityTooLarge",
            "the request body of " + std::to_string(*content_length) + " bytes is over the limit of " +
                std::to_string(limit) + " bytes",
            413
        );
    }
    if (!has_body || reader == nullptr) co_return sink({});
    // Not zero-filled: 256 KiB of memset per request shows in profiles.
    const auto buf_ptr = std::make_unique_for_overwrite<char[]>(256 * 1024);
    const std::span<char> buf(buf_ptr.get(), 256 * 1024);
    std::uint64_t total = 0;
    for (;;) {
        auto got = co_await reader->read_some(buf);
        if (!got) co_return got.error();
        if (*got == 0) break;
        total += *got;
        if (total > limit) {
            co_return make_error(
                "EntityTooLarge",
                "the request body is over the limit of " + std::to_string(limit) + " bytes",
                413
            );
        }
        if (auto ok = sink(std::string_view(buf.data(), *got)); !ok) co_return ok.error();
    }
    co_return result<void>{};
}

net::awaitable<result<std::string>> exchange::read_body(std::uint64_t limit) {
    if (body) co_return *body;
    std::string out;
    if (content_length)
        out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*content_length, limit)));
    auto ok = co_await read_body(
        [&out](std::string_view piece) -> result<void> {
            out.append(piece);
            return {};
        },
        limit
    );
    if (!ok) co_return ok.error();
    co_return out;
}

struct server::impl {
    explicit impl(options o) : opts(std::move(o)), ioc(static_cast<int>(thread_count(opts))) {}

    static unsigned thread_count(const options& o) {
        if (o.threads != 0) return o.threads;
        return std::max(2U, std::thread::hardware_concurrency());
    }

    net::awaitable<void> listen() {
        for (;;) {
            auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
            if (ec) {
                if (ec == net::error::operation_aborted || !acceptor->is_open()) co_return;
                log::warn("accept failed: ", ec.message());
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            net::co_spawn(
                acceptor->get_executor(),
                session(beast::tcp_stream(std::move(socket)), routes),
                [](const std::exception_ptr& e) {
                    if (!e) return;
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                        log::error("connection ended by an internal error: ", ex.what());
                    }
                }
            );
        }
    }

    options opts;
    net::io_context ioc;
    std::optional<tcp::acceptor> acceptor;
    std::shared_ptr<router> routes;
    std::vector<std::thread> threads;
    std::uint16_t bound_port = 0;
    std::atomic<bool> running{false};
    std::vector<std::function<void(const s3_notification&)>> notification_sinks;
    std::shared_ptr<lambda::service> lambda;
    std::shared_ptr<ecr::service> ecr;
    std::shared_ptr<batch::service> batch;
};

server::server(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}

server::~server() {
    stop();
}

result<void> server::start() {
    auto& m = *impl_;
    if (m.opts.data_dir.empty()) {
        return make_error("DataDirError", "no data directory given; pass --data-dir DIR");
    }
    std::error_code fs_ec;
    std::filesystem::create_directories(m.opts.data_dir, fs_ec);
    if (fs_ec) {
        return make_error(
            "DataDirError",
            "cannot create the data directory '" + m.opts.data_dir.string() + "': " + fs_ec.message() +
                "; choose a writable --data-dir"
        );
    }

    auto creds = m.opts.credentials;
    sigv4::verifier verifier([creds](std::string_view akid) -> std::optional<aws::credentials> {
        for (const auto& c : creds)
            if (c.access_key_id == akid) return c;
        return std::nullopt;
    });
    m.routes = std::make_shared<router>(std::move(verifier));
    auto s3 = s3::make_service({m.opts.data_dir / "s3", m.opts.region, m.opts.account, m.opts.fsync});
    if (!s3) return s3.error();
    for (auto& sink : m.notification_sinks) (*s3)->add_sink(sink);
    m.routes->add(*s3);
    auto logs = logs::service::open(m.opts.data_dir / "logs", m.opts.region, m.opts.account);
    if (!logs) return logs.error();
    m.routes->add(*logs);
    lambda::settings ls;
    ls.root = m.opts.data_dir / "lambda";
    ls.region = m.opts.region;
    ls.account = m.opts.account;
    ls.account_concurrency = m.opts.lambda_concurrency;
    ls.retry_delay = m.opts.lambda_retry_delay;
    ls.event_age_scale = m.opts.lambda_event_age_scale;
    ls.idle_timeout = m.opts.lambda_idle_timeout;
    ls.fsync = m.opts.fsync;
    if (!m.opts.credentials.empty()) {
        ls.access_key = m.opts.credentials.front().access_key_id;
        ls.secret_key = m.opts.credentials.front().secret_access_key;
    }
    auto ecr_svc = ecr::service::open(
        m.opts.data_dir / "ecr",
        m.opts.region,
        m.opts.account,
        ls.access_key,
        ls.secret_key
    );
    if (!ecr_svc) return ecr_svc.error();
    m.ecr = *ecr_svc;
    m.routes->add(m.ecr);
    m.routes->add_unauthenticated("/v2/", [svc = m.ecr.get()](exchange& ex) {
        return svc->handle_registry(ex);
    });
    auto lambda_svc = lambda::service::open(ls, *logs);
    if (!lambda_svc) return lambda_svc.error();
    m.lambda = *lambda_svc;
    m.routes->add(m.lambda);
    m.routes->add_unauthenticated("/_runtime/", [svc = m.lambda.get()](exchange& ex) {
        return svc->handle_runtime(ex);
    });
    auto apigw_svc = apigw::service::open(
        {m.opts.data_dir / "apigateway", m.opts.region, m.opts.account, m.opts.apigw_integration_timeout},
        m.lambda
    );
    if (!apigw_svc) return apigw_svc.error();
    m.routes->add(*apigw_svc);
    m.routes->add_unauthenticated_if(&apigw::service::is_invoke, [svc = *apigw_svc](exchange& ex) {
        return svc->handle_invoke(ex);
    });
    batch::settings bs;
    bs.root = m.opts.data_dir / "batch";
    bs.region = m.opts.region;
    bs.account = m.opts.account;
    bs.access_key = ls.access_key;
    bs.secret_key = ls.secret_key;
    bs.host_vcpus = m.opts.batch_vcpus;
    bs.host_memory_mib = m.opts.batch_memory_mib;
    bs.kill_grace = m.opts.batch_kill_grace;
    bs.fsync = m.opts.fsync;
    auto batch_svc = batch::service::open(bs, *logs);
    if (!batch_svc) return batch_svc.error();
    m.batch = *batch_svc;
    m.routes->add(m.batch);
    // S3 notifications to functions become asynchronous invocations.
    (*s3)->add_sink([svc = m.lambda.get()](const s3_notification& n) {
        if (n.kind == "CloudFunction" && !svc->invoke_event(n.destination, n.payload)) {
            log::warn(
                "s3: notification for ",
                n.bucket,
                "/",
                n.key,
                " names ",
                n.destination,
                ", which does not exist"
            );
        }
    });

    boost::system::error_code ec;
    const auto address = net::ip::make_address(m.opts.host, ec);
    if (ec) {
        return make_error(
            "InvalidParameterValue",
            "'" + m.opts.host + "' is not an IP address; use --host 127.0.0.1 (or another local address)"
        );
    }
    tcp::acceptor acc(m.ioc);
    const tcp::endpoint ep(address, m.opts.port);
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        const bool in_use = ec == net::error::address_in_use;
        return make_error(
            in_use ? "AddressInUse" : "ListenFailed",
            "cannot listen on " + m.opts.host + ":" + std::to_string(m.opts.port) + ": " + ec.message() +
                (in_use ? "; another emulator may be running (scar local status), or pick a port with --port"
                        : "")
        );
    }
    m.bound_port = acc.local_endpoint().port();
    m.ecr->set_registry_host(
        (m.opts.host == "0.0.0.0" ? std::string("127.0.0.1") : m.opts.host) + ":" +
        std::to_string(m.bound_port)
    );
    m.lambda->set_runtime(
        (m.opts.host == "0.0.0.0" ? std::string("127.0.0.1") : m.opts.host) + ":" +
            std::to_string(m.bound_port),
        m.ioc.get_executor()
    );
    m.acceptor.emplace(std::move(acc));
    net::co_spawn(m.ioc, m.listen(), net::detached);
    const unsigned n = impl::thread_count(m.opts);
    m.running = true;
    for (unsigned i = 0; i < n; ++i) m.threads.emplace_back([&m] { m.ioc.run(); });
    m.lambda->prepare_images();
    m.batch->start(
        (m.opts.host == "0.0.0.0" ? std::string("127.0.0.1") : m.opts.host) + ":" +
        std::to_string(m.bound_port)
    );
    m.lambda->resume_queue();
    return {};
}

void server::on_s3_notification(std::function<void(const s3_notification&)> sink) {
    impl_->notification_sinks.push_back(std::move(sink));
}

std::uint16_t server::port() const noexcept {
    return impl_->bound_port;
}

std::string server::endpoint() const {
    return "http://" + impl_->opts.host + ":" + std::to_string(impl_->bound_port);
}

void server::stop() {
    auto& m = *impl_;
    if (!m.running.exchange(false)) return;
    net::post(m.ioc, [&m] {
        boost::system::error_code ignored;
        if (m.acceptor) m.acceptor->close(ignored);
    });
    if (m.lambda) m.lambda->stop_all();
    if (m.batch) m.batch->stop();
    m.ioc.stop();
    for (auto& t : m.threads) t.join();
    m.threads.clear();
}

void server::run_until_signal() {
    net::io_context signals_ioc(1);
    net::signal_set signals(signals_ioc, SIGINT, SIGTERM);
    int got = 0;
    signals.async_wait([&got](const boost::system::error_code&, int sig) { got = sig; });
    signals_ioc.run();
    log::info("received ", got == SIGINT ? "SIGINT" : "SIGTERM", ", shutting down");
    stop();
}

}  // namespace scar::emulator
