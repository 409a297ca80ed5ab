// The emulator's Lambda: control plane through the aws CLI, invocations through scar's
// signed client, a custom runtime (tests/emulator/data/echo_bootstrap.sh, sh + curl)
// speaking the Runtime API, and S3 notifications turned into invocations.

#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/testing/emulator_process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace http = scar::http;
using namespace std::chrono_literals;
using scar::testing::aws;

class Lambda : public ::testing::Test {
protected:
    void SetUp() override {
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
        start();
        // The function's zip: the test runtime as `bootstrap`, made with Python's zipfile.
        zip_ = work_.path() / "echo.zip";
        scar::testing::process_options zip_cmd;
        zip_cmd.argv = {
            "python3",
            "-c",
            "import sys,zipfile\n"
            "z=zipfile.ZipFile(sys.argv[1],'w')\n"
            "i=zipfile.ZipInfo('bootstrap'); i.external_attr=0o755<<16\n"
            "z.writestr(i, open(sys.argv[2]).read()); z.close()",
            zip_.string(),
            std::string(SCAR_SOURCE_DIR) + "/tests/emulator/data/echo_bootstrap.sh"};
        const auto made = scar::testing::run(std::move(zip_cmd));
        ASSERT_EQ(made.exit_code, 0) << made.err;
    }

    void start() {
        emu_ = std::make_unique<scar::testing::emulator_process>(
            work_.path() / "data",
            std::vector<std::string>{"--lambda-retry-delay-ms", "50", "--no-fsync"}
        );
    }

    json::value cli(std::vector<std::string> args) {
        const auto r = aws(emu_->url(), std::move(args));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return r.out.empty() ? json::value() : json::parse(r.out);
    }

    void create(const std::string& name, int timeout = 3) {
        cli(
            {"lambda",
             "create-function",
             "--function-name",
             name,
             "--runtime",
             "provided.al2023",
             "--handler",
             "echo.handler",
             "--role",
             "arn:aws:iam::000000000000:role/scar",
             "--zip-file",
             "fileb://" + zip_.string(),
             "--timeout",
             std::to_string(timeout)}
        );
    }

    /// Invoke through scar's signed client.
    http::response invoke(
        const std::string& name,
        std::string payload,
        std::string type = "RequestResponse"
    ) {
        http::request req;
        req.method = "POST";
        req.url = emu_->url() + "/2015-03-31/functions/" + name + "/invocations";
        req.headers = {{"X-Amz-Invocation-Type", std::move(type)}, {"X-Amz-Log-Type", "Tail"}};
        req.body = std::move(payload);
        scar::testing::sign_for_emulator(req, "lambda");
        http::options o;
        o.retry.max_attempts = 1;
        http::client c(o);
        return c.send(req).value();
    }

    /// Log lines of the function containing `text`, waiting until there are at least `n`.
    std::vector<std::string> wait_logs(const std::string& name, const std::string& text, std::size_t n) {
        return wait_logs(name, text, [n](const std::vector<std::string>& found) {
            return found.size() >= n;
        });
    }
    /// The messages of `name`'s log that contain `text`, once `done` says they are enough
    /// (or what there is after 30 s).
    std::vector<std::string> wait_logs(
        const std::string& name,
        const std::string& text,
        const std::function<bool(const std::vector<std::string>&)>& done
    ) {
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        std::vector<std::string> found;
        while (std::chrono::steady_clock::now() < deadline) {
            found.clear();
            const auto r =
                aws(emu_->url(),
                    {"logs",
                     "filter-log-events",
                     "--log-group-name",
                     "/aws/lambda/" + name,
                     "--filter-pattern",
                     "\"" + text + "\""});
            if (r.exit_code == 0) {
                const auto doc = json::parse(r.out);  // kept: a range-for over a temporary's member dangles
                for (const auto& e : doc.at("events").as_array())
                    found.emplace_back(e.at("message").as_string());
                if (done(found)) break;
            }
        }
        return found;
    }

    scar::testing::temp_dir work_{"scar-lambda"};
    fs::path zip_;
    std::unique_ptr<scar::testing::emulator_process> emu_;
};

json::value body_of(const http::response& r) {
    return json::parse(r.body);
}

