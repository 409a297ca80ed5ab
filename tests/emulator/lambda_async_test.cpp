// Asynchronous Lambda on the scar-emulator program: destinations (validated as AWS does,
// fed AWS's invocation records), idle environments stopped after --lambda-idle-timeout, and
// the dead-letter store through `scar dlq`.
//
// The functions run a small shell runtime (written by the fixture) that fails an event
// containing $FAIL_ON, so a source function can fail while its destinations do not.

#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/deploy/deploy.hpp>
#include <scar/lambda/client.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/emulator_process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace lambda = scar::lambda;
using namespace std::chrono_literals;

constexpr std::string_view runtime_script = R"(#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while :; do
  h=$(mktemp)
  event=$(curl -sS -D "$h" "$api/invocation/next")
  id=$(sed -n 's/^lambda-runtime-aws-request-id: *//Ip' "$h" | tr -d '\r')
  rm -f "$h"
  echo "event $id $event"
  case "$event" in
    *"${FAIL_ON:-@never@}"*)
      curl -sS -X POST "$api/invocation/$id/error" -d '{"errorType":"Test.Failure","errorMessage":"told to fail"}' >/dev/null ;;
    *)
      curl -sS -X POST "$api/invocation/$id/response" -d "{\"stream\":\"$AWS_LAMBDA_LOG_STREAM_NAME\"}" >/dev/null
      echo "answered $id" ;;
  esac
done
)";

const std::string account_arn = "arn:aws:lambda:us-east-1:000000000000:function:";

class LambdaAsync : public ::testing::Test {
protected:
    void SetUp() override {
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
        // The function's zip, made by cmake (its mode, 0755, goes into the zip).
        fs::create_directories(work_.path() / "code");
        const auto script = work_.path() / "code" / "bootstrap";
        std::ofstream(script) << runtime_script;
        fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
        scar::testing::process_options zip;
        zip.argv = {
            SCAR_CMAKE_COMMAND,
            "-E",
            "tar",
            "cf",
            (work_.path() / "fn.zip").string(),
            "--format=zip",
            "bootstrap"};
        zip.cwd = work_.path() / "code";
        const auto zipped = scar::testing::run(std::move(zip));
        ASSERT_EQ(zipped.exit_code, 0) << zipped.err;
        std::ifstream in(work_.path() / "fn.zip", std::ios::binary);
        zip_.assign(std::istreambuf_iterator<char>(in), {});
    }

    void start(std::vector<std::string> args = {}) {
        args.insert(args.end(), {"--lambda-retry-delay-ms", "20", "--no-fsync"});
        emu_ = std::make_unique<scar::testing::emulator_process>(work_.path() / "data", args);
        // scar finds the running emulator through $SCAR_HOME, as after `scar local up`.
        fs::create_directories(work_.path() / "home");
        std::ofstream(work_.path() / "home" / "emulator.pid") << emu_->process().pid();
        std::ofstream(work_.path() / "home" / "emulator.endpoint") << emu_->url();
        client_ = std::make_unique<lambda::client>(lambda::endpoint{emu_->url(), "us-east-1", creds_});
        target_.credentials = creds_;
        target_.lambda_url = target_.logs_url = target_.s3_url = emu_->url();
    }

    void create(const std::string& name, std::map<std::string, std::string> env = {}) {
        lambda::create_function_request r;
        r.name = name;
        r.role = "arn:aws:iam::000000000000:role/scar";
        r.zip_file = zip_;
        r.environment = std::move(env);
        ASSERT_TRUE(client_->create_function(r));
        ASSERT_TRUE(client_->wait_active(name));
    }

    /// Put (PUT) or Update (POST) FunctionEventInvokeConfig with `body`, signed by scar.
    scar::http::response invoke_config(const std::string& method, const std::string& name, std::string body) {
        scar::http::request req;
        req.method = method;
        req.url = emu_->url() + "/2019-09-25/functions/" + name + "/event-invoke-config";
        req.body = std::move(body);
        req.headers = {{"Content-Type", "application/json"}};
        auto p =
            scar::sigv4::signing_params::make(creds_, "us-east-1", "lambda", scar::clock::system().now());
        (void)scar::sigv4::sign(req, p).value();
        return http_.send(req).value();
    }

