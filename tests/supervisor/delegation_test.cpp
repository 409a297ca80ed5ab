// Delegation to AWS Batch: execution_mode batch (Lambda only submits the job) and
// lambda-batch (delegated when the script runs out of time), against a mock Batch endpoint.

#include <scar/core/encoding.hpp>
#include <scar/supervisor/supervisor.hpp>
#include <scar/testing/http_server_mock.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>

namespace {

namespace sv = scar::supervisor;
namespace fs = std::filesystem;
namespace json = boost::json;
using scar::testing::http_server_mock;
using scar::testing::mock_response;
using scar::testing::recorded_request;
using namespace std::chrono_literals;

mock_response submitted(const recorded_request&) {
    return {
        200,
        {{"Content-Type", "application/json"}},
        R"({"jobArn":"arn:aws:batch:us-east-1:000000000000:job/job-1","jobName":"fn","jobId":"job-1"})",
        false};
}

class Delegation : public ::testing::Test {
protected:
    sv::settings settings(const http_server_mock& batch_endpoint, scar::config::execution_mode mode) {
        sv::settings s;
        s.aws = scar::aws::config_sources::from_map(
            {{"AWS_ACCESS_KEY_ID", "test"},
             {"AWS_SECRET_ACCESS_KEY", "test"},
             {"AWS_REGION", "us-east-1"},
             {"AWS_ENDPOINT_URL", "http://127.0.0.1:1"},
             {"AWS_ENDPOINT_URL_BATCH", batch_endpoint.url()}}
        );
        s.base_env = {"PATH=/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=768"};
        s.temp_root = tmp_.path();
        s.log_group = "/aws/lambda/fn";
        s.log_stream = "2024/05/01/[$LATEST]abc";
        s.on_output = [](std::string_view, bool) {};
        s.function.name = "fn";
        s.function.mode = mode;
        s.function.init_script = task_.path() / "script.sh";
        return s;
    }

    void script(const std::string& text) { std::ofstream(task_.path() / "script.sh") << text; }

    static std::string decoded_body(const sv::reply& r) {
        EXPECT_TRUE(r.ok) << r.error_type << ": " << r.error_message;
        const auto o = json::parse(r.body).as_object();
        EXPECT_EQ(o.at("statusCode"), 200);
        return scar::encoding::base64_decode(o.at("body").as_string()).value();
    }

    /// containerOverrides.environment of a SubmitJob request, as a map.
    static std::map<std::string, std::string> overrides(const recorded_request& r) {
        std::map<std::string, std::string> m;
        const auto body = json::parse(r.body);
        for (const auto& e : body.at("containerOverrides").at("environment").as_array())
            m[std::string(e.at("name").as_string())] = std::string(e.at("value").as_string());
        return m;
    }

    scar::testing::temp_dir tmp_{"scar-deleg-tmp"};
    scar::testing::temp_dir task_{"scar-deleg-task"};
};

TEST_F(Delegation, BatchModeSubmitsTheEventAndRunsNothing) {
    http_server_mock batch(submitted);
    script("touch \"" + (task_.path() / "ran").string() + "\"\n");
    const std::string event =
        R"({"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"in"},"object":{"key":"a.txt"}}}]})";
    const auto r = sv::supervisor(settings(batch, scar::config::execution_mode::batch))
                       .handle({"req-1", event, std::nullopt});
    EXPECT_EQ(decoded_body(r), "Job delegated to batch. Check batch logs with: scar log -n fn -ri job-1");
    EXPECT_EQ(r.delegated_job, "job-1");
    EXPECT_FALSE(fs::exists(task_.path() / "ran")) << "the script runs in the job, not in Lambda";
    EXPECT_TRUE(fs::is_empty(tmp_.path())) << "no input was downloaded";

    ASSERT_EQ(batch.request_count(), 1U);
    const auto req = batch.requests().front();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/v1/submitjob");
    EXPECT_NE(
        req.header("Authorization").value_or("").find("/us-east-1/batch/aws4_request"),
        std::string::npos
    );
    const auto body = json::parse(req.body);
    EXPECT_EQ(body.at("jobName"), "fn");
    EXPECT_EQ(body.at("jobQueue"), "fn");
    EXPECT_EQ(body.at("jobDefinition"), "fn");
    const auto env = overrides(req);
    EXPECT_EQ(env.at("EVENT"), event);
    EXPECT_EQ(env.at("AWS_LAMBDA_REQUEST_ID"), "req-1");
    EXPECT_EQ(env.count("SCRIPT"), 0U);
    EXPECT_EQ(
        json::parse(env.at("CONTEXT")),
        json::parse(R"({"function_name":"fn","memory_limit_in_mb":"768","aws_request_id":"req-1",
            "log_group_name":"/aws/lambda/fn","log_stream_name":"2024/05/01/[$LATEST]abc"})")
    );
}