TEST_F(Lambda, ControlPlaneThroughTheAwsCli) {
    create("echo");
    const auto got = cli({"lambda", "get-function", "--function-name", "echo"});
    EXPECT_EQ(got.at("Configuration").at("State"), "Active");
    EXPECT_EQ(got.at("Configuration").at("Runtime"), "provided.al2023");
    EXPECT_EQ(
        got.at("Configuration").at("FunctionArn"),
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
    const auto dup =
        aws(emu_->url(),
            {"lambda",
             "create-function",
             "--function-name",
             "echo",
             "--runtime",
             "provided.al2023",
             "--handler",
             "h",
             "--role",
             "arn:aws:iam::000000000000:role/r",
             "--zip-file",
             "fileb://" + zip_.string()});
    EXPECT_NE(dup.err.find("ResourceConflictException"), std::string::npos) << dup.err;
    const auto updated = cli(
        {"lambda",
         "update-function-configuration",
         "--function-name",
         "echo",
         "--memory-size",
         "256",
         "--environment",
         "Variables={GREETING=hi}"}
    );
    EXPECT_EQ(updated.at("MemorySize").to_number<int>(), 256);
    EXPECT_EQ(updated.at("Environment").at("Variables").at("GREETING"), "hi");
    EXPECT_EQ(cli({"lambda", "list-functions"}).at("Functions").as_array().size(), 1u);
    cli(
        {"lambda",
         "add-permission",
         "--function-name",
         "echo",
         "--statement-id",
         "s3",
         "--action",
         "lambda:InvokeFunction",
         "--principal",
         "s3.amazonaws.com",
         "--source-arn",
         "arn:aws:s3:::input"}
    );
    const auto policy =
        json::parse(cli({"lambda", "get-policy", "--function-name", "echo"}).at("Policy").as_string());
    EXPECT_EQ(policy.at("Statement").at(0).at("Principal").at("Service"), "s3.amazonaws.com");
    cli(
        {"lambda",
         "put-function-concurrency",
         "--function-name",
         "echo",
         "--reserved-concurrent-executions",
         "2"}
    );
    EXPECT_EQ(
        cli({"lambda", "get-function", "--function-name", "echo"})
            .at("Concurrency")
            .at("ReservedConcurrentExecutions")
            .to_number<int>(),
        2
    );
    // A sync invoke with the CLI, log tail included.
    const auto out = work_.path() / "out.json";
    const auto inv = cli(
        {"lambda",
         "invoke",
         "--function-name",
         "echo",
         "--cli-binary-format",
         "raw-in-base64-out",
         "--payload",
         R"({"hello":"world"})",
         "--log-type",
         "Tail",
         out.string()}
    );
    EXPECT_EQ(inv.at("StatusCode").to_number<int>(), 200);
    const auto log = scar::encoding::base64_decode(inv.at("LogResult").as_string()).value();
    EXPECT_NE(log.find("START RequestId: "), std::string::npos) << log;
    EXPECT_NE(log.find("REPORT RequestId: "), std::string::npos) << log;
    EXPECT_NE(log.find("Init Duration: "), std::string::npos) << log;  // cold start
    std::ifstream in(out);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(json::parse(text).at("echo").at("hello"), "world");
    cli({"lambda", "delete-function", "--function-name", "echo"});
    const auto gone = aws(emu_->url(), {"lambda", "get-function", "--function-name", "echo"});
    EXPECT_NE(gone.err.find("ResourceNotFoundException"), std::string::npos) << gone.err;
}

TEST_F(Lambda, ColdThenWarmReuseAndErrors) {
    create("echo", 2);
    const auto first = invoke("echo", R"({"n":1})");
    ASSERT_EQ(first.status, 200) << first.body;
    const auto second = invoke("echo", R"({"n":2})");
    EXPECT_EQ(body_of(second).at("echo").at("n").to_number<int>(), 2);
    EXPECT_EQ(body_of(first).at("env"), body_of(second).at("env"))
        << "the warm invoke must reuse the environment";
    EXPECT_FALSE(second.header("x-amz-function-error"));
    EXPECT_EQ(body_of(first).at("task_root"), "/var/task");  // zip functions run in a container

    const auto failed = invoke("echo", R"("fail")");
    EXPECT_EQ(failed.status, 200);
    EXPECT_EQ(failed.header("x-amz-function-error").value_or(""), "Unhandled");
    EXPECT_EQ(body_of(failed).at("errorType"), "Failure");

    const auto timed_out = invoke("echo", R"("sleep")");
    EXPECT_EQ(timed_out.header("x-amz-function-error").value_or(""), "Unhandled");
    EXPECT_EQ(body_of(timed_out).at("errorType"), "Sandbox.Timedout");
    EXPECT_NE(timed_out.body.find("Task timed out after 2.00 seconds"), std::string::npos) << timed_out.body;
    const auto after_timeout = invoke("echo", R"({"n":3})");
    EXPECT_NE(body_of(after_timeout).at("env"), body_of(first).at("env"))
        << "a timeout must replace the environment";

    const auto crashed = invoke("echo", R"("crash")");
    EXPECT_EQ(crashed.header("x-amz-function-error").value_or(""), "Unhandled");
    EXPECT_EQ(body_of(crashed).at("errorType"), "Runtime.ExitError");
    EXPECT_NE(crashed.body.find("exit status 3"), std::string::npos) << crashed.body;
    EXPECT_EQ(invoke("echo", R"({"n":4})").status, 200);

    // Output that is not UTF-8 is stored with U+FFFD, as CloudWatch does, and the log stays
    // readable (it once made FilterLogEvents answer JSON no client could parse).
    EXPECT_EQ(invoke("echo", R"("binary")").status, 200);
    const auto binary = wait_logs("echo", "binary output", 1);
    ASSERT_EQ(binary.size(), 1U);
    EXPECT_EQ(binary[0], "\xEF\xBF\xBDPNG\x1A binary output");

    const auto bad = invoke("echo", "not json");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.header("x-amzn-errortype").value_or(""), "InvalidRequestContentException");
    EXPECT_EQ(invoke("missing", "{}").status, 404);
}

