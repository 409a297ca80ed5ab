#include "scar/batch/client.hpp"

#include <scar/sigv4/verifier.hpp>
#include <scar/testing/http_server_mock.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>

namespace {

namespace batch = scar::batch;
namespace json = boost::json;
using scar::testing::http_server_mock;
using scar::testing::mock_response;
using scar::testing::recorded_request;
using namespace std::chrono_literals;

const scar::aws::credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "test"};

batch::endpoint endpoint_of(const http_server_mock& m) {
    return {m.url(), "eu-west-1", creds};
}

mock_response ok_json(std::string body) {
    return {200, {{"Content-Type", "application/json"}, {"x-amzn-RequestId", "r-1"}}, std::move(body), false};
}

/// A mock that answers each request with the next of `answers` (the last one repeats).
struct scripted {
    explicit scripted(std::vector<mock_response> answers)
        : queue(answers.begin(), answers.end()), server([this](const recorded_request&) {
              const std::lock_guard lock(mutex);
              auto r = queue.front();
              if (queue.size() > 1) queue.pop_front();
              return r;
          }) {}
    std::mutex mutex;
    std::deque<mock_response> queue;
    http_server_mock server;
};

json::value body_of(const recorded_request& r) {
    return json::parse(r.body);
}

/// The request is signed with SigV4 for batch in the endpoint's region, and the signature
/// is right (checked by scar's own verifier, the emulator's).
void expect_signed(const recorded_request& r) {
    const scar::sigv4::verifier v([](std::string_view id) -> std::optional<scar::aws::credentials> {
        if (id == creds.access_key_id) return creds;
        return std::nullopt;
    });
    const scar::sigv4::incoming_request in{r.method, r.target, &r.headers, r.body};
    auto ok = v.verify(in);
    ASSERT_TRUE(ok) << ok.error().what();
    EXPECT_EQ(ok->service, "batch");
    EXPECT_EQ(ok->region, "eu-west-1");
    EXPECT_TRUE(ok->body_matches(r.body));
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
}

TEST(BatchClient, SubmitJobSendsAwsRequestAndReadsAnswer) {
    http_server_mock m([](const recorded_request&) {
        return ok_json(
            R"({"jobArn":"arn:aws:batch:eu-west-1:123456789012:job/876da822-4198-45f2-a252-6cea32512ea8",)"
            R"("jobName":"fn","jobId":"876da822-4198-45f2-a252-6cea32512ea8"})"
        );
    });
    batch::client c(endpoint_of(m));
    batch::submit_job_request req;
    req.name = "fn";
    req.queue = "fn-queue";
    req.definition = "fn:3";
    req.environment = {{"EVENT", R"({"a":1})"}, {"SCRIPT", "ZWNobw=="}};
    req.depends_on = {{"11111111-2222-3333-4444-555555555555", "SEQUENTIAL"}};
    req.attempts = 2;
    req.timeout_s = 600;
    auto job = c.submit_job(req);
    ASSERT_TRUE(job) << job.error().what();
    EXPECT_EQ(job->id, "876da822-4198-45f2-a252-6cea32512ea8");
    EXPECT_EQ(job->name, "fn");
    EXPECT_EQ(job->arn, "arn:aws:batch:eu-west-1:123456789012:job/876da822-4198-45f2-a252-6cea32512ea8");

    ASSERT_EQ(m.request_count(), 1U);
    const auto r = m.requests().front();
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/submitjob");
    expect_signed(r);
    EXPECT_EQ(body_of(r), json::parse(R"({"jobName":"fn","jobQueue":"fn-queue","jobDefinition":"fn:3",
            "containerOverrides":{"environment":[{"name":"EVENT","value":"{\"a\":1}"},{"name":"SCRIPT","value":"ZWNobw=="}]},
            "dependsOn":[{"jobId":"11111111-2222-3333-4444-555555555555","type":"SEQUENTIAL"}],
            "retryStrategy":{"attempts":2},"timeout":{"attemptDurationSeconds":600}})"));
}

TEST(BatchClient, SubmitJobWithoutOverridesSendsNone) {
    http_server_mock m([](const recorded_request&) {
        return ok_json(R"({"jobId":"j","jobName":"n","jobArn":"a"})");
    });
    batch::client c(endpoint_of(m));
    ASSERT_TRUE(c.submit_job({.name = "n", .queue = "q", .definition = "d"}));
    EXPECT_EQ(
        body_of(m.requests().front()),
        json::parse(R"({"jobName":"n","jobQueue":"q","jobDefinition":"d"})")
    );
}