TEST_F(Delegation, ScriptEventTravelsAsScript) {
    http_server_mock batch(submitted);
    script("true\n");
    const std::string event = R"({"script":")" + scar::encoding::base64_encode("echo hi\n") + R"("})";
    const auto r = sv::supervisor(settings(batch, scar::config::execution_mode::batch))
                       .handle({"req-2", event, std::nullopt});
    ASSERT_TRUE(r.ok) << r.error_message;
    const auto env = overrides(batch.requests().front());
    EXPECT_EQ(env.at("SCRIPT"), scar::encoding::base64_encode("echo hi\n"));
    EXPECT_EQ(env.at("EVENT"), event);
}

TEST_F(Delegation, BatchRefusalIsAFunctionErrorNamingTheQueue) {
    http_server_mock batch([](const recorded_request&) {
        return mock_response{
            400,
            {{"x-amzn-ErrorType", "ClientException"}},
            R"({"message":"job queue 'fn' does not exist"})",
            false};
    });
    script("true\n");
    const auto r = sv::supervisor(settings(batch, scar::config::execution_mode::batch))
                       .handle({"req-3", "{}", std::nullopt});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error_type, "ClientException");
    EXPECT_NE(r.error_message.find("delegating the event to AWS Batch (job queue 'fn')"), std::string::npos)
        << r.error_message;
    EXPECT_NE(r.error_message.find("does not exist"), std::string::npos);
}

TEST_F(Delegation, UnreachableBatchIsAClearError) {
    std::string url;
    {
        const http_server_mock gone(submitted);
        url = gone.url();
    }
    http_server_mock unused(submitted);
    auto s = settings(unused, scar::config::execution_mode::batch);
    s.aws = scar::aws::config_sources::from_map(
        {{"AWS_ACCESS_KEY_ID", "t"},
         {"AWS_SECRET_ACCESS_KEY", "t"},
         {"AWS_REGION", "us-east-1"},
         {"AWS_ENDPOINT_URL_BATCH", url}}
    );
    script("true\n");
    const auto r = sv::supervisor(s).handle({"req-4", "{}", std::nullopt});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error_type, "NetworkError");
}

TEST_F(Delegation, EventTooLargeForBatchIsRefusedBeforeSending) {
    http_server_mock batch(submitted);
    script("true\n");
    const std::string event(30 * 1024, 'x');
    const auto r = sv::supervisor(settings(batch, scar::config::execution_mode::batch))
                       .handle({"req-5", event, std::nullopt});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error_type, "RequestEntityTooLarge");
    EXPECT_EQ(batch.request_count(), 0U);
}

TEST_F(Delegation, LambdaBatchDelegatesWhenTheScriptRunsOutOfTime) {
    http_server_mock batch(submitted);
    script("echo partial > \"$TMP_OUTPUT_DIR/partial.txt\"\nsleep 30\n");
    auto s = settings(batch, scar::config::execution_mode::lambda_batch);
    s.function.timeout_threshold_s = 1;
    scar::config::storage_path out;
    out.bucket = "never";  // the endpoint is closed: an upload attempt would fail the reply
    s.function.outputs = {out};
    const auto deadline = scar::clock::system().now() + 1500ms;
    const auto r = sv::supervisor(s).handle({"req-6", R"({"k":1})", deadline});
    EXPECT_LT(scar::clock::system().now(), deadline);
    EXPECT_EQ(decoded_body(r), "Job delegated to batch. Check batch logs with: scar log -n fn -ri job-1");
    ASSERT_TRUE(r.outcome);
    EXPECT_EQ(r.outcome->how, sv::command_outcome::ending::timed_out);
    EXPECT_TRUE(r.uploads.empty()) << "nothing of the killed run is uploaded";
    ASSERT_EQ(batch.request_count(), 1U);
    EXPECT_EQ(overrides(batch.requests().front()).at("EVENT"), R"({"k":1})");
}

TEST_F(Delegation, LambdaBatchInTimeRunsInLambda) {
    http_server_mock batch(submitted);
    script("echo done\n");
    const auto r = sv::supervisor(settings(batch, scar::config::execution_mode::lambda_batch))
                       .handle({"req-7", "{}", scar::clock::system().now() + 20s});
    EXPECT_EQ(decoded_body(r), "done\n");
    EXPECT_FALSE(r.delegated_job);
    EXPECT_EQ(batch.request_count(), 0U);
}

TEST_F(Delegation, InsideTheJobEveryModeRunsTheScript) {
    http_server_mock batch(submitted);
    script("echo \"in job $EVENT\"\n");
    for (auto mode : {scar::config::execution_mode::batch, scar::config::execution_mode::lambda_batch}) {
        auto s = settings(batch, mode);
        s.where = sv::platform::binary;
        const auto r = sv::supervisor(s).handle({"job-1", R"({"k":2})", std::nullopt});
        EXPECT_EQ(decoded_body(r), "in job {\"k\":2}\n");
    }
    EXPECT_EQ(batch.request_count(), 0U);
}

}  // namespace