TEST_F(Lambda, ReservedConcurrencyThrottlesWith429) {
    // The first invocation sleeps past its timeout; the timeout (counted from when the
    // runtime takes the event) must outlast the wait for its log line below.
    create("echo", 10);
    cli(
        {"lambda",
         "put-function-concurrency",
         "--function-name",
         "echo",
         "--reserved-concurrent-executions",
         "1"}
    );
    std::thread busy([this] { (void)invoke("echo", R"("sleep")"); });
    wait_logs("echo", "handling", 1);  // the first invocation is running
    const auto throttled = invoke("echo", "{}");
    EXPECT_EQ(throttled.status, 429);
    EXPECT_EQ(throttled.header("x-amzn-errortype").value_or(""), "TooManyRequestsException");
    busy.join();
}

TEST_F(Lambda, EventInvocationsRunAndFailuresAreRetriedTwiceThenDeadLettered) {
    create("echo");
    EXPECT_EQ(invoke("echo", R"({"k":"async-ok"})", "Event").status, 202);
    EXPECT_EQ(wait_logs("echo", "handling", 1).size(), 1u);
    EXPECT_EQ(invoke("echo", R"({"k":"async-fail"})", "Event").status, 202);
    const auto attempts = wait_logs("echo", "async-fail", 3);
    EXPECT_EQ(attempts.size(), 3u);  // the first attempt and two retries
    const auto dlq = emu_->data_dir() / "lambda" / "dead-letters.jsonl";
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!fs::exists(dlq) && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    std::ifstream in(dlq);
    std::string line;
    ASSERT_TRUE(std::getline(in, line)) << "no dead-letter record";
    EXPECT_EQ(json::parse(line).at("function"), "echo");
    EXPECT_EQ(wait_logs("echo", "async-fail", 3).size(), 3u) << "no attempt after the dead letter";
}

TEST_F(Lambda, EventInvokeConfigSetsRetriesAndTheFailureDestination) {
    create("echo");
    create("on-failure");
    const auto cfg = cli(
        {"lambda",
         "put-function-event-invoke-config",
         "--function-name",
         "echo",
         "--maximum-retry-attempts",
         "0",
         "--destination-config",
         "OnFailure={Destination=arn:aws:lambda:us-east-1:000000000000:function:on-failure}"}
    );
    EXPECT_EQ(cfg.at("MaximumRetryAttempts").to_number<int>(), 0);
    EXPECT_EQ(
        cli({"lambda", "get-function-event-invoke-config", "--function-name", "echo"})
            .at("DestinationConfig")
            .at("OnFailure")
            .at("Destination"),
        "arn:aws:lambda:us-east-1:000000000000:function:on-failure"
    );
    EXPECT_EQ(invoke("echo", R"({"k":"once-fail"})", "Event").status, 202);
    // The failure record reaches the destination function (whose runtime logs it; it then
    // "fails" on the record's text and is retried itself, so it may log it more than once).
    const auto record = wait_logs("on-failure", "RetriesExhausted", 1);
    ASSERT_GE(record.size(), 1u);
    EXPECT_NE(record[0].find("once-fail"), std::string::npos) << record[0];
    EXPECT_EQ(wait_logs("echo", "once-fail", 1).size(), 1u) << "no retry with MaximumRetryAttempts 0";
    const auto bad =
        aws(emu_->url(),
            {"lambda",
             "put-function-event-invoke-config",
             "--function-name",
             "echo",
             "--maximum-retry-attempts",
             "5"});
    EXPECT_NE(bad.exit_code, 0);
}