TEST(BatchClient, CreateComputeEnvironmentManagedEc2) {
    http_server_mock m([](const recorded_request&) {
        return ok_json(
            R"({"computeEnvironmentName":"fn","computeEnvironmentArn":"arn:aws:batch:eu-west-1:123456789012:compute-environment/fn"})"
        );
    });
    batch::client c(endpoint_of(m));
    batch::compute_environment_request req;
    req.name = "fn";
    req.resources = batch::compute_resources{
        .type = "SPOT",
        .min_vcpus = 0,
        .max_vcpus = 4,
        .desired_vcpus = std::nullopt,
        .instance_types = {"optimal"},
        .subnets = {"subnet-1", "subnet-2"},
        .security_group_ids = {"sg-1"},
        .instance_role = "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"};
    req.tags = {{"createdby", "scar"}};
    auto ce = c.create_compute_environment(req);
    ASSERT_TRUE(ce) << ce.error().what();
    EXPECT_EQ(ce->arn, "arn:aws:batch:eu-west-1:123456789012:compute-environment/fn");
    const auto r = m.requests().front();
    EXPECT_EQ(r.target, "/v1/createcomputeenvironment");
    expect_signed(r);
    EXPECT_EQ(body_of(r), json::parse(R"({"computeEnvironmentName":"fn","type":"MANAGED","state":"ENABLED",
            "computeResources":{"type":"SPOT","minvCpus":0,"maxvCpus":4,"instanceTypes":["optimal"],
              "subnets":["subnet-1","subnet-2"],"securityGroupIds":["sg-1"],
              "instanceRole":"arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"},
            "tags":{"createdby":"scar"}})"));
}

TEST(BatchClient, QueueAndDefinitionRequests) {
    std::atomic<int> n{0};
    http_server_mock m([&n](const recorded_request& r) {
        ++n;
        if (r.target == "/v1/createjobqueue")
            return ok_json(R"({"jobQueueName":"fn","jobQueueArn":"arn:aws:batch:eu-west-1:1:job-queue/fn"})");
        if (r.target == "/v1/registerjobdefinition")
            return ok_json(
                R"({"jobDefinitionName":"fn","jobDefinitionArn":"arn:aws:batch:eu-west-1:1:job-definition/fn:7","revision":7})"
            );
        return ok_json("{}");
    });
    batch::client c(endpoint_of(m));
    auto q = c.create_job_queue({.name = "fn", .priority = 1, .compute_environments = {{1, "fn"}}});
    ASSERT_TRUE(q) << q.error().what();
    EXPECT_EQ(q->arn, "arn:aws:batch:eu-west-1:1:job-queue/fn");

    batch::job_definition_request jd;
    jd.name = "fn";
    jd.container.image = "registry/fn@sha256:ab";
    jd.container.command = {"/opt/scar/scar-supervisor"};
    jd.container.environment = {{"FUNCTION_CONFIG", "dG9tbA=="}};
    jd.container.vcpus = 0.5;
    jd.container.memory_mb = 1024;
    jd.container.gpus = 1;
    jd.attempts = 3;
    jd.timeout_s = 120;
    auto d = c.register_job_definition(jd);
    ASSERT_TRUE(d) << d.error().what();
    EXPECT_EQ(d->revision, 7);
    EXPECT_EQ(d->arn, "arn:aws:batch:eu-west-1:1:job-definition/fn:7");

    ASSERT_TRUE(c.update_job_queue("fn", {.state = "DISABLED"}));
    ASSERT_TRUE(c.delete_job_queue("fn"));
    ASSERT_TRUE(c.update_compute_environment("fn", {.state = "DISABLED", .max_vcpus = 8}));
    ASSERT_TRUE(c.delete_compute_environment("fn"));
    ASSERT_TRUE(c.deregister_job_definition("fn:7"));
    ASSERT_TRUE(c.terminate_job("j1", "stop"));
    ASSERT_TRUE(c.cancel_job("j2", "no"));

    const auto rs = m.requests();
    ASSERT_EQ(rs.size(), 9U);
    for (const auto& r : rs) expect_signed(r);
    EXPECT_EQ(body_of(rs[0]), json::parse(R"({"jobQueueName":"fn","priority":1,"state":"ENABLED",
            "computeEnvironmentOrder":[{"order":1,"computeEnvironment":"fn"}]})"));
    EXPECT_EQ(body_of(rs[1]), json::parse(R"({"jobDefinitionName":"fn","type":"container",
            "containerProperties":{"image":"registry/fn@sha256:ab",
              "resourceRequirements":[{"type":"VCPU","value":"0.5"},{"type":"MEMORY","value":"1024"},{"type":"GPU","value":"1"}],
              "environment":[{"name":"FUNCTION_CONFIG","value":"dG9tbA=="}],
              "command":["/opt/scar/scar-supervisor"]},
            "retryStrategy":{"attempts":3},"timeout":{"attemptDurationSeconds":120}})"));
    EXPECT_EQ(rs[2].target, "/v1/updatejobqueue");
    EXPECT_EQ(body_of(rs[2]), json::parse(R"({"jobQueue":"fn","state":"DISABLED"})"));
    EXPECT_EQ(rs[3].target, "/v1/deletejobqueue");
    EXPECT_EQ(body_of(rs[3]), json::parse(R"({"jobQueue":"fn"})"));
    EXPECT_EQ(rs[4].target, "/v1/updatecomputeenvironment");
    EXPECT_EQ(
        body_of(rs[4]),
        json::parse(R"({"computeEnvironment":"fn","state":"DISABLED","computeResources":{"maxvCpus":8}})")
    );
    EXPECT_EQ(rs[5].target, "/v1/deletecomputeenvironment");
    EXPECT_EQ(body_of(rs[5]), json::parse(R"({"computeEnvironment":"fn"})"));
    EXPECT_EQ(rs[6].target, "/v1/deregisterjobdefinition");
    EXPECT_EQ(body_of(rs[6]), json::parse(R"({"jobDefinition":"fn:7"})"));
    EXPECT_EQ(rs[7].target, "/v1/terminatejob");
    EXPECT_EQ(body_of(rs[7]), json::parse(R"({"jobId":"j1","reason":"stop"})"));
    EXPECT_EQ(rs[8].target, "/v1/canceljob");
    EXPECT_EQ(body_of(rs[8]), json::parse(R"({"jobId":"j2","reason":"no"})"));
}