    /// The lines of `name`'s log that contain `text`, once there are `n` of them (fewer
    /// after 20 s). Polls the log: a line appearing there is the event waited for.
    std::vector<std::string> wait_log(const std::string& name, const std::string& text, std::size_t n = 1) {
        std::vector<std::string> found;
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (auto pause = 5ms; std::chrono::steady_clock::now() < deadline;
             pause = std::min(pause * 2, 200ms)) {
            found.clear();
            if (auto lines = scar::deploy::logs(target_, name)) {
                for (const auto& l : *lines)
                    if (l.message.find(text) != std::string::npos) found.push_back(l.message);
            }
            if (found.size() >= n) break;
            std::this_thread::sleep_for(pause);
        }
        return found;
    }

    scar::testing::run_result scar(std::vector<std::string> args) {
        scar::testing::process_options o;
        o.argv = {SCAR_CLI_BIN};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        o.env = {
            {"SCAR_HOME", (work_.path() / "home").string()},
            {"HOME", work_.path().string()},
            {"AWS_CONFIG_FILE", "/dev/null"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
        o.unset_env = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL"};
        return scar::testing::run(std::move(o));
    }

    scar::testing::temp_dir work_{"scar-lambda-async"};
    std::string zip_;
    scar::aws::credentials creds_{"test", "test", "", "test"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
    std::unique_ptr<lambda::client> client_;
    scar::deploy::target target_;
    scar::http::client http_;
};

/// The event a log line "event <id> <json>" of the test runtime carries.
json::object event_of(const std::string& line) {
    const auto brace = line.find('{');
    return json::parse(line.substr(brace)).as_object();
}

/// The error type and message of a refused request.
std::pair<std::string, std::string> refusal(const scar::http::response& r) {
    return {
        std::string(r.header("x-amzn-errortype").value_or("")),
        std::string(json::parse(r.body).at("message").as_string())};
}

TEST_F(LambdaAsync, DestinationsAreValidatedAsAwsDoes) {
    start();
    create("src");
    create("sink");
    // The aws CLI, as users configure destinations.
    const auto put = scar::testing::aws(
        emu_->url(),
        {"lambda",
         "put-function-event-invoke-config",
         "--function-name",
         "src",
         "--maximum-retry-attempts",
         "1",
         "--destination-config",
         "OnSuccess={Destination=" + account_arn + "sink},OnFailure={Destination=" + account_arn + "sink}"}
    );
    ASSERT_EQ(put.exit_code, 0) << put.err;
    const auto cfg = json::parse(put.out);
    EXPECT_EQ(
        json::value_to<std::string>(cfg.at("DestinationConfig").at("OnSuccess").at("Destination")),
        account_arn + "sink"
    );
    EXPECT_EQ(json::value_to<std::string>(cfg.at("FunctionArn")), account_arn + "src:$LATEST");
    const auto refused = scar::testing::aws(
        emu_->url(),
        {"lambda",
         "put-function-event-invoke-config",
         "--function-name",
         "src",
         "--destination-config",
         "OnSuccess={Destination=arn:aws:s3:::results}"}
    );
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(
        refused.err.find(
            "(InvalidParameterValueException) when calling the PutFunctionEventInvokeConfig operation: The "
            "provided "
            "destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:s3:::results), "
            "onFailure=null) is invalid."
        ),
        std::string::npos
    ) << refused.err;

    const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
        {R"({"DestinationConfig":{"OnFailure":{"Destination":"not-an-arn"}}})",
         "ValidationException",
         "1 validation error detected: Value 'not-an-arn' at 'destinationConfig.onFailure.destination' "
         "failed "
         "to satisfy constraint: Member must satisfy regular expression pattern: ^$|arn:"},
        {R"({"DestinationConfig":{"OnFailure":{"Destination":"arn:aws:dynamodb:us-east-1:000000000000:table/t"}}})",
         "InvalidParameterValueException",
         "The provided destination config DestinationConfig(onSuccess=null, "
         "onFailure=OnFailure(destination=arn:aws:dynamodb:us-east-1:000000000000:table/t)) is invalid."},
        {R"({"DestinationConfig":{"OnFailure":{"Destination":")" + account_arn + R"(ghost"}}})",
         "InvalidParameterValueException",
         "The destination ARN " + account_arn + "ghost is invalid."},
        {R"({"DestinationConfig":{"OnSuccess":{"Destination":")" + account_arn + R"(src"}}})",
         "InvalidParameterValueException",
         "You can't specify the function as a destination for itself."},
        {R"({"MaximumRetryAttempts":5})",
         "ValidationException",
         "1 validation error detected: Value '5' at 'maximumRetryAttempts' failed to satisfy constraint: "
         "Member "
         "must have value less than or equal to 2"},
        {R"({"MaximumEventAgeInSeconds":30})",
         "ValidationException",
         "1 validation error detected: Value '30' at 'maximumEventAgeInSeconds' failed to satisfy "
         "constraint: "
         "Member must have value greater than or equal to 60"},
        {"{}",
         "InvalidParameterValueException",
         "You must specify at least one of error handling or destination setting."},
    };
    for (const auto& [body, code, message] : cases) {
        for (const char* method : {"PUT", "POST"}) {
            const auto r = invoke_config(method, "src", body);
            const auto [got_code, got_message] = refusal(r);
            EXPECT_EQ(r.status, 400) << body;
            EXPECT_EQ(got_code, code) << body;
            EXPECT_TRUE(got_message.starts_with(message)) << got_message;
        }
    }
    // What the emulator accepts without delivering (SQS, SNS, EventBridge; S3 for failures).
    const auto sqs = invoke_config(
        "POST",
        "src",
        R"({"DestinationConfig":{"OnFailure":{"Destination":"arn:aws:sqs:us-east-1:000000000000:failed"}}})"
    );
    ASSERT_EQ(sqs.status, 200) << sqs.body;
    const auto kept = json::parse(sqs.body);
    EXPECT_EQ(
        kept.at("DestinationConfig").at("OnFailure").at("Destination"),
        "arn:aws:sqs:us-east-1:000000000000:failed"
    );
    EXPECT_EQ(
        json::value_to<std::string>(kept.at("DestinationConfig").at("OnSuccess").at("Destination")),
        account_arn + "sink"
    ) << "Update keeps what it is not given";
    EXPECT_EQ(kept.at("MaximumRetryAttempts").to_number<int>(), 1) << "a refused request changed nothing";
    for (const char* arn :
         {"arn:aws:s3:::failures",
          "arn:aws:sns:us-east-1:000000000000:t",
          "arn:aws:events:us-east-1:000000000000:event-bus/default"}) {
        const auto ok = invoke_config(
            "PUT",
            "src",
            std::string(R"({"DestinationConfig":{"OnFailure":{"Destination":")") + arn + "\"}}}"
        );
        EXPECT_EQ(ok.status, 200) << arn << ": " << ok.body;
    }
    // Update needs a configuration to update.
    const auto none = invoke_config("POST", "sink", R"({"MaximumRetryAttempts":0})");
    EXPECT_EQ(none.status, 404);
    EXPECT_EQ(refusal(none).first, "ResourceNotFoundException");
}

TEST_F(LambdaAsync, DestinationsGetAwsInvocationRecords) {
    start();
    create("src", {{"FAIL_ON", "please-fail"}});
    create("on-success");
    create("on-failure");
    ASSERT_EQ(
        invoke_config(
            "PUT",
            "src",
            R"({"MaximumRetryAttempts":1,"DestinationConfig":{"OnSuccess":{"Destination":")" + account_arn +
                R"(on-success"},"OnFailure":{"Destination":")" + account_arn + R"(on-failure"}}})"
        )
            .status,
        200
    );
    const auto good = client_->invoke("src", R"({"n":"good"})", lambda::invocation_type::event).value();
    const auto bad = client_->invoke("src", R"({"n":"please-fail"})", lambda::invocation_type::event).value();
    ASSERT_EQ(good.status, 202);
    ASSERT_FALSE(good.request_id.empty());

    const auto success = wait_log("on-success", good.request_id);
    ASSERT_EQ(success.size(), 1u) << "the success record reaches on-success once";
    const auto s = event_of(success[0]);
    EXPECT_EQ(s.at("version"), "1.0");
    EXPECT_TRUE(s.contains("timestamp"));
    EXPECT_EQ(json::value_to<std::string>(s.at("requestContext").at("requestId")), good.request_id);
    EXPECT_EQ(
        json::value_to<std::string>(s.at("requestContext").at("functionArn")),
        account_arn + "src:$LATEST"
    );
    EXPECT_EQ(s.at("requestContext").at("condition"), "Success");
    EXPECT_EQ(s.at("requestContext").at("approximateInvokeCount").to_number<int>(), 1);
    EXPECT_EQ(s.at("requestPayload"), json::parse(R"({"n":"good"})"));
    EXPECT_EQ(s.at("responseContext").at("statusCode").to_number<int>(), 200);
    EXPECT_EQ(s.at("responseContext").at("executedVersion"), "$LATEST");
    EXPECT_FALSE(s.at("responseContext").as_object().contains("functionError"));
    EXPECT_TRUE(s.at("responsePayload").as_object().contains("stream")) << "the function's answer";

    const auto failure = wait_log("on-failure", bad.request_id);
    ASSERT_EQ(failure.size(), 1u);
    const auto f = event_of(failure[0]);
    EXPECT_EQ(json::value_to<std::string>(f.at("requestContext").at("requestId")), bad.request_id);
    EXPECT_EQ(f.at("requestContext").at("condition"), "RetriesExhausted");
    EXPECT_EQ(f.at("requestContext").at("approximateInvokeCount").to_number<int>(), 2);
    EXPECT_EQ(f.at("requestPayload"), json::parse(R"({"n":"please-fail"})"));
    EXPECT_EQ(f.at("responseContext").at("functionError"), "Unhandled");
    EXPECT_EQ(f.at("responsePayload").at("errorType"), "Test.Failure");
    EXPECT_EQ(f.at("responsePayload").at("errorMessage"), "told to fail");
    // Both attempts ran with the Invoke's request id, as on AWS.
    EXPECT_EQ(wait_log("src", "START RequestId: " + bad.request_id, 2).size(), 2u);
    EXPECT_TRUE(client_->all_dead_letters("on-success").value().empty());
}

