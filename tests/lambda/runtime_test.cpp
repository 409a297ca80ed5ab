// scar::lambda::runtime_client on its own transport (no libcurl): the requests it sends to
// a Runtime API on loopback, keep-alive, 6 MB bodies, chunked and read-to-close answers,
// a server that closes idle connections, and its errors.

#include "scar/lambda/runtime.hpp"

#include <scar/testing/http_server_mock.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using scar::lambda::runtime_client;
using scar::testing::http_server_mock;
using scar::testing::mock_response;
using scar::testing::recorded_request;

mock_response next_answer(const std::string& id, std::string body) {
    mock_response r;
    r.headers = {
        {"Lambda-Runtime-Aws-Request-Id", id},
        {"Lambda-Runtime-Deadline-Ms", "4102444800000"},
        {"Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:f"},
        {"Lambda-Runtime-Trace-Id", "Root=1-abc"},
        {"Lambda-Runtime-Client-Context", R"({"custom":{}})"},
        {"Content-Type", "application/json"}};
    r.body = std::move(body);
    return r;
}

/// A loopback server that answers each request with the next of `answers`, raw bytes as
/// given, and closes the connection after it when `close_after` says so: for answers the
/// mock server does not write (chunked, no length) and for closing kept-alive connections.
class raw_server {
public:
    struct answer {
        std::string bytes;
        bool close_after = false;
    };

    explicit raw_server(std::vector<answer> answers) : answers_(std::move(answers)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 8) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("raw_server: cannot listen on 127.0.0.1");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~raw_server() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    raw_server(const raw_server&) = delete;
    raw_server& operator=(const raw_server&) = delete;

    [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] int connections() const { return connections_; }
    [[nodiscard]] std::vector<std::string> requests() const {
        const std::lock_guard l(m_);
        return requests_;
    }

private:
    void serve() {
        std::size_t next = 0;
        while (next < answers_.size()) {
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) return;
            ++connections_;
            std::string in;
            bool open = true;
            while (open && next < answers_.size()) {
                // One request: the header block and its Content-Length body.
                std::size_t end = 0;
                std::size_t need = 0;
                for (;;) {
                    end = in.find("\r\n\r\n");
                    if (end != std::string::npos) {
                        const auto cl = in.find("Content-Length: ");
                        need = end + 4 +
                               (cl != std::string::npos && cl < end ? std::stoul(in.substr(cl + 16)) : 0);
                        if (in.size() >= need) break;
                    }
                    char buf[65536];
                    const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                    if (n <= 0) {
                        open = false;
                        break;
                    }
                    in.append(buf, static_cast<std::size_t>(n));
                }
                if (!open) break;
                {
                    const std::lock_guard l(m_);
                    requests_.push_back(in.substr(0, need));
                }
                in.erase(0, need);
                const answer& a = answers_[next++];
                (void)::send(c, a.bytes.data(), a.bytes.size(), MSG_NOSIGNAL);
                if (a.close_after) open = false;
            }
            ::close(c);
        }
    }

    std::vector<answer> answers_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<int> connections_{0};
    mutable std::mutex m_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

const std::string next_head =
    "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nLambda-Runtime-Deadline-Ms: 1\r\n";
const std::string accepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";

TEST(RuntimeClient, SendsTheRuntimeApiRequestsOnOneKeptAliveConnection) {
    http_server_mock server([](const recorded_request& r) -> mock_response {
        if (r.target.ends_with("/invocation/next")) return next_answer("req-1", R"({"k":1})");
        return {202, {}, R"({"status":"OK"})"};
    });
    runtime_client rt("127.0.0.1:" + std::to_string(server.port()) + "/_runtime/env-1");
    const auto inv = rt.next();
    ASSERT_TRUE(inv) << inv.error().what();
    EXPECT_EQ(inv->request_id, "req-1");
    EXPECT_EQ(inv->deadline_ms, 4102444800000);
    EXPECT_EQ(inv->function_arn, "arn:aws:lambda:us-east-1:000000000000:function:f");
    EXPECT_EQ(inv->trace_id, "Root=1-abc");
    EXPECT_EQ(inv->client_context, R"({"custom":{}})");
    EXPECT_EQ(inv->payload, R"({"k":1})");
    ASSERT_TRUE(rt.respond("req-1", R"({"out":2})"));
    ASSERT_TRUE(rt.fail("req-1", "Script.Failed", "exit 3"));
    ASSERT_TRUE(rt.init_error("ConfigInvalid", "bad toml"));

    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 4U);
    const std::string host = "127.0.0.1:" + std::to_string(server.port());
    EXPECT_EQ(reqs[0].method, "GET");
    EXPECT_EQ(reqs[0].target, "/_runtime/env-1/2018-06-01/runtime/invocation/next");
    EXPECT_EQ(reqs[0].header("Host").value_or(""), host);
    EXPECT_FALSE(reqs[0].header("Content-Length"));
    EXPECT_EQ(reqs[1].method, "POST");
    EXPECT_EQ(reqs[1].target, "/_runtime/env-1/2018-06-01/runtime/invocation/req-1/response");
    EXPECT_EQ(reqs[1].header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(reqs[1].header("Content-Length").value_or(""), "9");
    EXPECT_EQ(reqs[1].body, R"({"out":2})");
    EXPECT_EQ(reqs[2].target, "/_runtime/env-1/2018-06-01/runtime/invocation/req-1/error");
    EXPECT_EQ(reqs[2].header("Lambda-Runtime-Function-Error-Type").value_or(""), "Script.Failed");
    EXPECT_EQ(reqs[2].body, R"({"errorMessage":"exit 3","errorType":"Script.Failed","stackTrace":[]})");
    EXPECT_EQ(reqs[3].target, "/_runtime/env-1/2018-06-01/runtime/init/error");
    EXPECT_EQ(reqs[3].header("Lambda-Runtime-Function-Error-Type").value_or(""), "ConfigInvalid");
    for (const auto& r : reqs) {
        EXPECT_EQ(r.connection, 1U) << r.target;
        EXPECT_FALSE(r.header("Expect")) << r.target;
    }
}