// The shape of AWS's DescribeJobs answer (botocore's model and the Batch user guide).
constexpr const char* describe_jobs_answer = R"({"jobs":[{
  "jobArn":"arn:aws:batch:eu-west-1:123456789012:job/24fa2d7a-64c4-49d2-8b47-f8da4fbde8e9",
  "jobName":"fn","jobId":"24fa2d7a-64c4-49d2-8b47-f8da4fbde8e9",
  "jobQueue":"arn:aws:batch:eu-west-1:123456789012:job-queue/fn",
  "status":"FAILED","statusReason":"Essential container in task exited",
  "attempts":[
    {"container":{"exitCode":3,"reason":"","logStreamName":"fn/default/aaa","taskArn":"t1"},
     "startedAt":1700000001000,"stoppedAt":1700000002000,"statusReason":"Essential container in task exited"},
    {"container":{"exitCode":2,"logStreamName":"fn/default/bbb","taskArn":"t2"},
     "startedAt":1700000003000,"stoppedAt":1700000004000,"statusReason":"Essential container in task exited"}],
  "createdAt":1700000000000,"retryStrategy":{"attempts":2},"startedAt":1700000003000,"stoppedAt":1700000004000,
  "dependsOn":[],"jobDefinition":"arn:aws:batch:eu-west-1:123456789012:job-definition/fn:1",
  "parameters":{},
  "container":{"image":"busybox","vcpus":1,"memory":512,"command":["sh","-c","exit 2"],
    "volumes":[],"environment":[{"name":"EVENT","value":"{}"}],"mountPoints":[],"ulimits":[],
    "exitCode":2,"containerInstanceArn":"c","taskArn":"t2","logStreamName":"fn/default/bbb",
    "networkInterfaces":[],"resourceRequirements":[]},
  "tags":{},"propagateTags":false,"platformCapabilities":[]},
 {"jobArn":"arn:x","jobName":"arr","jobId":"p:3","status":"RUNNING","createdAt":1,
  "arrayProperties":{"index":3,"size":10},"container":{"resourceRequirements":[{"type":"VCPU","value":"1"}]},
  "jobDefinition":"d"}]})";

