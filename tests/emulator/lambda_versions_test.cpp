// Lambda versions and aliases on the scar-emulator program, driven by the aws CLI: published
// versions keep their code and configuration, run in their own environments and survive a
// restart; aliases route (weighted) between versions; asynchronous events of a qualifier use
// that qualifier's event invoke config; reserved concurrency 0 throttles everything at once;
// events outliving their maximum age and failures for SQS/SNS targets land in the dead-letter
// store with the targets named.
//
// The function runs a small shell runtime (written here) that answers with its code marker,
// AWS_LAMBDA_FUNCTION_VERSION, the invoked ARN, its log stream and $GREETING, and fails
// events containing "fail" (destination records excepted).

#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/testing/emulator_process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace http = scar::http;
using namespace std::chrono_literals;
using scar::testing::aws;

constexpr std::string_view runtime_script = R"(#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while :; do
  h=$(mktemp)
  event=$(curl -sS -D "$h" "$api/invocation/next")
  id=$(sed -n 's/^lambda-runtime-aws-request-id: *//Ip' "$h" | tr -d '\r')
  arn=$(sed -n 's/^lambda-runtime-invoked-function-arn: *//Ip' "$h" | tr -d '\r')
  rm -f "$h"
  echo "event $AWS_LAMBDA_FUNCTION_VERSION $event"
  case "$event" in
    *requestContext*) ;;
    *fail*) curl -sS -X POST "$api/invocation/$id/error" -d '{"errorType":"Test.Failure","errorMessage":"told to fail"}' >/dev/null; continue ;;
  esac
  curl -sS -X POST "$api/invocation/$id/response" -d "{\"code\":\"@CODE@\",\"version\":\"$AWS_LAMBDA_FUNCTION_VERSION\",\"arn\":\"$arn\",\"stream\":\"$AWS_LAMBDA_LOG_STREAM_NAME\",\"greeting\":\"$GREETING\"}" >/dev/null
done
)";

const std::string arn_prefix = "arn:aws:lambda:us-east-1:000000000000:function:";

