#include "scar/core/http.hpp"

#include <scar/testing/http_server_mock.hpp>
#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

namespace http = scar::http;
using scar::testing::gate;
using scar::testing::http_server_mock;
using scar::testing::mock_response;
using scar::testing::recorded_request;
using namespace std::chrono_literals;

http::options fast_retries(int attempts = 4) {
    http::options o;
    o.retry.max_attempts = attempts;
    o.retry.base_delay = 1ms;
    o.retry.max_delay = 5ms;
    return o;
}

http::request make(std::string method, std::string url) {
    http::request r;
    r.method = std::move(method);
    r.url = std::move(url);
    return r;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

mock_response echo(const recorded_request& r) {
    return {200, {{"X-Method", r.method}, {"X-Target", r.target}}, r.body, false};
}

TEST(HttpHeaders, CaseInsensitiveFindSetRemove) {
    http::header_list h{{"Content-Type", "a"}, {"x-amz-date", "b"}, {"content-type", "c"}};
    EXPECT_EQ(http::find_header(h, "CONTENT-TYPE"), "a");
    http::set_header(h, "Content-type", "d");
    EXPECT_EQ(h.size(), 2U);
    EXPECT_EQ(http::find_header(h, "content-type"), "d");
    http::remove_header(h, "X-AMZ-DATE");
    EXPECT_FALSE(http::find_header(h, "x-amz-date"));
    http::set_header(h, "New", "e");
    EXPECT_EQ(h.back().first, "New");
}

TEST(HttpClient, EveryMethodWithHeadersAndBody) {
    http_server_mock server(echo);
    http::client c;
    for (const std::string method : {"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"}) {
        auto req = make(method, server.url() + "/path/a%20b//c/../d?x=1&y");
        req.headers = {{"X-Custom", "value"}, {"X-Empty", ""}};
        if (method != "GET" && method != "DELETE") req.body = "body of " + method;
        const auto r = c.send(req).value();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.header("x-method"), method);
        EXPECT_EQ(r.header("X-TARGET"), "/path/a%20b//c/../d?x=1&y");  // sent exactly as written
        EXPECT_EQ(r.body, req.body);
        const auto seen = server.requests().back();
        EXPECT_EQ(seen.header("x-custom"), "value");
        EXPECT_EQ(seen.header("x-empty"), "");
        EXPECT_FALSE(seen.header("expect"));
        EXPECT_FALSE(seen.header("accept"));
    }
}

TEST(HttpClient, KeepsTheConnectionAlive) {
    http_server_mock server(echo);
    http::client c;
    for (int i = 0; i < 5; ++i)
        ASSERT_EQ(c.send(make(i % 2 == 0 ? "GET" : "PUT", server.url() + "/")).value().status, 200);
    const auto seen = server.requests();
    ASSERT_EQ(seen.size(), 5U);
    for (const auto& r : seen) EXPECT_EQ(r.connection, 1U);
    EXPECT_EQ(server.connection_count(), 1U);
}

TEST(HttpClient, CallerHostAndExpectHeadersWin) {
    http_server_mock server(echo);
    http::client c;
    auto req = make("PUT", server.url() + "/k");
    req.headers = {
        {"Host", "bucket.example.com"},
        {"Expect", "100-continue"},
        {"Accept", "application/json"}};
    req.body = "payload";
    const auto r = c.send(req).value();
    // The interim "100 Continue" leaves no trace: status and headers are the final answer's.
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "payload");
    EXPECT_EQ(r.header("x-method"), "PUT");
    EXPECT_EQ(
        std::count_if(
            r.headers.begin(),
            r.headers.end(),
            [](const auto& h) { return h.first == "X-Method"; }
        ),
        1
    );
    const auto seen = server.requests().back();
    EXPECT_EQ(seen.header("host"), "bucket.example.com");
    EXPECT_EQ(seen.header("expect"), "100-continue");
    EXPECT_EQ(seen.header("accept"), "application/json");
    EXPECT_EQ(seen.header("content-length"), "7");
}

TEST(HttpClient, HeadHasNoBodyAndKeepsContentLength) {
    http_server_mock server([](const recorded_request&) {
        return mock_response{200, {{"Content-Length", "1234"}, {"ETag", "\"abc\""}}, "", false};
    });
    http::client c;
    const auto r = c.send(make("HEAD", server.url() + "/k")).value();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-length"), "1234");
    EXPECT_EQ(r.header("etag"), "\"abc\"");
    EXPECT_TRUE(r.body.empty());
    // The connection is still usable after a HEAD.
    EXPECT_EQ(c.send(make("HEAD", server.url() + "/k")).value().status, 200);
}