TEST(BatchClient, DescribeJobsParsesAwsShape) {
    http_server_mock m([](const recorded_request&) { return ok_json(describe_jobs_answer); });
    batch::client c(endpoint_of(m));
    auto jobs = c.describe_jobs({"24fa2d7a-64c4-49d2-8b47-f8da4fbde8e9", "p:3", "unknown"});
    ASSERT_TRUE(jobs) << jobs.error().what();
    EXPECT_EQ(
        body_of(m.requests().front()),
        json::parse(R"({"jobs":["24fa2d7a-64c4-49d2-8b47-f8da4fbde8e9","p:3","unknown"]})")
    );
    ASSERT_EQ(jobs->size(), 2U);  // the unknown id is left out, as on AWS
    const auto& j = (*jobs)[0];
    EXPECT_EQ(j.status, "FAILED");
    EXPECT_TRUE(j.done());
    EXPECT_EQ(j.status_reason, "Essential container in task exited");
    EXPECT_EQ(j.exit_code, 2);
    EXPECT_EQ(j.log_stream, "fn/default/bbb");
    EXPECT_EQ(j.created_at, 1700000000000);
    EXPECT_EQ(j.stopped_at, 1700000004000);
    EXPECT_EQ(j.command, (std::vector<std::string>{"sh", "-c", "exit 2"}));
    EXPECT_EQ(j.environment.at("EVENT"), "{}");
    ASSERT_EQ(j.attempts.size(), 2U);
    EXPECT_EQ(j.attempts[0].exit_code, 3);
    EXPECT_EQ(j.attempts[0].log_stream, "fn/default/aaa");
    EXPECT_EQ(j.queue, "arn:aws:batch:eu-west-1:123456789012:job-queue/fn");
    const auto& child = (*jobs)[1];
    EXPECT_FALSE(child.done());
    EXPECT_EQ(child.array_index, 3);
    EXPECT_EQ(child.array_size, 10);
    EXPECT_FALSE(child.exit_code);
}

TEST(BatchClient, DescribeJobsSplitsLongListsInHundreds) {
    http_server_mock m([](const recorded_request&) { return ok_json(R"({"jobs":[]})"); });
    batch::client c(endpoint_of(m));
    std::vector<std::string> ids;
    for (int i = 0; i < 250; ++i) ids.push_back("j" + std::to_string(i));
    ASSERT_TRUE(c.describe_jobs(ids));
    const auto rs = m.requests();
    ASSERT_EQ(rs.size(), 3U);
    EXPECT_EQ(body_of(rs[0]).at("jobs").as_array().size(), 100U);
    EXPECT_EQ(body_of(rs[2]).at("jobs").as_array().size(), 50U);
    EXPECT_EQ(body_of(rs[2]).at("jobs").as_array()[0], "j200");
}

TEST(BatchClient, PaginatedDescribesFollowNextToken) {
    scripted s({
        ok_json(R"({"jobDefinitions":[{"jobDefinitionName":"fn","jobDefinitionArn":"arn:fn:1","revision":1,
            "status":"ACTIVE","type":"container","containerProperties":{"image":"busybox","vcpus":2,"memory":256,
            "command":["a"],"environment":[{"name":"K","value":"V"}]},"retryStrategy":{"attempts":2},
            "timeout":{"attemptDurationSeconds":90}}],"nextToken":"page2"})"),
        ok_json(R"({"jobDefinitions":[{"jobDefinitionName":"fn","jobDefinitionArn":"arn:fn:2","revision":2,
            "status":"ACTIVE","containerProperties":{"image":"busybox","resourceRequirements":[
            {"type":"VCPU","value":"0.25"},{"type":"MEMORY","value":"512"}]}}]})"),
    });
    batch::client c(endpoint_of(s.server));
    auto defs = c.describe_job_definitions("fn");
    ASSERT_TRUE(defs) << defs.error().what();
    ASSERT_EQ(defs->size(), 2U);
    const auto rs = s.server.requests();
    ASSERT_EQ(rs.size(), 2U);
    EXPECT_EQ(rs[0].target, "/v1/describejobdefinitions");
    EXPECT_EQ(body_of(rs[0]), json::parse(R"({"jobDefinitionName":"fn","status":"ACTIVE"})"));
    EXPECT_EQ(
        body_of(rs[1]),
        json::parse(R"({"jobDefinitionName":"fn","status":"ACTIVE","nextToken":"page2"})")
    );
    const auto& d1 = (*defs)[0];
    EXPECT_EQ(d1.revision, 1);
    EXPECT_EQ(d1.container.vcpus, 2);  // deprecated vcpus / memory are read too
    EXPECT_EQ(d1.container.memory_mb, 256);
    EXPECT_EQ(d1.container.environment.at("K"), "V");
    EXPECT_EQ(d1.attempts, 2);
    EXPECT_EQ(d1.timeout_s, 90);
    EXPECT_DOUBLE_EQ((*defs)[1].container.vcpus, 0.25);
    EXPECT_EQ((*defs)[1].container.memory_mb, 512);
}

