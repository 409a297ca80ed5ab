// Deploy's Batch parts that need no emulator: the AWS-only checks made before anything is
// created, and `scar log -ri <job id>` reading DescribeJobs and the job's log stream.

#include <scar/deploy/deploy.hpp>
#include <scar/testing/http_server_mock.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

namespace deploy = scar::deploy;
namespace json = boost::json;
using scar::testing::http_server_mock;
using scar::testing::mock_response;
using scar::testing::recorded_request;

deploy::target target_at(const std::string& url, bool local) {
    deploy::target t;
    t.local = local;
    t.credentials = {"test", "test", "", "test"};
    t.lambda_url = t.s3_url = t.logs_url = t.ecr_url = t.batch_url = url;
    return t;
}

TEST(DeployBatch, AwsNeedsSubnetsAndSecurityGroupsBeforeAnythingIsMade) {
    http_server_mock m([](const recorded_request&) { return mock_response{500, {}, "", false}; });
    scar::config::function_definition fn;
    fn.name = "fn";
    fn.image = "busybox";
    fn.mode = scar::config::execution_mode::batch;
    fn.batch.timeout_s = 30;
    fn.batch.environment = {{"AWS_BATCH_X", "1"}};
    const auto r = deploy::init(target_at(m.url(), false), fn, {}, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "ConfigInvalid");
    for (const char* what :
         {"batch.subnets", "batch.security_groups", "attemptDurationSeconds", "AWS_BATCH_X"})
        EXPECT_NE(r.error().message.find(what), std::string::npos) << what << " in " << r.error().message;
    EXPECT_EQ(m.request_count(), 0U);
}

TEST(DeployBatch, JobLogIsTheJobStatusAndItsStream) {
    http_server_mock m([](const recorded_request& r) {
        if (r.target == "/v1/describejobs") {
            const auto ids = json::parse(r.body).at("jobs").as_array();
            if (ids[0] != "job-1") return mock_response{200, {}, R"({"jobs":[]})", false};
            return mock_response{
                200,
                {},
                R"({"jobs":[{"jobId":"job-1","jobName":"fn","status":"SUCCEEDED",
                  "statusReason":"Essential container in task exited",
                  "container":{"exitCode":0,"logStreamName":"fn/default/abc"}}]})",
                false};
        }
        return mock_response{
            200,
            {},
            R"({"events":[{"logStreamName":"fn/default/abc","timestamp":2,"message":"second\n"},
              {"logStreamName":"fn/default/abc","timestamp":1,"message":"first"}],"searchedLogStreams":[]})",
            false};
    });
    const auto t = target_at(m.url(), true);
    auto job = deploy::batch_job_log(t, "job-1");
    ASSERT_TRUE(job) << job.error().what();
    ASSERT_TRUE(*job);
    EXPECT_EQ((*job)->status, "SUCCEEDED");
    EXPECT_EQ((*job)->log_stream, "fn/default/abc");
    ASSERT_EQ((*job)->lines.size(), 2U);
    EXPECT_EQ((*job)->lines[0].message, "first");
    EXPECT_EQ((*job)->lines[1].message, "second");
    const auto logs = m.requests().back();
    EXPECT_EQ(logs.header("X-Amz-Target").value_or(""), "Logs_20140328.FilterLogEvents");
    EXPECT_EQ(
        json::parse(logs.body),
        json::parse(R"({"logGroupName":"/aws/batch/job","logStreamNames":["fn/default/abc"]})")
    );

    auto lambda_request = deploy::batch_job_log(t, "3f1c-not-a-job");
    ASSERT_TRUE(lambda_request);
    EXPECT_FALSE(*lambda_request);
}

}  // namespace