TEST(RuntimeClient, SixMegabytePayloadsBothWays) {
    const std::string big(6 * 1024 * 1024, 'p');
    http_server_mock server([&big](const recorded_request& r) -> mock_response {
        if (r.target.ends_with("/invocation/next")) return next_answer("big", big);
        return {202, {}, "{}"};
    });
    runtime_client rt("127.0.0.1:" + std::to_string(server.port()));
    const auto inv = rt.next();
    ASSERT_TRUE(inv) << inv.error().what();
    EXPECT_EQ(inv->payload, big);
    ASSERT_TRUE(rt.respond("big", big, "application/octet-stream"));
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2U);
    EXPECT_EQ(reqs[1].body, big);
    EXPECT_EQ(reqs[1].header("Content-Type").value_or(""), "application/octet-stream");
}

TEST(RuntimeClient, NextWaitsAsLongAsTheServerHoldsIt) {
    scar::testing::gate release;
    http_server_mock server([&release](const recorded_request& r) -> mock_response {
        if (!release.wait_for(std::chrono::seconds(20))) return {500, {}, "{}"};
        return next_answer("held", r.target);
    });
    runtime_client rt("127.0.0.1:" + std::to_string(server.port()));
    auto pending = std::async(std::launch::async, [&rt] { return rt.next(); });
    ASSERT_TRUE(server.wait_in_flight(1));
    EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
    release.open();
    const auto inv = pending.get();
    ASSERT_TRUE(inv) << inv.error().what();
    EXPECT_EQ(inv->request_id, "held");
}

TEST(RuntimeClient, ApiErrorsCarryTheirTypeAndStatus) {
    http_server_mock server([](const recorded_request&) -> mock_response {
        return {
            403,
            {{"Content-Type", "application/json"}},
            R"({"errorType":"InvalidStateTransition","errorMessage":"an invocation is outstanding"})"};
    });
    runtime_client rt("127.0.0.1:" + std::to_string(server.port()));
    const auto inv = rt.next();
    ASSERT_FALSE(inv);
    EXPECT_EQ(inv.error().code, "InvalidStateTransition");
    EXPECT_EQ(inv.error().http_status, 403);
    EXPECT_NE(inv.error().message.find("an invocation is outstanding"), std::string::npos);
    const auto sent = rt.respond("x", "{}");
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, "InvalidStateTransition");
    EXPECT_NE(sent.error().message.find("Runtime API response"), std::string::npos);
}

TEST(RuntimeClient, ChunkedInterimAndReadToCloseAnswers) {
    raw_server server({
        {"HTTP/1.1 100 Continue\r\n\r\n" + next_head +
         "Transfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n"},
        {accepted},
        {next_head + "Connection: close\r\n\r\nto the end", true},
        {next_head + "Content-Length: 2\r\n\r\nok"},
    });
    runtime_client rt(server.address());
    auto inv = rt.next();
    ASSERT_TRUE(inv) << inv.error().what();
    EXPECT_EQ(inv->payload, R"({"a":1})");
    ASSERT_TRUE(rt.respond("r1", "{}"));
    inv = rt.next();
    ASSERT_TRUE(inv) << inv.error().what();
    EXPECT_EQ(inv->payload, "to the end");
    inv = rt.next();  // on a new connection: the server closed the last one
    ASSERT_TRUE(inv) << inv.error().what();
    EXPECT_EQ(inv->payload, "ok");
    EXPECT_EQ(server.connections(), 2);
}

TEST(RuntimeClient, AConnectionClosedWhileIdleIsReplacedOnce) {
    // The server answers and closes without saying so; the next request finds the kept
    // connection dead and goes out again on a new one.
    raw_server server({
        {next_head + "Content-Length: 1\r\n\r\n1", true},
        {accepted},
    });
    runtime_client rt(server.address());
    ASSERT_TRUE(rt.next());
    const auto sent = rt.respond("r1", R"({"x":1})");
    ASSERT_TRUE(sent) << sent.error().what();
    EXPECT_EQ(server.connections(), 2);
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2U);
    EXPECT_TRUE(reqs[1].starts_with("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\n"));
    EXPECT_TRUE(reqs[1].ends_with("\r\n\r\n{\"x\":1}"));
}

TEST(RuntimeClient, UnreachableOrMalformedApiIsANamedError) {
    int port = 0;
    {
        // A port nothing listens on: bound, then closed.
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), len), 0);
        ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
        port = ntohs(a.sin_port);
        ::close(s);
    }
    runtime_client rt("127.0.0.1:" + std::to_string(port));
    const auto inv = rt.next();
    ASSERT_FALSE(inv);
    EXPECT_EQ(inv.error().code, "NetworkError");
    EXPECT_TRUE(inv.error().retryable);
    EXPECT_NE(
        inv.error().message.find(
            "Runtime API next: GET http://127.0.0.1:" + std::to_string(port) +
            "/2018-06-01/runtime/invocation/next"
        ),
        std::string::npos
    ) << inv.error().message;
    EXPECT_NE(inv.error().message.find("Connection refused"), std::string::npos) << inv.error().message;

    runtime_client bad("127.0.0.1:http");
    const auto e = bad.next();
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, "InvalidRequest");
    EXPECT_NE(e.error().message.find("AWS_LAMBDA_RUNTIME_API '127.0.0.1:http'"), std::string::npos)
        << e.error().message;
}

}  // namespace