TEST(BatchClient, ListJobsByStatusOrByName) {
    http_server_mock m([](const recorded_request&) {
        return ok_json(R"({"jobSummaryList":[{"jobArn":"a","jobId":"j1","jobName":"fn","createdAt":5,
            "status":"SUCCEEDED","statusReason":"Essential container in task exited","startedAt":6,"stoppedAt":7,
            "container":{"exitCode":0},"jobDefinition":"arn:d"}]})");
    });
    batch::client c(endpoint_of(m));
    auto running = c.list_jobs({.queue = "fn", .status = "SUCCEEDED"});
    ASSERT_TRUE(running) << running.error().what();
    ASSERT_EQ(running->size(), 1U);
    EXPECT_EQ((*running)[0].id, "j1");
    EXPECT_EQ((*running)[0].exit_code, 0);
    EXPECT_EQ((*running)[0].stopped_at, 7);
    ASSERT_TRUE(c.list_jobs({.queue = "fn", .job_name = "fn*"}));
    const auto rs = m.requests();
    EXPECT_EQ(rs[0].target, "/v1/listjobs");
    EXPECT_EQ(body_of(rs[0]), json::parse(R"({"jobQueue":"fn","jobStatus":"SUCCEEDED"})"));
    EXPECT_EQ(
        body_of(rs[1]),
        json::parse(R"({"jobQueue":"fn","filters":[{"name":"JOB_NAME","values":["fn*"]}]})")
    );

    auto neither = c.list_jobs({});
    ASSERT_FALSE(neither);
    EXPECT_EQ(neither.error().code, "InvalidRequest");
    EXPECT_EQ(m.request_count(), 2U);
}

TEST(BatchClient, ClientExceptionKeepsCodeAndMessage) {
    http_server_mock m([](const recorded_request&) {
        return mock_response{
            400,
            {{"x-amzn-ErrorType", "ClientException:http://internal.amazon.com/coral/com.amazonaws.batch/"},
             {"Content-Type", "application/json"}},
            R"({"__type":"ClientException","message":"Cannot delete, found existing JobQueue relationship"})",
            false};
    });
    batch::client c(endpoint_of(m));
    auto r = c.delete_compute_environment("fn");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "ClientException");
    EXPECT_EQ(r.error().http_status, 400);
    EXPECT_FALSE(r.error().retryable);
    EXPECT_EQ(
        r.error().message,
        "DeleteComputeEnvironment fn: Cannot delete, found existing JobQueue relationship"
    );
    EXPECT_EQ(m.request_count(), 1U);  // a client error is not retried
}

TEST(BatchClient, ServerExceptionIsRetriedThenReported) {
    std::atomic<int> n{0};
    http_server_mock m([&n](const recorded_request&) {
        if (++n < 3)
            return mock_response{500, {}, R"({"__type":"ServerException","message":"try again"})", false};
        return ok_json(R"({"jobs":[]})");
    });
    batch::client c(endpoint_of(m));
    auto r = c.describe_jobs({"x"});
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(m.request_count(), 3U);
    // Each attempt is signed again.
    for (const auto& req : m.requests()) expect_signed(req);
}

TEST(BatchClient, UnreachableEndpointIsNetworkError) {
    std::string url;
    {
        const http_server_mock gone([](const recorded_request&) { return mock_response{}; });
        url = gone.url();
    }
    batch::client c({url, "us-east-1", creds});
    auto r = c.cancel_job("j", "r");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "NetworkError");
    EXPECT_NE(r.error().message.find("CancelJob j"), std::string::npos) << r.error().message;
}

