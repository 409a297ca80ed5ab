// scar::lambda::client against the emulator in-process, with a runtime built on
// scar::lambda::runtime_client (runtime_probe.cpp) as the function.

#include "scar/lambda/client.hpp"

#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/emulator/server.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>
#include <vector>

namespace {

namespace json = boost::json;
namespace lambda = scar::lambda;

class LambdaClient : public ::testing::Test {
protected:
    void SetUp() override {
        start();
        std::ifstream in(SCAR_RUNTIME_PROBE_ZIP, std::ios::binary);
        zip_.assign(std::istreambuf_iterator<char>(in), {});
        ASSERT_FALSE(zip_.empty()) << SCAR_RUNTIME_PROBE_ZIP;
    }

    /// Starts the emulator on the fixture's data directory (again, after `stop`).
    void start() {
        scar::emulator::options o;
        o.port = 0;
        o.data_dir = dir_.path() / "data";
        o.fsync = false;
        o.lambda_retry_delay = std::chrono::milliseconds(10);
        server_ = std::make_unique<scar::emulator::server>(o);
        server_->start().value();
        client_ = std::make_unique<lambda::client>(
            lambda::endpoint{server_->endpoint(), "us-east-1", {"test", "test", "", "test"}}
        );
    }

    void stop() {
        client_.reset();
        server_->stop();
        server_.reset();
    }

    /// A request to the emulator signed for `service`.
    scar::http::response send(
        const std::string& service,
        std::string method,
        const std::string& path,
        std::string body,
        scar::http::header_list headers = {}
    ) {
        scar::http::request req;
        req.method = std::move(method);
        req.url = server_->endpoint() + path;
        req.body = std::move(body);
        req.headers = std::move(headers);
        static const scar::aws::credentials creds{"test", "test", "", ""};
        auto p = scar::sigv4::signing_params::make(creds, "us-east-1", service, scar::clock::system().now());
        (void)scar::sigv4::sign(req, p).value();
        return http_.send(req).value();
    }

    /// One page of FilterLogEvents over `function`'s log for `phrase`; null when it failed.
    json::value filter_logs(
        const std::string& function,
        const std::string& phrase,
        const std::string& token = {}
    ) {
        json::object q{{"logGroupName", "/aws/lambda/" + function}, {"filterPattern", "\"" + phrase + "\""}};
        if (!token.empty()) q["nextToken"] = token;
        const auto r = send(
            "logs",
            "POST",
            "/",
            json::serialize(q),
            {{"X-Amz-Target", "Logs_20140328.FilterLogEvents"},
             {"Content-Type", "application/x-amz-json-1.1"}}
        );
        return r.status == 200 ? json::parse(r.body) : json::value();
    }

    /// The messages of `function`'s log events that contain `phrase` (one page).
    std::vector<std::string> log_lines(const std::string& function, const std::string& phrase) {
        std::vector<std::string> out;
        const auto doc = filter_logs(function, phrase);
        if (doc.is_null()) return out;
        for (const auto& e : doc.at("events").as_array()) out.emplace_back(e.at("message").as_string());
        return out;
    }

    lambda::create_function_request request(const std::string& name) {
        lambda::create_function_request r;
        r.name = name;
        r.role = "arn:aws:iam::000000000000:role/scar";
        r.zip_file = zip_;
        r.timeout_s = 5;
        r.environment = {{"STAGE", "test"}};
        return r;
    }