std::string text(const json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

class LambdaVersions : public ::testing::Test {
protected:
    void SetUp() override {
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
        start();
        for (const char* code : {"A", "B"}) zip(code);
    }

    void start() {
        emu_ = std::make_unique<scar::testing::emulator_process>(
            work_.path() / "data",
            std::vector<std::string>{
                "--lambda-retry-delay-ms",
                "20",
                "--lambda-event-age-scale",
                "0.001",  // 60 s of event age: 60 ms
                "--no-fsync"}
        );
    }

    /// code-<marker>.zip: the runtime answering with `marker`.
    void zip(const std::string& marker) {
        std::string script(runtime_script);
        script.replace(script.find("@CODE@"), 6, marker);
        const auto source = work_.path() / ("bootstrap-" + marker);
        std::ofstream(source) << script;
        scar::testing::process_options o;
        o.argv = {
            "python3",
            "-c",
            "import sys,zipfile\n"
            "z=zipfile.ZipFile(sys.argv[1],'w')\n"
            "i=zipfile.ZipInfo('bootstrap'); i.external_attr=0o755<<16\n"
            "z.writestr(i, open(sys.argv[2]).read()); z.close()",
            zip_path(marker),
            source.string()};
        const auto made = scar::testing::run(std::move(o));
        ASSERT_EQ(made.exit_code, 0) << made.err;
    }
    std::string zip_path(const std::string& marker) const {
        return (work_.path() / ("code-" + marker + ".zip")).string();
    }

    json::value cli(std::vector<std::string> args) {
        const auto r = aws(emu_->url(), std::move(args));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return r.out.empty() ? json::value() : json::parse(r.out);
    }
    /// The aws CLI's error output for a refused request.
    std::string refused(std::vector<std::string> args) {
        const auto r = aws(emu_->url(), std::move(args));
        EXPECT_NE(r.exit_code, 0) << r.out;
        return r.err;
    }

    /// CreateFunction with code A and $GREETING (scar's signed client: the aws CLI costs a
    /// second a call, and create-function through it is tested in lambda_test.cpp).
    void create(const std::string& name, const std::string& greeting) {
        std::ifstream in(zip_path("A"), std::ios::binary);
        const std::string zip{std::istreambuf_iterator<char>(in), {}};
        const json::object req{
            {"FunctionName", name},
            {"Runtime", "provided.al2023"},
            {"Handler", "h"},
            {"Role", "arn:aws:iam::000000000000:role/scar"},
            {"Code", {{"ZipFile", scar::encoding::base64_encode(zip)}}},
            {"Environment", {{"Variables", {{"GREETING", greeting}}}}}};
        const auto r = send("POST", "/2015-03-31/functions", json::serialize(req));
        ASSERT_EQ(r.status, 201) << r.body;
    }

    /// PublishVersion (through the aws CLI when `cli_client`): the version's number.
    std::string publish(const std::string& name, bool cli_client = false) {
        if (cli_client)
            return text(cli({"lambda", "publish-version", "--function-name", name}).at("Version"));
        const auto r = send("POST", "/2015-03-31/functions/" + name + "/versions", "{}");
        EXPECT_EQ(r.status, 201) << r.body;
        return text(json::parse(r.body).at("Version"));
    }

    /// Invokes synchronously (through the aws CLI when `cli_client`): the answer's StatusCode
    /// and ExecutedVersion, and the payload.
    std::pair<json::object, json::object> invoke(
        const std::string& name,
        const std::string& qualifier = "",
        bool cli_client = false
    ) {
        if (!cli_client) {
            const auto r = send(
                "POST",
                "/2015-03-31/functions/" + name + "/invocations" +
                    (qualifier.empty() ? "" : "?Qualifier=" + qualifier),
                "{}"
            );
            EXPECT_EQ(r.status, 200) << r.body;
            return {
                json::object{
                    {"StatusCode", r.status},
                    {"ExecutedVersion", std::string(r.header("x-amz-executed-version").value_or(""))}},
                json::parse(r.body).as_object()};
        }
        const auto out = work_.path() / "out.json";
        std::vector<std::string> args = {
            "lambda",
            "invoke",
            "--function-name",
            name,
            "--cli-binary-format",
            "raw-in-base64-out",
            "--payload",
            "{}"};
        if (!qualifier.empty()) args.insert(args.end(), {"--qualifier", qualifier});
        args.push_back(out.string());
        auto meta = cli(std::move(args));
        std::ifstream in(out);
        const std::string body{std::istreambuf_iterator<char>(in), {}};
        return {meta.as_object(), json::parse(body).as_object()};
    }

    /// A request signed for the emulator's Lambda (no retries: a 429 is what is tested).
    http::response send(
        const std::string& method,
        const std::string& path,
        std::string body = {},
        http::header_list headers = {}
    ) {
        http::request req;
        req.method = method;
        req.url = emu_->url() + path;
        req.body = std::move(body);
        req.headers = std::move(headers);
        scar::testing::sign_for_emulator(req, "lambda");
        http::options o;
        o.retry.max_attempts = 1;
        return http::client(o).send(req).value();
    }
    http::response invoke_raw(const std::string& name, const std::string& type, std::string payload) {
        return send(
            "POST",
            "/2015-03-31/functions/" + name + "/invocations",
            std::move(payload),
            {{"X-Amz-Invocation-Type", type}}
        );
    }

    /// The dead-letter store's entries for `name`, once there are `n` (what there is after 20 s).
    json::array dead_letters(const std::string& name, std::size_t n) {
        json::array items;
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (auto pause = 5ms; std::chrono::steady_clock::now() < deadline;
             pause = std::min(pause * 2, 200ms)) {
            const auto r = send("GET", "/_scar/lambda/dead-letters?FunctionName=" + name);
            if (r.status == 200) items = json::parse(r.body).at("DeadLetters").as_array();
            if (items.size() >= n) break;
            std::this_thread::sleep_for(pause);
        }
        return items;
    }

    /// Messages of `name`'s log containing `text`, once there are `n` (what there is after 20 s).
    std::vector<std::string> wait_logs(const std::string& name, const std::string& text, std::size_t n) {
        std::vector<std::string> found;
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (auto pause = 5ms; std::chrono::steady_clock::now() < deadline;
             pause = std::min(pause * 2, 200ms)) {
            found = scar::testing::log_messages(emu_->url(), "/aws/lambda/" + name, text)
                        .value_or(std::vector<std::string>{});
            if (found.size() >= n) break;
            std::this_thread::sleep_for(pause);
        }
        return found;
    }

    scar::testing::temp_dir work_{"scar-lambda-versions"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
};

TEST_F(LambdaVersions, VersionsKeepTheirCodeAndConfigurationAndSurviveARestart) {
    create("fn", "one");
    EXPECT_EQ(publish("fn", true), "1");
    EXPECT_EQ(publish("fn"), "1") << "nothing changed: the existing version, as AWS";
    ASSERT_EQ(
        send(
            "PUT",
            "/2015-03-31/functions/fn/configuration",
            R"({"Environment":{"Variables":{"GREETING":"two"}}})"
        )
            .status,
        200
    );
    EXPECT_EQ(publish("fn"), "2");
    {
        std::ifstream in(zip_path("B"), std::ios::binary);
        const std::string zip{std::istreambuf_iterator<char>(in), {}};
        const auto r = send(
            "PUT",
            "/2015-03-31/functions/fn/code",
            json::serialize(json::object{{"ZipFile", scar::encoding::base64_encode(zip)}})
        );
        ASSERT_EQ(r.status, 200) << r.body;
    }

    const auto [meta1, one] = invoke("fn", "1", true);
    EXPECT_EQ(meta1.at("ExecutedVersion"), "1");
    EXPECT_EQ(one.at("code"), "A");
    EXPECT_EQ(one.at("greeting"), "one");
    EXPECT_EQ(one.at("version"), "1");
    EXPECT_EQ(text(one.at("arn")), arn_prefix + "fn:1");
    EXPECT_TRUE(std::string(one.at("stream").as_string()).find("/[1]") != std::string::npos) << one;
    const auto [meta2, two] = invoke(arn_prefix + "fn:2");
    EXPECT_EQ(meta2.at("ExecutedVersion"), "2");
    EXPECT_EQ(two.at("greeting"), "two");
    EXPECT_EQ(two.at("code"), "A");
    const auto [meta_latest, latest] = invoke("fn");
    EXPECT_EQ(meta_latest.at("ExecutedVersion"), "$LATEST");
    EXPECT_EQ(latest.at("code"), "B");
    EXPECT_EQ(text(latest.at("arn")), arn_prefix + "fn");
    EXPECT_TRUE(std::string(latest.at("stream").as_string()).find("/[$LATEST]") != std::string::npos);
    EXPECT_EQ(wait_logs("fn", "START RequestId", 3).size(), 3U);
    EXPECT_EQ(wait_logs("fn", "Version: 1", 1).size(), 1U);

    const auto cfg =
        cli({"lambda", "get-function-configuration", "--function-name", "fn", "--qualifier", "1"});
    EXPECT_EQ(cfg.at("Version"), "1");
    EXPECT_EQ(text(cfg.at("FunctionArn")), arn_prefix + "fn:1");
    EXPECT_EQ(cfg.at("Environment").at("Variables").at("GREETING"), "one");
    const auto got = json::parse(send("GET", "/2015-03-31/functions/fn:2").body);
    EXPECT_EQ(got.at("Configuration").at("Version"), "2");

    // Paging: $LATEST, 1, 2 in pages of two.
    const auto page =
        cli({"lambda", "list-versions-by-function", "--function-name", "fn", "--max-items", "2"});
    ASSERT_EQ(page.at("Versions").as_array().size(), 2U);
    EXPECT_EQ(page.at("Versions").as_array()[0].at("Version"), "$LATEST");
    const auto rest = cli(
        {"lambda",
         "list-versions-by-function",
         "--function-name",
         "fn",
         "--starting-token",
         std::string(page.at("NextToken").as_string())}
    );
    ASSERT_EQ(rest.at("Versions").as_array().size(), 1U);
    EXPECT_EQ(rest.at("Versions").as_array()[0].at("Version"), "2");

    // Deleting a version: never $LATEST; numbers are never reused.
    EXPECT_EQ(
        send("DELETE", "/2015-03-31/functions/fn?Qualifier=$LATEST").header("x-amzn-errortype").value_or(""),
        "InvalidParameterValueException"
    );
    cli({"lambda", "delete-function", "--function-name", "fn", "--qualifier", "1"});
    EXPECT_EQ(send("GET", "/2015-03-31/functions/fn?Qualifier=1").status, 404);
    EXPECT_EQ(publish("fn"), "3");

    emu_.reset();  // stopped by its PID
    start();
    const auto [after_meta, after] = invoke("fn", "2");
    EXPECT_EQ(after_meta.at("ExecutedVersion"), "2");
    EXPECT_EQ(after.at("greeting"), "two");
    EXPECT_EQ(after.at("code"), "A");
    EXPECT_EQ(invoke("fn", "3").second.at("code"), "B");
    EXPECT_EQ(publish("fn"), "3");
}

TEST_F(LambdaVersions, AliasesRouteBetweenVersions) {
    create("fn", "one");
    ASSERT_EQ(publish("fn"), "1");
    const auto updated = send(
        "PUT",
        "/2015-03-31/functions/fn/configuration",
        R"({"Environment":{"Variables":{"GREETING":"two"}}})"
    );
    ASSERT_EQ(updated.status, 200) << updated.body;
    ASSERT_EQ(publish("fn"), "2");

    // The aws CLI for the calls users make; scar's signed client for the refusals (the
    // error type is what is checked).
    const auto made =
        cli({"lambda", "create-alias", "--function-name", "fn", "--name", "live", "--function-version", "1"});
    EXPECT_EQ(text(made.at("AliasArn")), arn_prefix + "fn:live");
    const auto error_type =
        [this](const std::string& method, const std::string& path, std::string body = {}) {
            return std::string(send(method, path, std::move(body)).header("x-amzn-errortype").value_or(""));
        };
    const std::string aliases = "/2015-03-31/functions/fn/aliases";
    EXPECT_EQ(
        error_type("POST", aliases, R"({"Name":"live","FunctionVersion":"2"})"),
        "ResourceConflictException"
    );
    EXPECT_EQ(
        error_type("POST", aliases, R"({"Name":"x","FunctionVersion":"9"})"),
        "ResourceNotFoundException"
    );
    EXPECT_EQ(error_type("POST", aliases, R"({"Name":"12","FunctionVersion":"1"})"), "ValidationException");
    EXPECT_EQ(json::parse(send("GET", aliases + "/live").body).at("FunctionVersion"), "1");

    const auto [meta, out] = invoke("fn", "live", true);
    EXPECT_EQ(meta.at("ExecutedVersion"), "1");
    EXPECT_EQ(text(out.at("arn")), arn_prefix + "fn:live");
    EXPECT_EQ(out.at("greeting"), "one");
    EXPECT_EQ(invoke(arn_prefix + "fn:live").first.at("ExecutedVersion"), "1");

    // A version an alias points to cannot be deleted.
    EXPECT_EQ(error_type("DELETE", "/2015-03-31/functions/fn?Qualifier=1"), "ResourceConflictException");
    // Weighted routing: one additional version, never with $LATEST.
    EXPECT_EQ(
        error_type(
            "PUT",
            aliases + "/live",
            R"({"FunctionVersion":"$LATEST","RoutingConfig":{"AdditionalVersionWeights":{"1":0.5}}})"
        ),
        "InvalidParameterValueException"
    );
    const auto routed = cli(
        {"lambda",
         "update-alias",
         "--function-name",
         "fn",
         "--name",
         "live",
         "--function-version",
         "2",
         "--routing-config",
         R"({"AdditionalVersionWeights":{"1":0.5}})"}
    );
    EXPECT_EQ(routed.at("RoutingConfig").at("AdditionalVersionWeights").at("1").as_double(), 0.5);
    std::set<std::string> executed;
    for (int i = 0; i < 24 && executed.size() < 2; ++i) {
        const auto r = invoke_raw("fn:live", "RequestResponse", "{}");
        ASSERT_EQ(r.status, 200) << r.body;
        executed.insert(std::string(r.header("x-amz-executed-version").value_or("")));
    }
    EXPECT_EQ(executed, (std::set<std::string>{"1", "2"}));

    const auto list = cli({"lambda", "list-aliases", "--function-name", "fn"});
    ASSERT_EQ(list.at("Aliases").as_array().size(), 1U);
    EXPECT_EQ(send("DELETE", aliases + "/live").status, 204);
    EXPECT_EQ(error_type("GET", aliases + "/live"), "ResourceNotFoundException");
    EXPECT_EQ(send("DELETE", "/2015-03-31/functions/fn?Qualifier=1").status, 204);
}

TEST_F(LambdaVersions, AsyncEventsOfAnAliasUseItsConfigAndQualifiedDestinations) {
    create("fn", "one");
    create("sink", "sink");
    ASSERT_EQ(publish("fn"), "1");
    ASSERT_EQ(publish("sink"), "1");
    cli({"lambda", "create-alias", "--function-name", "fn", "--name", "live", "--function-version", "1"});
    cli(
        {"lambda",
         "put-function-event-invoke-config",
         "--function-name",
         "fn",
         "--qualifier",
         "live",
         "--maximum-retry-attempts",
         "0",
         "--destination-config",
         "OnFailure={Destination=" + arn_prefix + "sink:1}"}
    );
    const auto got =
        cli({"lambda", "get-function-event-invoke-config", "--function-name", "fn", "--qualifier", "live"});
    EXPECT_EQ(text(got.at("FunctionArn")), arn_prefix + "fn:live");
    EXPECT_NE(
        refused({"lambda", "get-function-event-invoke-config", "--function-name", "fn"})
            .find("ResourceNotFoundException"),
        std::string::npos
    );

    const auto r = invoke_raw("fn:live", "Event", R"({"please":"fail"})");
    ASSERT_EQ(r.status, 202) << r.body;
    // One attempt (MaximumRetryAttempts 0 of the alias), then the record to version 1 of sink.
    const auto records = wait_logs("sink", "RetriesExhausted", 1);
    ASSERT_EQ(records.size(), 1U);
    EXPECT_TRUE(records[0].starts_with("event 1 {")) << "version 1 of sink runs it: " << records[0];
    const auto record = json::parse(records[0].substr(records[0].find('{'))).as_object();
    EXPECT_EQ(text(record.at("requestContext").at("functionArn")), arn_prefix + "fn:live");
    EXPECT_EQ(record.at("requestContext").at("approximateInvokeCount"), 1);
    EXPECT_EQ(record.at("responseContext").at("executedVersion"), "1");
    EXPECT_EQ(wait_logs("fn", "event 1 ", 1).size(), 1U);
    const auto dead = dead_letters("fn", 1);
    ASSERT_EQ(dead.size(), 1U);
    EXPECT_EQ(dead[0].at("Qualifier"), "live");
}

TEST_F(LambdaVersions, ReservedConcurrencyZeroThrottlesEveryInvocationAtOnce) {
    create("fn", "one");
    create("sink", "sink");
    ASSERT_EQ(invoke_raw("fn", "RequestResponse", "{}").status, 200);  // a warm environment exists
    cli(
        {"lambda",
         "put-function-concurrency",
         "--function-name",
         "fn",
         "--reserved-concurrent-executions",
         "0"}
    );
    cli(
        {"lambda",
         "put-function-event-invoke-config",
         "--function-name",
         "fn",
         "--destination-config",
         "OnFailure={Destination=" + arn_prefix + "sink}"}
    );

    const auto sync = invoke_raw("fn", "RequestResponse", "{}");
    EXPECT_EQ(sync.status, 429);
    EXPECT_EQ(sync.header("x-amzn-errortype").value_or(""), "TooManyRequestsException");
    EXPECT_EQ(json::parse(sync.body).at("Reason"), "ReservedFunctionConcurrentInvocationLimitExceeded");

    const auto async = invoke_raw("fn", "Event", R"({"n":1})");
    ASSERT_EQ(async.status, 202);
    const auto dead = dead_letters("fn", 1);
    ASSERT_EQ(dead.size(), 1U);
    EXPECT_EQ(dead[0].at("Condition"), "ZeroReservedConcurrency");
    EXPECT_EQ(dead[0].at("Attempts"), 0);
    const auto records = wait_logs("sink", "ZeroReservedConcurrency", 1);
    ASSERT_EQ(records.size(), 1U);
    const auto record = json::parse(records[0].substr(records[0].find('{'))).as_object();
    EXPECT_EQ(record.at("requestContext").at("approximateInvokeCount"), 0);
    EXPECT_FALSE(record.contains("responseContext"));
}

TEST_F(LambdaVersions, EventsPastTheirMaximumAgeAreDeadLetteredWithTheirTargets) {
    create("fn", "one");
    // DeadLetterConfig: validated, stored, returned.
    EXPECT_NE(
        refused({"lambda",
                 "update-function-configuration",
                 "--function-name",
                 "fn",
                 "--dead-letter-config",
                 "TargetArn=arn:aws:s3:::bucket"})
            .find("InvalidParameterValueException"),
        std::string::npos
    );
    const std::string dlq = "arn:aws:sqs:us-east-1:000000000000:failed";
    const std::string bus = "arn:aws:events:us-east-1:000000000000:event-bus/default";
    cli(
        {"lambda",
         "update-function-configuration",
         "--function-name",
         "fn",
         "--dead-letter-config",
         "TargetArn=" + dlq}
    );
    const auto cfg = cli({"lambda", "get-function-configuration", "--function-name", "fn"});
    EXPECT_EQ(text(cfg.at("DeadLetterConfig").at("TargetArn")), dlq);
    // 60 s of age (60 ms at the test's time scale) and retries 20 ms, then 40 ms apart: the
    // second retry would come too late.
    cli(
        {"lambda",
         "put-function-event-invoke-config",
         "--function-name",
         "fn",
         "--maximum-event-age-in-seconds",
         "60",
         "--destination-config",
         "OnFailure={Destination=" + bus + "}"}
    );
    ASSERT_EQ(invoke_raw("fn", "Event", R"({"please":"fail"})").status, 202);
    const auto dead = dead_letters("fn", 1);
    ASSERT_EQ(dead.size(), 1U);
    EXPECT_EQ(dead[0].at("Condition"), "EventAgeExceeded");
    EXPECT_GE(dead[0].at("Attempts").as_int64(), 1);
    EXPECT_LT(dead[0].at("Attempts").as_int64(), 3);
    EXPECT_EQ(dead[0].at("ErrorType"), "Test.Failure");
    EXPECT_EQ(text(dead[0].at("DeadLetterTargetArn")), dlq);
    EXPECT_EQ(text(dead[0].at("OnFailureDestination")), bus);
}

}  // namespace