TEST(BatchClient, WaitsForComputeEnvironmentValid) {
    scripted s({
        ok_json(R"({"computeEnvironments":[{"computeEnvironmentName":"fn","computeEnvironmentArn":"arn:ce",
            "type":"MANAGED","state":"ENABLED","status":"CREATING"}]})"),
        ok_json(R"({"computeEnvironments":[{"computeEnvironmentName":"fn","computeEnvironmentArn":"arn:ce",
            "type":"MANAGED","state":"ENABLED","status":"VALID","statusReason":"ComputeEnvironment Healthy",
            "computeResources":{"type":"EC2","minvCpus":0,"maxvCpus":2,"instanceTypes":["optimal"],
            "subnets":["subnet-1"],"securityGroupIds":["sg-1"]}}]})"),
    });
    batch::client c(endpoint_of(s.server));
    auto ce = c.wait_compute_environment("fn", "VALID", 10s);
    ASSERT_TRUE(ce) << ce.error().what();
    EXPECT_EQ(ce->status, "VALID");
    EXPECT_EQ(ce->arn, "arn:ce");
    ASSERT_TRUE(ce->resources);
    EXPECT_EQ(ce->resources->max_vcpus, 2);
    EXPECT_EQ(ce->resources->subnets, std::vector<std::string>{"subnet-1"});
    EXPECT_EQ(s.server.request_count(), 2U);
    EXPECT_EQ(body_of(s.server.requests().front()), json::parse(R"({"computeEnvironments":["fn"]})"));
}

TEST(BatchClient, WaitReportsInvalidAndDeleted) {
    scripted invalid({ok_json(R"({"computeEnvironments":[{"computeEnvironmentName":"fn","status":"INVALID",
        "statusReason":"CLIENT_ERROR - subnet-x does not exist"}]})")});
    batch::client c(endpoint_of(invalid.server));
    auto r = c.wait_compute_environment("fn", "VALID", 10s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "ResourceInvalid");
    EXPECT_NE(r.error().message.find("subnet-x does not exist"), std::string::npos);

    scripted queue({
        ok_json(
            R"({"jobQueues":[{"jobQueueName":"fn","jobQueueArn":"arn:q","state":"DISABLED","status":"DELETING",
            "priority":1,"computeEnvironmentOrder":[{"order":1,"computeEnvironment":"arn:ce"}]}]})"
        ),
        ok_json(R"({"jobQueues":[]})"),
    });
    batch::client qc(endpoint_of(queue.server));
    auto gone = qc.wait_job_queue("fn", "DELETED", 10s);
    ASSERT_TRUE(gone) << gone.error().what();
    EXPECT_EQ(gone->status, "DELETED");
    EXPECT_EQ(queue.server.requests().front().target, "/v1/describejobqueues");
}

TEST(BatchClient, WaitTimesOut) {
    http_server_mock m([](const recorded_request&) {
        return ok_json(R"({"computeEnvironments":[{"computeEnvironmentName":"fn","status":"CREATING"}]})");
    });
    batch::client c(endpoint_of(m));
    auto r = c.wait_compute_environment("fn", "VALID", 200ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "RequestTimeout");
    EXPECT_NE(r.error().message.find("still CREATING"), std::string::npos) << r.error().message;
}

TEST(BatchEndpoint, FromEnvironmentLikeTheAwsCli) {
    auto specific = batch::resolve_endpoint(scar::aws::config_sources::from_map(
        {{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"},
         {"AWS_ENDPOINT_URL_BATCH", "http://127.0.0.1:2/"},
         {"AWS_REGION", "eu-south-2"},
         {"AWS_ACCESS_KEY_ID", "a"},
         {"AWS_SECRET_ACCESS_KEY", "s"}}
    ));
    ASSERT_TRUE(specific) << specific.error().what();
    EXPECT_EQ(specific->url, "http://127.0.0.1:2");
    EXPECT_EQ(specific->region, "eu-south-2");
    EXPECT_EQ(specific->credentials.access_key_id, "a");

    auto general = batch::resolve_endpoint(scar::aws::config_sources::from_map(
        {{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"},
         {"AWS_REGION", "us-east-1"},
         {"AWS_ACCESS_KEY_ID", "a"},
         {"AWS_SECRET_ACCESS_KEY", "s"}}
    ));
    ASSERT_TRUE(general);
    EXPECT_EQ(general->url, "http://127.0.0.1:1");

    auto aws = batch::resolve_endpoint(scar::aws::config_sources::from_map(
        {{"AWS_DEFAULT_REGION", "ap-northeast-1"}, {"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "s"}}
    ));
    ASSERT_TRUE(aws);
    EXPECT_EQ(aws->url, "https://batch.ap-northeast-1.amazonaws.com");

    auto no_region = batch::resolve_endpoint(scar::aws::config_sources::from_map(
        {{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "s"}},
        "/nonexistent"
    ));
    ASSERT_FALSE(no_region);
    EXPECT_EQ(no_region.error().code, "MissingRegion");
}

}  // namespace