    scar::testing::temp_dir dir_{"scar-lambda-client"};
    std::unique_ptr<scar::emulator::server> server_;
    std::unique_ptr<lambda::client> client_;
    scar::http::client http_;
    std::string zip_;
};

TEST_F(LambdaClient, CreateInvokeUpdateDelete) {
    const auto created = client_->create_function(request("probe")).value();
    EXPECT_EQ(created.name, "probe");
    EXPECT_EQ(created.arn, "arn:aws:lambda:us-east-1:000000000000:function:probe");
    EXPECT_EQ(created.environment.at("STAGE"), "test");
    const auto active = client_->wait_active("probe").value();
    EXPECT_EQ(active.state, "Active");

    const auto ok =
        client_->invoke("probe", R"({"x":1})", lambda::invocation_type::request_response, true).value();
    EXPECT_EQ(ok.status, 200);
    EXPECT_FALSE(ok.function_error);
    const auto body = json::parse(ok.payload);
    EXPECT_EQ(body.at("echo").at("x").to_number<int>(), 1);
    EXPECT_EQ(body.at("arn"), "arn:aws:lambda:us-east-1:000000000000:function:probe");
    const auto remaining = body.at("remaining_ms").to_number<std::int64_t>();
    EXPECT_GT(remaining, 0);
    EXPECT_LE(remaining, 5000);
    EXPECT_NE(ok.log_tail.find("probe handling " + ok.request_id), std::string::npos) << ok.log_tail;

    const auto failed = client_->invoke("probe", R"("fail")").value();
    EXPECT_EQ(failed.function_error.value_or(""), "Unhandled");
    EXPECT_EQ(json::parse(failed.payload).at("errorType"), "Probe.Failure");

    EXPECT_EQ(client_->invoke("probe", "{}", lambda::invocation_type::dry_run).value().status, 204);
    EXPECT_EQ(client_->invoke("probe", "{}", lambda::invocation_type::event).value().status, 202);

    lambda::configuration_update u;
    u.memory_mb = 512;
    u.timeout_s = 10;
    const auto updated = client_->update_configuration("probe", u).value();
    EXPECT_EQ(updated.memory_mb, 512);
    EXPECT_EQ(updated.timeout_s, 10);
    ASSERT_TRUE(client_->put_concurrency("probe", 3));
    EXPECT_EQ(client_->get_function("probe").value().reserved_concurrency.value_or(-1), 3);
    ASSERT_TRUE(client_->add_permission("probe", "s3-invoke", "s3.amazonaws.com", "arn:aws:s3:::input"));

    ASSERT_TRUE(client_->create_function(request("second")));
    EXPECT_EQ(client_->list_functions().value().size(), 2u);
    const auto dup = client_->create_function(request("second"));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, "ResourceConflictException");

    ASSERT_TRUE(client_->delete_function("probe"));
    const auto gone = client_->get_function("probe");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, "ResourceNotFoundException");
    EXPECT_EQ(gone.error().http_status, 404);
}

TEST_F(LambdaClient, BadRequestsCarryLambdasErrorCodes) {
    auto r = request("bad name!");
    const auto bad = client_->create_function(r);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "ValidationException");
    r = request("badmem");
    r.memory_mb = 64;
    const auto mem = client_->create_function(r);
    ASSERT_FALSE(mem);
    EXPECT_EQ(mem.error().code, "InvalidParameterValueException");
    const auto missing = client_->invoke("nope", "{}");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "ResourceNotFoundException");
}

TEST_F(LambdaClient, TwoThousandS3UploadsInvokeTheFunctionOnceEach) {
    ASSERT_TRUE(client_->create_function(request("fanout")));
    ASSERT_TRUE(client_->wait_active("fanout"));
    ASSERT_EQ(send("s3", "PUT", "/fanout-in", "").status, 200);
    ASSERT_EQ(
        send(
            "s3",
            "PUT",
            "/fanout-in?notification",
            "<NotificationConfiguration><CloudFunctionConfiguration><Id>all</Id><CloudFunction>"
            "arn:aws:lambda:us-east-1:000000000000:function:fanout</CloudFunction><Event>s3:ObjectCreated:*</"
            "Event>"
            "</CloudFunctionConfiguration></NotificationConfiguration>"
        )
            .status,
        200
    );
    constexpr int uploads = 2000;
    for (int i = 0; i < uploads; ++i) {
        ASSERT_EQ(send("s3", "PUT", "/fanout-in/k" + std::to_string(i), "x").status, 200);
    }
    // Wait until the function has handled as many events as were uploaded.
    std::map<std::string, int> seen;
    std::size_t handled = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (std::chrono::steady_clock::now() < deadline) {
        seen.clear();
        handled = 0;
        std::string token;
        do {
            const auto doc = filter_logs("fanout", "probe handling", token);
            if (doc.is_null()) break;
            for (const auto& e : doc.at("events").as_array()) {
                const std::string m(e.at("message").as_string());
                const auto at = m.find("\"key\":\"k");
                if (at == std::string::npos) continue;
                const auto end = m.find('"', at + 8);
                ++seen[m.substr(at + 7, end - at - 7)];
                ++handled;
            }
            token = doc.as_object().contains("nextToken") ? std::string(doc.at("nextToken").as_string()) : "";
        } while (!token.empty());
        if (handled >= uploads) break;
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(uploads)) << "events lost";
    EXPECT_EQ(handled, static_cast<std::size_t>(uploads)) << "events delivered more than once";
}