TEST(HttpClient, EmptyPutSendsContentLengthZero) {
    http_server_mock server(echo);
    http::client c;
    ASSERT_TRUE(c.send(make("PUT", server.url() + "/empty")));
    EXPECT_EQ(server.requests().back().header("content-length"), "0");
    EXPECT_EQ(server.requests().back().body, "");
}

TEST(HttpClient, BodyFromFileSlice) {
    scar::testing::temp_dir dir;
    const auto file = dir.path() / "data.bin";
    std::ofstream(file, std::ios::binary) << "0123456789abcdefghij";
    http_server_mock server(echo);
    http::client c;
    auto req = make("PUT", server.url() + "/part");
    req.body_file = http::file_body{file, 5, 7};
    EXPECT_EQ(c.send(req).value().body, "56789ab");
    req.body_file = http::file_body{file, 15, std::nullopt};
    EXPECT_EQ(c.send(req).value().body, "fghij");
    req.body_file = http::file_body{file, 15, 10};
    const auto past_end = c.send(req);
    ASSERT_FALSE(past_end);
    EXPECT_EQ(past_end.error().code, "InvalidRequest");
    req.body_file = http::file_body{dir.path() / "missing", 0, std::nullopt};
    const auto missing = c.send(req);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "InvalidRequest");
    EXPECT_NE(missing.error().message.find("missing"), std::string::npos);
}

