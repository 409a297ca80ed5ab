// Conformance with AWS's own client: for the Batch operations scar sends with the richest
// bodies, the aws CLI's request and scar's for the same parameters agree in method, path,
// content type and JSON body (compared by meaning).

#include <scar/batch/client.hpp>
#include <scar/testing/http_server_mock.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>

namespace {

namespace batch = scar::batch;
namespace json = boost::json;
using scar::testing::http_server_mock;
using scar::testing::mock_response;
using scar::testing::recorded_request;
using namespace std::chrono_literals;

/// The last request the aws CLI sends for `args` to `url` (it is answered `{}`).
recorded_request aws_request(http_server_mock& m, std::vector<std::string> args) {
    scar::testing::process_options o;
    o.argv = {"/usr/bin/aws", "--endpoint-url", m.url(), "batch"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {
        {"AWS_ACCESS_KEY_ID", "test"},
        {"AWS_SECRET_ACCESS_KEY", "test"},
        {"AWS_DEFAULT_REGION", "us-east-1"},
        {"AWS_CONFIG_FILE", "/dev/null"},
        {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
        {"AWS_PAGER", ""}};
    o.unset_env = {"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BATCH"};
    const auto before = m.request_count();
    const auto r = scar::testing::run(std::move(o), 60s);
    EXPECT_GT(m.request_count(), before) << args[0] << ": " << r.err;
    return m.requests().back();
}

void expect_same(const recorded_request& ours, const recorded_request& theirs) {
    SCOPED_TRACE(theirs.target);
    EXPECT_EQ(ours.method, theirs.method);
    EXPECT_EQ(ours.target, theirs.target);
    const auto media = [](const recorded_request& r) {
        std::string v(r.header("Content-Type").value_or(""));
        return v.substr(0, v.find(';'));
    };
    EXPECT_EQ(media(ours), media(theirs));
    EXPECT_EQ(json::parse(ours.body), json::parse(theirs.body))
        << "ours:   " << ours.body << "\ntheirs: " << theirs.body;
}

TEST(BatchConformance, RequestsEqualTheAwsCli) {
    if (!std::filesystem::exists("/usr/bin/aws"))
        GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
    http_server_mock m([](const recorded_request&) {
        return mock_response{200, {{"Content-Type", "application/json"}}, "{}", false};
    });
    batch::client c({m.url(), "us-east-1", {"test", "test", "", "test"}});

    batch::compute_environment_request ce;
    ce.name = "fn";
    ce.resources = batch::compute_resources{};
    ce.resources->type = "SPOT";
    ce.resources->max_vcpus = 4;
    ce.resources->instance_types = {"optimal"};
    ce.resources->subnets = {"subnet-1"};
    ce.resources->security_group_ids = {"sg-1"};
    ce.resources->instance_role = "arn:aws:iam::1:instance-profile/ecsInstanceRole";
    ce.tags = {{"createdby", "scar"}};
    ASSERT_TRUE(c.create_compute_environment(ce));
    expect_same(
        m.requests().back(),
        aws_request(
            m,
            {"create-compute-environment",
             "--compute-environment-name",
             "fn",
             "--type",
             "MANAGED",
             "--state",
             "ENABLED",
             "--compute-resources",
             R"({"type":"SPOT","minvCpus":0,"maxvCpus":4,"instanceTypes":["optimal"],"subnets":["subnet-1"],)"
             R"("securityGroupIds":["sg-1"],"instanceRole":"arn:aws:iam::1:instance-profile/ecsInstanceRole"})",
             "--tags",
             "createdby=scar"}
        )
    );

    ASSERT_TRUE(c.create_job_queue({.name = "fn", .priority = 1, .compute_environments = {{1, "fn"}}}));
    expect_same(
        m.requests().back(),
        aws_request(
            m,
            {"create-job-queue",
             "--job-queue-name",
             "fn",
             "--priority",
             "1",
             "--state",
             "ENABLED",
             "--compute-environment-order",
             "order=1,computeEnvironment=fn"}
        )
    );

    batch::job_definition_request jd;
    jd.name = "fn";
    jd.container.image = "000000000000.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:ab";
    jd.container.environment = {{"FUNCTION_CONFIG", "dG9tbA=="}, {"K", "V"}};
    jd.container.vcpus = 1;
    jd.container.memory_mb = 256;
    jd.attempts = 2;
    jd.timeout_s = 120;
    ASSERT_TRUE(c.register_job_definition(jd));
    expect_same(
        m.requests().back(),
        aws_request(
            m,
            {"register-job-definition",
             "--job-definition-name",
             "fn",
             "--type",
             "container",
             "--container-properties",
             R"({"image":"000000000000.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:ab",)"
             R"("resourceRequirements":[{"type":"VCPU","value":"1"},{"type":"MEMORY","value":"256"}],)"
             R"("environment":[{"name":"FUNCTION_CONFIG","value":"dG9tbA=="},{"name":"K","value":"V"}]})",
             "--retry-strategy",
             "attempts=2",
             "--timeout",
             "attemptDurationSeconds=120"}
        )
    );

    batch::submit_job_request sj;
    sj.name = sj.queue = sj.definition = "fn";
    sj.environment = {{"EVENT", R"({"a":1})"}, {"AWS_LAMBDA_REQUEST_ID", "r-1"}};
    ASSERT_TRUE(c.submit_job(sj));
    expect_same(
        m.requests().back(),
        aws_request(
            m,
            {"submit-job",
             "--job-name",
             "fn",
             "--job-queue",
             "fn",
             "--job-definition",
             "fn",
             "--container-overrides",
             R"({"environment":[{"name":"AWS_LAMBDA_REQUEST_ID","value":"r-1"},{"name":"EVENT","value":"{\"a\":1}"}]})"}
        )
    );

    ASSERT_TRUE(c.describe_jobs({"j-1"}));
    expect_same(m.requests().back(), aws_request(m, {"describe-jobs", "--jobs", "j-1"}));
}

}  // namespace