/// Polls `done` — a state of the emulator a client can observe — until it holds or 20 s pass.
template <class Done>
bool eventually(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (auto pause = std::chrono::milliseconds(2);;
         pause = std::min(pause * 2, std::chrono::milliseconds(100))) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(pause);  // polling: the change it waits for is the event
    }
}

TEST_F(LambdaClient, EventsThatFailEveryAttemptAreKeptWithTheirRequestAndLastError) {
    ASSERT_TRUE(client_->create_function(request("flaky")));
    ASSERT_TRUE(client_->wait_active("flaky"));
    const auto queued =
        client_->invoke("flaky", R"({"job":"fail-1"})", lambda::invocation_type::event).value();
    ASSERT_EQ(queued.status, 202);
    ASSERT_FALSE(queued.request_id.empty());
    std::vector<lambda::dead_letter> kept;
    ASSERT_TRUE(eventually([&] {
        kept = client_->all_dead_letters("flaky").value();
        return !kept.empty();
    }));
    ASSERT_EQ(kept.size(), 1u);
    const auto& d = kept[0];
    EXPECT_EQ(d.function_name, "flaky");
    EXPECT_EQ(d.function_arn, "arn:aws:lambda:us-east-1:000000000000:function:flaky");
    EXPECT_EQ(d.request_id, queued.request_id) << "the Invoke's request id, which every attempt ran with";
    EXPECT_EQ(d.payload, R"({"job":"fail-1"})");
    EXPECT_EQ(d.condition, "RetriesExhausted");
    EXPECT_EQ(d.error_type, "Probe.Failure");
    EXPECT_EQ(d.error_message, "asked to fail");
    EXPECT_EQ(d.attempts, 3);
    // ISO 8601 times of one format compare as the times they name.
    EXPECT_FALSE(d.accepted.empty());
    EXPECT_LE(d.accepted, d.first_attempt);
    EXPECT_LT(d.first_attempt, d.last_attempt) << "the retries waited 10 and 20 ms";
    EXPECT_LE(d.last_attempt, d.dead_lettered);
    EXPECT_EQ(log_lines("flaky", "START RequestId: " + queued.request_id).size(), 3u)
        << "every attempt runs with the Invoke's request id, as on AWS";
}

TEST_F(LambdaClient, DeadLettersArePagedFilteredAndDeleted) {
    for (const char* name : {"alpha", "beta"}) {
        ASSERT_TRUE(client_->create_function(request(name)));
        ASSERT_TRUE(client_->wait_active(name));
    }
    for (int i = 0; i < 5; ++i) {
        const auto r = client_->invoke(
            i < 3 ? "alpha" : "beta",
            R"({"fail":)" + std::to_string(i) + "}",
            lambda::invocation_type::event
        );
        ASSERT_TRUE(r);
    }
    ASSERT_TRUE(eventually([&] { return client_->all_dead_letters().value().size() == 5; }));
    std::vector<std::string> ids;
    std::string marker;
    int pages = 0;
    do {
        const auto page = client_->list_dead_letters("", marker, 2).value();
        EXPECT_LE(page.items.size(), 2u);
        for (const auto& d : page.items) ids.push_back(d.id);
        marker = page.next_marker;
        ++pages;
    } while (!marker.empty() && pages < 10);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(ids.size(), 5u);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "oldest first";
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 5u);
    EXPECT_EQ(client_->all_dead_letters("alpha").value().size(), 3u);
    EXPECT_EQ(
        client_->all_dead_letters("arn:aws:lambda:us-east-1:000000000000:function:beta").value().size(),
        2u
    );
    const auto bad = client_->list_dead_letters("", "", 0);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "InvalidParameterValueException");

    const auto first = client_->all_dead_letters("alpha").value().front().id;
    ASSERT_TRUE(client_->delete_dead_letter(first));
    const auto again = client_->delete_dead_letter(first);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, "ResourceNotFoundException");
    EXPECT_EQ(again.error().http_status, 404);
    EXPECT_EQ(client_->purge_dead_letters("beta").value(), 2u);
    EXPECT_EQ(client_->all_dead_letters().value().size(), 2u);
    EXPECT_EQ(client_->purge_dead_letters().value(), 2u);
    EXPECT_TRUE(client_->all_dead_letters().value().empty());
}