TEST_F(LambdaAsync, IdleEnvironmentsAreStoppedAfterTheIdleTimeout) {
    start({"--lambda-idle-timeout", "2"});
    create("idle");
    const auto stream_of = [](const lambda::invoke_result& r) {
        return std::string(json::parse(r.payload).at("stream").as_string());
    };
    const auto cold = client_->invoke("idle", "{}", lambda::invocation_type::request_response, true).value();
    const auto warm = client_->invoke("idle", "{}", lambda::invocation_type::request_response, true).value();
    EXPECT_NE(cold.log_tail.find("Init Duration"), std::string::npos) << cold.log_tail;
    EXPECT_EQ(warm.log_tail.find("Init Duration"), std::string::npos) << "reused: " << warm.log_tail;
    EXPECT_EQ(stream_of(warm), stream_of(cold));

    // Nothing invokes the function now: the emulator stops the idle environment by itself.
    ASSERT_TRUE(emu_->process().wait_for_output("reclaimed the environment", 20s))
        << emu_->process().stderr_text();
    const auto after = client_->invoke("idle", "{}", lambda::invocation_type::request_response, true).value();
    EXPECT_NE(stream_of(after), stream_of(cold)) << "a new environment";
    EXPECT_NE(after.log_tail.find("Init Duration"), std::string::npos)
        << "a cold start again: " << after.log_tail;
    // The new environment's Logs stream has the cold start's REPORT.
    std::vector<std::string> reports;
    for (const auto& l : scar::deploy::logs(target_, "idle", after.request_id).value())
        if (l.message.starts_with("REPORT") && l.stream == stream_of(after)) reports.push_back(l.message);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].find("Init Duration: "), std::string::npos) << reports[0];
}