TEST(HttpClient, ErrorStatusIsAResponseNotAnError) {
    http_server_mock server([](const recorded_request&) {
        return mock_response{
            404,
            {{"Content-Type", "application/xml"}},
            "<Error><Code>NoSuchKey</Code></Error>",
            false};
    });
    http::client c;
    const auto r = c.send(make("GET", server.url() + "/nope"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_NE(r->body.find("NoSuchKey"), std::string::npos);
    EXPECT_EQ(server.request_count(), 1U);  // 404 is not retried
}

TEST(HttpClient, ResponseToFileIsAtomic) {
    scar::testing::temp_dir dir;
    const std::string big(3'000'000, 'x');
    std::atomic<int> status{200};
    http_server_mock server([&](const recorded_request&) { return mock_response{status, {}, big, false}; });
    http::client c;
    const auto target = dir.path() / "out.bin";
    const auto r = c.send_to_file(make("GET", server.url() + "/big"), target).value();
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(slurp(target), big);

    // An error status leaves the previous file alone and keeps the error body in memory.
    status = 403;
    const auto denied = c.send_to_file(make("GET", server.url() + "/big"), target).value();
    EXPECT_EQ(denied.status, 403);
    EXPECT_EQ(denied.body.size(), big.size());
    EXPECT_EQ(slurp(target), big);
    // No temporary files are left behind.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(HttpClient, AbortedDownloadLeavesNoPartialFile) {
    scar::testing::temp_dir dir;
    http_server_mock server([](const recorded_request&) {
        return mock_response{200, {}, std::string(2'000'000, 'y'), false};
    });
    http::options o = fast_retries(1);
    std::atomic<int> calls{0};
    o.on_progress = [&](const http::progress& p) { return ++calls < 3 || p.download_now == 0; };
    http::client c(o);
    const auto target = dir.path() / "partial.bin";
    const auto r = c.send_to_file(make("GET", server.url() + "/x"), target);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "Aborted");
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(HttpClient, FailedDownloadLeavesNoFile) {
    scar::testing::temp_dir dir;
    http_server_mock server([](const recorded_request&) { return mock_response{0, {}, "", true}; });
    http::client c(fast_retries(2));
    const auto target = dir.path() / "never.bin";
    const auto dropped = c.send_to_file(make("GET", server.url() + "/x"), target);
    ASSERT_FALSE(dropped);
    EXPECT_EQ(dropped.error().code, "NetworkError");
    EXPECT_EQ(server.request_count(), 2U);
    const auto refused = c.send_to_file(make("GET", "http://127.0.0.1:1/x"), target);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "NetworkError");
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(HttpClient, UnwritableDownloadTargetIsLocalIOError) {
    scar::testing::temp_dir dir;
    http_server_mock server(echo);
    http::client c(fast_retries());
    const auto r = c.send_to_file(make("GET", server.url() + "/x"), dir.path() / "no-such-dir" / "f");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "LocalIOError");
    EXPECT_NE(r.error().message.find("no-such-dir"), std::string::npos);
    EXPECT_EQ(server.request_count(), 1U);  // a local failure is not retried
}

TEST(HttpClient, SinkIsRetriedWhileItHasReceivedNothing) {
    std::atomic<int> calls{0};
    http_server_mock server([&](const recorded_request&) {
        return ++calls == 1 ? mock_response{503, {}, "SlowDown", false}
                            : mock_response{200, {}, "the body", false};
    });
    http::client c(fast_retries());
    std::string got;
    const auto r = c.send_to_sink(make("GET", server.url() + "/s"), [&](std::string_view chunk) {
        got.append(chunk);
        return true;
    });
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(got, "the body");  // the 503 body went to memory, not to the sink
    EXPECT_EQ(calls, 2);
}

TEST(HttpClient, SinkReceivesBodyAndCanAbort) {
    const std::string body(500'000, 'z');
    http_server_mock server([&](const recorded_request&) { return mock_response{200, {}, body, false}; });
    http::client c(fast_retries());
    std::string got;
    const auto r = c.send_to_sink(make("GET", server.url() + "/s"), [&](std::string_view chunk) {
        got.append(chunk);
        return true;
    });
    ASSERT_TRUE(r);
    EXPECT_EQ(got, body);
    const auto stopped =
        c.send_to_sink(make("GET", server.url() + "/s"), [](std::string_view) { return false; });
    ASSERT_FALSE(stopped);
    EXPECT_EQ(stopped.error().code, "Aborted");
    EXPECT_EQ(server.request_count(), 2U);  // an abort is not retried
}

TEST(HttpClient, RetriesServerErrorsThenSucceeds) {
    std::atomic<int> calls{0};
    http_server_mock server([&](const recorded_request&) {
        return ++calls < 3 ? mock_response{503, {}, "SlowDown", false} : mock_response{200, {}, "ok", false};
    });
    http::client c(fast_retries());
    const auto r = c.send(make("GET", server.url() + "/")).value();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok");
    EXPECT_EQ(calls, 3);
}

TEST(HttpClient, ExhaustedRetriesReturnTheLastResponse) {
    http_server_mock server([](const recorded_request&) { return mock_response{500, {}, "boom", false}; });
    http::client c(fast_retries(3));
    const auto r = c.send(make("GET", server.url() + "/")).value();
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(server.request_count(), 3U);
}

TEST(HttpClient, RetryDelaysAreCappedByMaxDelay) {
    http_server_mock server([](const recorded_request&) { return mock_response{503, {}, "", false}; });
    http::options o;
    o.retry.max_attempts = 4;
    o.retry.base_delay = 10s;  // uncapped, three retries could wait 70 s
    o.retry.max_delay = 2ms;
    http::client c(o);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(c.send(make("GET", server.url() + "/")).value().status, 503);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(server.request_count(), 4U);
}

TEST(HttpClient, CustomRetryOnDecidesWhatIsRetried) {
    std::atomic<int> calls{0};
    http_server_mock server([&](const recorded_request&) {
        return ++calls == 1 ? mock_response{409, {}, "conflict", false} : mock_response{200, {}, "", false};
    });
    http::options o = fast_retries();
    o.retry.retry_on = [](const http::response& r) { return r.status == 409; };
    http::client c(o);
    EXPECT_EQ(c.send(make("GET", server.url() + "/")).value().status, 200);
    EXPECT_EQ(calls, 2);
}

TEST(HttpClient, ClientErrorsAreNotRetried) {
    http_server_mock server([](const recorded_request&) { return mock_response{400, {}, "bad", false}; });
    http::client c(fast_retries());
    EXPECT_EQ(c.send(make("GET", server.url() + "/")).value().status, 400);
    EXPECT_EQ(server.request_count(), 1U);
}

TEST(HttpClient, ConnectionRefusedIsARetryableNetworkError) {
    std::uint16_t port = 0;
    {
        http_server_mock gone(echo);
        port = gone.port();
    }
    std::atomic<int> attempts{0};
    http::options o = fast_retries(3);
    o.before_send = [&](http::request&) -> scar::result<void> {
        ++attempts;
        return {};
    };
    http::client c(o);
    const auto r = c.send(make("GET", "http://127.0.0.1:" + std::to_string(port) + "/x"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "NetworkError");
    EXPECT_TRUE(r.error().retryable);
    EXPECT_NE(r.error().message.find("GET http://127.0.0.1:"), std::string::npos);
    EXPECT_NE(r.error().message.find("is the server running?"), std::string::npos);
    EXPECT_EQ(attempts, 3);
}

TEST(HttpClient, DroppedConnectionIsRetried) {
    std::atomic<int> calls{0};
    http_server_mock server([&](const recorded_request&) {
        return ++calls == 1 ? mock_response{0, {}, "", true} : mock_response{200, {}, "second", false};
    });
    http::client c(fast_retries());
    EXPECT_EQ(c.send(make("GET", server.url() + "/")).value().body, "second");
    EXPECT_EQ(calls, 2);
}

TEST(HttpClient, TimeoutIsRequestTimeout) {
    gate release;
    http_server_mock server([&](const recorded_request&) {
        release.wait();
        return mock_response{200, {}, "late", false};
    });
    http::options o = fast_retries(1);
    o.timeout = 200ms;
    http::client c(o);
    const auto r = c.send(make("GET", server.url() + "/slow"));
    release.open();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "RequestTimeout");
    EXPECT_TRUE(r.error().retryable);
}

TEST(HttpClient, BeforeSendSignsEveryAttempt) {
    std::atomic<int> calls{0};
    http_server_mock server([&](const recorded_request&) {
        return ++calls < 2 ? mock_response{503, {}, "", false} : mock_response{200, {}, "", false};
    });
    int n = 0;
    http::options o = fast_retries();
    o.before_send = [&](http::request& r) -> scar::result<void> {
        http::set_header(r.headers, "X-Attempt", std::to_string(++n));
        return {};
    };
    http::client c(o);
    ASSERT_TRUE(c.send(make("GET", server.url() + "/")));
    const auto seen = server.requests();
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_EQ(seen[0].header("x-attempt"), "1");
    EXPECT_EQ(seen[1].header("x-attempt"), "2");
    // A failing hook fails the send without sending.
    o.before_send = [](http::request&) -> scar::result<void> {
        return scar::make_error("MissingCredentials", "no");
    };
    http::client failing(o);
    EXPECT_EQ(failing.send(make("GET", server.url() + "/")).error().code, "MissingCredentials");
    EXPECT_EQ(server.request_count(), 2U);
}

TEST(HttpClient, ProgressReportsTotals) {
    const std::string body(1'000'000, 'p');
    http_server_mock server([&](const recorded_request& r) {
        return mock_response{200, {}, r.method == "PUT" ? "" : body, false};
    });
    http::progress last;
    http::options o;
    o.on_progress = [&](const http::progress& p) {
        last = p;
        return true;
    };
    http::client c(o);
    ASSERT_TRUE(c.send(make("GET", server.url() + "/")));
    EXPECT_EQ(last.download_total, body.size());
    EXPECT_EQ(last.download_now, body.size());
    auto put = make("PUT", server.url() + "/");
    put.body = body;
    ASSERT_TRUE(c.send(put));
    EXPECT_EQ(last.upload_total, body.size());
    EXPECT_EQ(last.upload_now, body.size());
}

TEST(HttpClient, ConnectToRedirectsTheConnection) {
    http_server_mock server(echo);
    http::options o;
    o.connect_to = {"bucket.s3.local:80:127.0.0.1:" + std::to_string(server.port())};
    http::client c(o);
    const auto r = c.send(make("GET", "http://bucket.s3.local/key")).value();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(server.requests().back().header("host"), "bucket.s3.local");
}

TEST(HttpClient, SendAllRunsInParallelUpToTheLimit) {
    gate release;
    http_server_mock server([&](const recorded_request& r) {
        release.wait();
        return mock_response{200, {}, r.target, false};
    });
    http::client c;
    std::vector<http::transfer> batch(20);
    for (std::size_t i = 0; i < batch.size(); ++i)
        batch[i].req = make("GET", server.url() + "/" + std::to_string(i));
    std::vector<scar::result<http::response>> results;
    std::thread runner([&] { results = c.send_all(batch, 4); });
    EXPECT_TRUE(server.wait_in_flight(4));  // four at once, then the gate opens for all
    release.open();
    runner.join();
    ASSERT_EQ(results.size(), 20U);
    for (std::size_t i = 0; i < results.size(); ++i) {
        ASSERT_TRUE(results[i]);
        EXPECT_EQ(results[i]->body, "/" + std::to_string(i));  // in the order of the batch
    }
    EXPECT_EQ(server.max_in_flight(), 4);
}

TEST(HttpClient, SendAllRetriesOneTransferWhileOthersGoOn) {
    // The flaky transfer fails twice; its third attempt is held until every other transfer
    // has reached the server. With two slots, that only completes if the others run while
    // the flaky one is being retried (a retry loop that held its slot or stalled the batch
    // would leave the gate shut and the flaky transfer with a 500).
    std::atomic<int> flaky{0};
    std::atomic<int> others{0};
    gate others_seen;
    http_server_mock server([&](const recorded_request& r) {
        if (r.target == "/flaky") {
            if (++flaky <= 2) return mock_response{503, {}, "", false};
            if (!others_seen.wait_for(20s)) return mock_response{500, {}, "the others were held up", false};
            return mock_response{200, {}, r.target, false};
        }
        if (++others == 5) others_seen.open();
        return mock_response{200, {}, r.target, false};
    });
    scar::testing::temp_dir dir;
    http::client c(fast_retries());
    std::vector<http::transfer> batch(6);
    batch[0].req = make("GET", server.url() + "/flaky");
    for (std::size_t i = 1; i < batch.size(); ++i)
        batch[i].req = make("GET", server.url() + "/" + std::to_string(i));
    batch[3].to_file = dir.path() / "three";
    std::string sunk;
    batch[4].to_sink = [&](std::string_view s) {
        sunk.append(s);
        return true;
    };
    const auto results = c.send_all(batch, 2);
    ASSERT_EQ(results.size(), 6U);
    for (const auto& r : results) ASSERT_TRUE(r);
    EXPECT_EQ(results[0]->status, 200);
    EXPECT_EQ(results[0]->body, "/flaky");
    EXPECT_EQ(flaky, 3);
    EXPECT_EQ(slurp(dir.path() / "three"), "/3");
    EXPECT_TRUE(results[3]->body.empty());
    EXPECT_EQ(sunk, "/4");
    EXPECT_EQ(results[5]->body, "/5");
    EXPECT_LE(server.max_in_flight(), 2);
}

TEST(HttpClient, SendAllSignsEveryAttemptAndReusesConnections) {
    std::atomic<int> calls{0};
    http_server_mock server([&](const recorded_request& r) {
        if (r.target == "/0" && ++calls == 1) return mock_response{503, {}, "", false};
        return mock_response{200, {}, std::string(r.header("x-signed").value_or("unsigned")), false};
    });
    http::options o = fast_retries();
    std::atomic<int> signed_count{0};
    o.before_send = [&](http::request& r) -> scar::result<void> {
        http::set_header(r.headers, "X-Signed", std::to_string(++signed_count));
        return {};
    };
    http::client c(o);
    std::vector<http::transfer> batch(8);
    for (std::size_t i = 0; i < batch.size(); ++i)
        batch[i].req = make("GET", server.url() + "/" + std::to_string(i));
    for (const auto& r : c.send_all(batch, 2)) ASSERT_TRUE(r);
    EXPECT_EQ(signed_count, 9);  // eight transfers and one retry
    // A second batch reuses the connections of the first.
    for (const auto& r : c.send_all(batch, 2)) ASSERT_TRUE(r);
    EXPECT_LE(server.connection_count(), 3U);  // two slots, plus one if a 503 closed it
    EXPECT_EQ(server.request_count(), 17U);
}

TEST(HttpClient, SendAllReportsEachFailureInPlace) {
    http_server_mock server(echo);
    http::client c(fast_retries(1));
    std::vector<http::transfer> batch(3);
    batch[0].req = make("GET", server.url() + "/a");
    batch[1].req = make("GET", "http://127.0.0.1:1/refused");
    batch[2].req = make("GET", server.url() + "/c");
    const auto results = c.send_all(batch);
    EXPECT_TRUE(results[0]);
    ASSERT_FALSE(results[1]);
    EXPECT_EQ(results[1].error().code, "NetworkError");
    EXPECT_TRUE(results[2]);
}

}  // namespace