TEST_F(LambdaClient, RedriveQueuesTheEventAgainAndTakesItOutOfTheStore) {
    ASSERT_TRUE(client_->create_function(request("mend")));
    ASSERT_TRUE(client_->wait_active("mend"));
    const auto first =
        client_->invoke("mend", R"({"job":"fail-until-mended"})", lambda::invocation_type::event).value();
    std::vector<lambda::dead_letter> kept;
    ASSERT_TRUE(eventually([&] {
        kept = client_->all_dead_letters("mend").value();
        return !kept.empty();
    }));
    // The function is fixed; the event is sent again.
    lambda::configuration_update fix;
    fix.environment = std::map<std::string, std::string>{{"PROBE_HEALED", "1"}};
    ASSERT_TRUE(client_->update_configuration("mend", fix));
    const auto again = client_->redrive_dead_letter(kept[0].id).value();
    EXPECT_EQ(again.id, kept[0].id);
    EXPECT_EQ(again.function_name, "mend");
    EXPECT_NE(again.request_id, first.request_id) << "a new asynchronous invocation";
    EXPECT_TRUE(client_->all_dead_letters("mend").value().empty()) << "a redriven entry leaves the store";
    EXPECT_TRUE(eventually([&] { return !log_lines("mend", "probe answered " + again.request_id).empty(); }));
    const auto twice = client_->redrive_dead_letter(kept[0].id);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, "ResourceNotFoundException");

    // An entry whose function is gone cannot be redriven, and stays.
    ASSERT_TRUE(client_->create_function(request("doomed")));
    ASSERT_TRUE(client_->wait_active("doomed"));
    ASSERT_TRUE(client_->invoke("doomed", R"({"job":"fail"})", lambda::invocation_type::event));
    ASSERT_TRUE(eventually([&] { return client_->all_dead_letters("doomed").value().size() == 1; }));
    ASSERT_TRUE(client_->delete_function("doomed"));
    const auto report = client_->redrive_dead_letters("doomed").value();
    EXPECT_TRUE(report.redriven.empty());
    ASSERT_EQ(report.failed.size(), 1u);
    EXPECT_EQ(report.failed[0].second.code, "ResourceNotFoundException");
    const auto left = client_->all_dead_letters("doomed").value();
    ASSERT_EQ(left.size(), 1u);
    const auto single = client_->redrive_dead_letter(left[0].id);
    ASSERT_FALSE(single);
    EXPECT_EQ(single.error().code, "ResourceNotFoundException");
    EXPECT_EQ(client_->all_dead_letters("doomed").value().size(), 1u);
}

TEST_F(LambdaClient, TheDeadLetterStoreSurvivesRestartsTornWritesAndConcurrentUse) {
    ASSERT_TRUE(client_->create_function(request("many")));
    ASSERT_TRUE(client_->wait_active("many"));
    constexpr std::size_t events = 10;
    for (std::size_t i = 0; i < events; ++i)
        ASSERT_TRUE(
            client_->invoke("many", R"({"fail":)" + std::to_string(i) + "}", lambda::invocation_type::event)
        );
    ASSERT_TRUE(eventually([&] { return client_->all_dead_letters("many").value().size() == events; }));
    std::vector<std::string> before;
    for (const auto& d : client_->all_dead_letters("many").value()) before.push_back(d.id);

    stop();
    // An emulator killed in the middle of an append leaves half a line behind.
    std::ofstream(dir_.path() / "data" / "lambda" / "dead-letters.jsonl", std::ios::app) << R"({"id":"fff)";
    start();
    std::vector<std::string> after;
    for (const auto& d : client_->all_dead_letters("many").value()) after.push_back(d.id);
    EXPECT_EQ(after, before);

    // Deletions from five clients while three more events fail and are kept.
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(client_->invoke("many", R"({"fail":"late"})", lambda::invocation_type::event));
    std::vector<std::thread> clients;
    for (std::size_t t = 0; t < 5; ++t) {
        clients.emplace_back([this, t, &before] {
            lambda::client c(lambda::endpoint{server_->endpoint(), "us-east-1", {"test", "test", "", "test"}}
            );
            for (std::size_t k = 2 * t; k < 2 * t + 2; ++k) EXPECT_TRUE(c.delete_dead_letter(before[k])) << k;
            EXPECT_TRUE(c.all_dead_letters());
        });
    }
    for (auto& t : clients) t.join();
    std::vector<lambda::dead_letter> left;
    ASSERT_TRUE(eventually([&] {
        left = client_->all_dead_letters("many").value();
        return left.size() == 3;
    }));
    for (const auto& d : left) EXPECT_EQ(d.payload, R"({"fail":"late"})");
}

}  // namespace