TEST_F(LambdaAsync, ScarDlqListsRedrivesAndPurgesDeadLetters) {
    start();
    create("flaky", {{"FAIL_ON", "please-fail"}});
    ASSERT_EQ(invoke_config("PUT", "flaky", R"({"MaximumRetryAttempts":0})").status, 200);
    const auto one =
        client_->invoke("flaky", R"({"n":"please-fail 1"})", lambda::invocation_type::event).value();
    const auto two =
        client_->invoke("flaky", R"({"n":"please-fail 2"})", lambda::invocation_type::event).value();

    json::array listed;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (listed.size() < 2 && std::chrono::steady_clock::now() < deadline) {
        const auto r = scar({"dlq", "-n", "flaky", "--json"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        listed = json::parse(r.out).as_array();  // polling the store: an entry appearing is the event
    }
    ASSERT_EQ(listed.size(), 2u);
    // The two events failed at the same time, in either order.
    const bool one_first = json::value_to<std::string>(listed[0].at("request_id")) == one.request_id;
    const auto& first = listed[one_first ? 0 : 1].as_object();
    EXPECT_EQ(first.at("function"), "flaky");
    EXPECT_EQ(json::value_to<std::string>(first.at("request_id")), one.request_id);
    EXPECT_EQ(first.at("payload"), R"({"n":"please-fail 1"})");
    EXPECT_EQ(first.at("condition"), "RetriesExhausted");
    EXPECT_EQ(first.at("error_type"), "Test.Failure");
    EXPECT_EQ(first.at("error_message"), "told to fail");
    EXPECT_EQ(first.at("attempts").to_number<int>(), 1);
    EXPECT_EQ(json::value_to<std::string>(listed[one_first ? 1 : 0].at("request_id")), two.request_id);
    const std::string first_id(first.at("id").as_string());
    const auto table = scar({"dlq"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("CONDITION"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find(first_id), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("Test.Failure: told to fail"), std::string::npos) << table.out;

    // Durable: the entries outlive an emulator killed with SIGKILL.
    emu_->process().stop(SIGKILL);
    start();
    const auto again = scar({"dlq", "--json"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(json::parse(again.out).as_array(), listed);

    // The function is fixed, the first event redriven: it runs, and leaves the store.
    lambda::configuration_update fix;
    fix.environment = std::map<std::string, std::string>{};
    ASSERT_TRUE(client_->update_configuration("flaky", fix));
    const auto redrive = scar({"dlq", "--id", first_id, "--redrive", "--json"});
    ASSERT_EQ(redrive.exit_code, 0) << redrive.err;
    const auto report = json::parse(redrive.out);
    ASSERT_EQ(report.at("redriven").as_array().size(), 1u) << redrive.out;
    const std::string new_id(report.at("redriven").at(0).at("request_id").as_string());
    EXPECT_EQ(wait_log("flaky", "answered " + new_id).size(), 1u);
    EXPECT_EQ(json::parse(scar({"dlq", "-n", "flaky", "--json"}).out).as_array().size(), 1u);

    const auto unsure = scar({"dlq", "--purge"});
    EXPECT_NE(unsure.exit_code, 0);
    EXPECT_NE(unsure.err.find("say which dead letters to purge"), std::string::npos) << unsure.err;
    const auto purge = scar({"dlq", "-n", "flaky", "--purge"});
    ASSERT_EQ(purge.exit_code, 0) << purge.err;
    EXPECT_NE(purge.out.find("deleted 1 dead letter"), std::string::npos) << purge.out;
    EXPECT_NE(scar({"dlq", "-n", "flaky"}).out.find("no dead letters for flaky"), std::string::npos);

    // AWS has no such store: the verb says so, and what to use there.
    const auto on_aws = scar({"dlq", "--target", "aws"});
    EXPECT_NE(on_aws.exit_code, 0);
    EXPECT_NE(on_aws.err.find("EmulatorOnly"), std::string::npos) << on_aws.err;
    EXPECT_NE(on_aws.err.find("on-failure destination"), std::string::npos) << on_aws.err;
}

}  // namespace