TEST_F(Lambda, LayersArePublishedListedAndMountedAtOpt) {
    create("echo");
    const auto layer_zip = work_.path() / "layer.zip";
    scar::testing::process_options z;
    z.argv = {
        "python3",
        "-c",
        "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],'w')\nz.writestr('hello.txt','layer-v1'); "
        "z.close()",
        layer_zip.string()};
    ASSERT_EQ(scar::testing::run(std::move(z)).exit_code, 0);
    const auto published = cli(
        {"lambda",
         "publish-layer-version",
         "--layer-name",
         "greet",
         "--zip-file",
         "fileb://" + layer_zip.string(),
         "--compatible-runtimes",
         "provided.al2023"}
    );
    EXPECT_EQ(published.at("Version").to_number<int>(), 1);
    const std::string arn(published.at("LayerVersionArn").as_string());
    EXPECT_EQ(arn, "arn:aws:lambda:us-east-1:000000000000:layer:greet:1");
    EXPECT_EQ(
        cli({"lambda", "list-layer-versions", "--layer-name", "greet"}).at("LayerVersions").as_array().size(),
        1u
    );
    cli({"lambda", "update-function-configuration", "--function-name", "echo", "--layers", arn});
    EXPECT_EQ(body_of(invoke("echo", "{}")).at("opt"), "layer-v1");
    // A deleted version disappears from the listings but keeps working where it is used.
    cli({"lambda", "delete-layer-version", "--layer-name", "greet", "--version-number", "1"});
    EXPECT_TRUE(
        cli({"lambda", "list-layer-versions", "--layer-name", "greet"}).at("LayerVersions").as_array().empty()
    );
    EXPECT_EQ(body_of(invoke("echo", "{}")).at("opt"), "layer-v1");
    const auto bad =
        aws(emu_->url(), {"lambda", "get-layer-version", "--layer-name", "greet", "--version-number", "1"});
    EXPECT_NE(bad.err.find("ResourceNotFoundException"), std::string::npos) << bad.err;
}

TEST_F(Lambda, QueuedEventsAreDeliveredAfterTheEmulatorIsKilled) {
    create("echo");
    cli(
        {"lambda",
         "put-function-concurrency",
         "--function-name",
         "echo",
         "--reserved-concurrent-executions",
         "1"}
    );
    for (int i = 0; i < 6; ++i) {
        ASSERT_EQ(invoke("echo", R"({"k":"slow-)" + std::to_string(i) + R"("})", "Event").status, 202);
    }
    emu_->process().stop(SIGKILL);  // one event at a time, a second each: most are still queued
    start();
    // At least once: the event running at the kill may be delivered again, so wait for
    // each event, not for six lines.
    const auto seen = [](const std::vector<std::string>& lines, const std::string& marker) {
        return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
            return l.find(marker) != std::string::npos;
        });
    };
    const auto all_seen = [&](const std::vector<std::string>& lines) {
        for (int i = 0; i < 6; ++i)
            if (!seen(lines, "slow-" + std::to_string(i))) return false;
        return true;
    };
    const auto handled = wait_logs("echo", "slow-", all_seen);
    for (int i = 0; i < 6; ++i) {
        const auto marker = "slow-" + std::to_string(i);
        EXPECT_TRUE(seen(handled, marker)) << marker << " was lost";
    }
}

TEST_F(Lambda, S3UploadsInvokeTheFunctionOncePerObject) {
    create("echo");
    ASSERT_EQ(emu_->s3("PUT", "/uploads").status, 200);
    const auto cfg = work_.path() / "n.json";
    std::ofstream(cfg) << R"({"LambdaFunctionConfigurations":[{"Id":"to-echo",
        "LambdaFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:echo","Events":["s3:ObjectCreated:*"]}]})";
    cli(
        {"s3api",
         "put-bucket-notification-configuration",
         "--bucket",
         "uploads",
         "--notification-configuration",
         "file://" + cfg.string()}
    );
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(emu_->s3("PUT", "/uploads/in/" + std::to_string(i) + ".txt", "x").status, 200);
    const auto handled = wait_logs("echo", "ObjectCreated:Put", 20);
    EXPECT_EQ(handled.size(), 20u);
    for (int i = 0; i < 20; ++i) {
        const auto key = "\"in/" + std::to_string(i) + ".txt\"";
        EXPECT_EQ(
            std::count_if(
                handled.begin(),
                handled.end(),
                [&](const std::string& l) { return l.find(key) != std::string::npos; }
            ),
            1
        ) << key;
    }
}

}  // namespace
