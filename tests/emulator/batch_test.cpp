// The emulator's AWS Batch: the aws CLI v2 creates compute environments, queues and job
// definitions and submits jobs that run in sandboxed containers from a busybox image in
// the emulator's ECR; job states are polled with describe-jobs (signed by scar's signer,
// to keep the suite fast) until a deadline.

#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/image/build.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/sandbox/container.hpp>
#include <scar/sigv4/signer.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <set>
#include <thread>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace img = scar::image;
using namespace std::chrono_literals;
using scar::testing::aws;

/// A request signed as the aws CLI signs it: a Batch operation (`POST /v1/<op>`), or with
/// `target`, a CloudWatch Logs one (JSON 1.1).
scar::http::response call(
    const std::string& url,
    const std::string& op,
    const std::string& body,
    const std::string& target = {}
) {
    scar::http::request req;
    req.method = "POST";
    req.url = target.empty() ? url + "/v1/" + op : url + "/";
    req.body = body;
    req.headers.emplace_back(
        "Content-Type",
        target.empty() ? "application/json" : "application/x-amz-json-1.1"
    );
    if (!target.empty()) req.headers.emplace_back("X-Amz-Target", target);
    const scar::aws::credentials creds{"test", "test", "", "test"};
    auto p = scar::sigv4::signing_params::make(
        creds,
        "us-east-1",
        target.empty() ? "batch" : "logs",
        scar::clock::system().now()
    );
    (void)scar::sigv4::sign(req, p).value();
    scar::http::client client;
    return client.send(req).value();
}

json::object call_ok(const std::string& url, const std::string& op, const json::object& body) {
    const auto r = call(url, op, json::serialize(body));
    EXPECT_EQ(r.status, 200) << op << ": " << r.body;
    auto v = json::parse(r.body);
    return v.is_object() ? v.as_object() : json::object{};
}

json::object describe(const std::string& url, const std::string& id) {
    const auto out = call_ok(url, "describejobs", {{"jobs", json::array{json::value(id)}}});
    const auto& jobs = out.at("jobs").as_array();
    return jobs.empty() ? json::object{} : jobs.front().as_object();
}

std::string status_of(const json::object& j) {
    return j.contains("status") ? std::string(j.at("status").as_string()) : std::string();
}

/// Polls describe-jobs until `pred` holds for the job (or 20 s pass: then fails).
template <class Pred>
json::object wait_job(const std::string& url, const std::string& id, Pred pred, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    json::object j;
    while (std::chrono::steady_clock::now() < deadline) {
        j = describe(url, id);
        if (pred(j)) return j;
        std::this_thread::sleep_for(5ms);  // a poll interval, not a wait for an outcome
    }
    ADD_FAILURE() << "job " << id << " never became " << what << "; last: " << json::serialize(j);
    return j;
}

json::object wait_status(const std::string& url, const std::string& id, const std::string& status) {
    return wait_job(
        url,
        id,
        [&](const json::object& j) { return status_of(j) == status; },
        status.c_str()
    );
}

json::object wait_done(const std::string& url, const std::string& id) {
    return wait_job(
        url,
        id,
        [](const json::object& j) { return status_of(j) == "SUCCEEDED" || status_of(j) == "FAILED"; },
        "SUCCEEDED or FAILED"
    );
}

/// An emulator with a busybox image in its ECR (repository "box", tag "1"), a compute
/// environment of `vcpus` and a queue "q" on it.
struct batch_env {
    explicit batch_env(std::vector<std::string> args = {}, fs::path data = {})
        : work("scar-batch"),
          emu(data.empty() ? work.path() / "data" : data, with_defaults(std::move(args))) {
        host = emu.url().substr(7);
        image = host + "/box:1";
    }

    static std::vector<std::string> with_defaults(std::vector<std::string> args) {
        args.insert(args.end(), {"--no-fsync", "--batch-vcpus", "16", "--batch-kill-grace-ms", "300"});
        return args;
    }

    void build_image() {
        const auto root = work.path() / "rootfs";
        fs::create_directories(root / "bin");
        fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
        for (const char* applet : {"sh", "env", "echo", "sleep", "sort", "grep", "true", "false", "cat"})
            fs::create_symlink("busybox", root / "bin" / applet);
        const auto repo = aws(emu.url(), {"ecr", "create-repository", "--repository-name", "box"});
        ASSERT_EQ(repo.exit_code, 0) << repo.err;
        img::build_request req;
        req.layers = {root};
        req.changes.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
        req.changes.cmd = std::vector<std::string>{"echo image-cmd"};
        req.changes.env = {"PATH=/bin", "FROM_IMAGE=yes"};
        req.target = img::parse_reference(image).value();
        img::registry_options ro;
        ro.auth.use_docker_config = false;
        ro.auth.explicit_credentials = img::credentials{"test", "test", {}};
        ASSERT_TRUE(img::build_image(req, img::store(work.path() / "store"), ro));
    }

    void create_queue(const std::string& ce, int vcpus, const std::string& queue, int priority) {
        if (!ces_made.contains(ce)) {
            call_ok(
                emu.url(),
                "createcomputeenvironment",
                {{"computeEnvironmentName", ce},
                 {"type", "MANAGED"},
                 {"computeResources",
                  {{"type", "EC2"},
                   {"maxvCpus", vcpus},
                   {"subnets", json::array{"s"}},
                   {"instanceRole", "r"}}}}
            );
            ces_made.insert(ce);
        }
        call_ok(
            emu.url(),
            "createjobqueue",
            {{"jobQueueName", queue},
             {"priority", priority},
             {"computeEnvironmentOrder", json::array{json::object{{"order", 1}, {"computeEnvironment", ce}}}}}
        );
    }

    void define(const std::string& name, json::object extra = {}) {
        json::object cp{
            {"image", ecr_image},
            {"command", json::array{"echo hello"}},
            {"resourceRequirements",
             json::array{
                 json::object{{"type", "VCPU"}, {"value", "1"}},
                 json::object{{"type", "MEMORY"}, {"value", "64"}}}}};
        json::object body{{"jobDefinitionName", name}, {"type", "container"}, {"containerProperties", cp}};
        for (const auto& [k, v] : extra) body[k] = v;
        call_ok(emu.url(), "registerjobdefinition", body);
    }

    /// The image, a compute environment "ce" of `vcpus`, queue "q" and job definition "def".
    void prepare(int vcpus) {
        build_image();
        create_queue("ce", vcpus, "q", 1);
        define("def");
    }

    std::string submit(json::object body) {
        if (!body.contains("jobQueue")) body["jobQueue"] = "q";
        const auto out = call_ok(emu.url(), "submitjob", body);
        return out.contains("jobId") ? std::string(out.at("jobId").as_string()) : std::string();
    }

    std::string submit_command(const std::string& name, const std::string& script, json::object extra = {}) {
        json::object body{
            {"jobName", name},
            {"jobDefinition", "def"},
            {"containerOverrides", {{"command", json::array{json::value(script)}}}}};
        for (const auto& [k, v] : extra) body[k] = v;
        return submit(body);
    }

    scar::testing::temp_dir work;
    scar::testing::emulator_process emu;
    std::string host;
    std::string image;  ///< where the image is pushed (127.0.0.1:PORT/box:1)
    /// How jobs name it: the AWS form of the emulator's own ECR, the same after a restart
    /// on another port.
    std::string ecr_image = "000000000000.dkr.ecr.us-east-1.amazonaws.com/box:1";
    std::set<std::string> ces_made;
};

#define REQUIRE_CONTAINERS()                                                                              \
    do {                                                                                                  \
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh"; \
        if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;          \
    } while (false)

/// The messages of a job's log stream, read with the aws CLI (or, `fast`, a signed request).
std::vector<std::string> log_lines(const std::string& url, const std::string& stream, bool fast = false) {
    std::vector<std::string> out;
    std::string text;
    if (fast) {
        const auto r = call(
            url,
            "",
            json::serialize(json::object{{"logGroupName", "/aws/batch/job"}, {"logStreamName", stream}}),
            "Logs_20140328.GetLogEvents"
        );
        EXPECT_EQ(r.status, 200) << r.body;
        text = r.body;
    } else {
        const auto r =
            aws(url,
                {"logs", "get-log-events", "--log-group-name", "/aws/batch/job", "--log-stream-name", stream}
            );
        EXPECT_EQ(r.exit_code, 0) << r.err;
        text = r.out;
    }
    boost::system::error_code ec;
    const auto parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) return out;
    for (const auto& e : parsed.at("events").as_array()) out.emplace_back(e.at("message").as_string());
    return out;
}

bool has_line(const std::vector<std::string>& lines, const std::string& l) {
    return std::find(lines.begin(), lines.end(), l) != lines.end();
}

TEST(Batch, AwsCliRunsAJobThatEchoesItsEnvironment) {
    REQUIRE_CONTAINERS();
    batch_env b;
    b.build_image();
    const auto& url = b.emu.url();
    const auto ok = [](const scar::testing::run_result& r) {
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.exit_code == 0 && !r.out.empty() ? json::parse(r.out).as_object() : json::object{};
    };
    const auto ce = ok(
        aws(url,
            {"batch",
             "create-compute-environment",
             "--compute-environment-name",
             "ce",
             "--type",
             "MANAGED",
             "--compute-resources",
             "type=EC2,maxvCpus=4,subnets=s,instanceRole=r"})
    );
    EXPECT_EQ(ce.at("computeEnvironmentArn"), "arn:aws:batch:us-east-1:000000000000:compute-environment/ce");
    ok(
        aws(url,
            {"batch",
             "create-job-queue",
             "--job-queue-name",
             "q",
             "--priority",
             "1",
             "--compute-environment-order",
             "order=1,computeEnvironment=ce"})
    );
    const json::object cp{
        {"image", b.ecr_image},
        {"command", json::array{"echo param=Ref::word; env | sort; echo to-stderr >&2"}},
        {"environment", json::array{json::object{{"name", "MINE"}, {"value", "def"}}}},
        {"resourceRequirements",
         json::array{
             json::object{{"type", "VCPU"}, {"value", "1"}},
             json::object{{"type", "MEMORY"}, {"value", "64"}}}}};
    const auto def = ok(
        aws(url,
            {"batch",
             "register-job-definition",
             "--job-definition-name",
             "def",
             "--type",
             "container",
             "--container-properties",
             json::serialize(cp)})
    );
    EXPECT_EQ(def.at("revision").as_int64(), 1);
    // Ref:: substitution is of whole command elements, so the script is given as one.
    const auto submitted = ok(
        aws(url,
            {"batch",
             "submit-job",
             "--job-name",
             "env-job",
             "--job-queue",
             "q",
             "--job-definition",
             "def",
             "--container-overrides",
             R"({"command":["Ref::script"],"environment":[{"name":"MINE","value":"override"}]})",
             "--parameters",
             "script=echo param; env | sort; echo to-stderr >&2"})
    );
    const std::string id(submitted.at("jobId").as_string());
    const auto done = wait_done(url, id);
    ASSERT_EQ(status_of(done), "SUCCEEDED") << json::serialize(done);

    const auto described = ok(aws(url, {"batch", "describe-jobs", "--jobs", id}));
    const auto& j = described.at("jobs").at(0).as_object();
    EXPECT_EQ(j.at("jobQueue"), "arn:aws:batch:us-east-1:000000000000:job-queue/q");
    EXPECT_EQ(j.at("jobDefinition"), "arn:aws:batch:us-east-1:000000000000:job-definition/def:1");
    EXPECT_GE(j.at("startedAt").as_int64(), j.at("createdAt").as_int64());
    EXPECT_GE(j.at("stoppedAt").as_int64(), j.at("startedAt").as_int64());
    EXPECT_EQ(j.at("container").at("exitCode").as_int64(), 0);
    EXPECT_EQ(j.at("attempts").as_array().size(), 1U);
    const std::string stream(j.at("container").at("logStreamName").as_string());
    EXPECT_TRUE(stream.starts_with("def/default/")) << stream;

    const auto lines = log_lines(url, stream);
    EXPECT_TRUE(has_line(lines, "param")) << "the command came from the parameter";
    EXPECT_TRUE(has_line(lines, "to-stderr"));
    EXPECT_TRUE(has_line(lines, "AWS_BATCH_JOB_ID=" + id));
    EXPECT_TRUE(has_line(lines, "AWS_BATCH_JOB_ATTEMPT=1"));
    EXPECT_TRUE(has_line(lines, "AWS_BATCH_JQ_NAME=q"));
    EXPECT_TRUE(has_line(lines, "AWS_BATCH_CE_NAME=ce"));
    EXPECT_TRUE(has_line(lines, "AWS_ENDPOINT_URL=" + url));
    EXPECT_TRUE(has_line(lines, "AWS_ACCESS_KEY_ID=test"));
    EXPECT_TRUE(has_line(lines, "AWS_REGION=us-east-1"));
    EXPECT_TRUE(has_line(lines, "MINE=override"));
    EXPECT_TRUE(has_line(lines, "FROM_IMAGE=yes"));

    const auto listed = ok(aws(url, {"batch", "list-jobs", "--job-queue", "q", "--job-status", "SUCCEEDED"}));
    ASSERT_EQ(listed.at("jobSummaryList").as_array().size(), 1U);
    EXPECT_EQ(listed.at("jobSummaryList").at(0).at("jobId"), json::value(id));
    const auto running = ok(aws(url, {"batch", "list-jobs", "--job-queue", "q"}));
    EXPECT_TRUE(running.at("jobSummaryList").as_array().empty()) << "list-jobs lists RUNNING jobs by default";

    // A long job, terminated while it runs.
    const auto long_job = ok(
        aws(url,
            {"batch",
             "submit-job",
             "--job-name",
             "long",
             "--job-queue",
             "q",
             "--job-definition",
             "def",
             "--container-overrides",
             R"({"command":["echo started; sleep 60"]})"})
    );
    const std::string long_id(long_job.at("jobId").as_string());
    wait_status(url, long_id, "RUNNING");
    ok(aws(url, {"batch", "terminate-job", "--job-id", long_id, "--reason", "enough"}));
    const auto terminated = wait_done(url, long_id);
    EXPECT_EQ(status_of(terminated), "FAILED");
    EXPECT_EQ(terminated.at("statusReason"), "enough");
    EXPECT_TRUE(terminated.at("isTerminated").as_bool());
    EXPECT_EQ(terminated.at("attempts").as_array().size(), 1U);
}

TEST(Batch, RetriesPerStrategyAndTimeouts) {
    REQUIRE_CONTAINERS();
    batch_env b;
    b.prepare(8);
    const auto url = b.emu.url();
    const auto always = b.submit_command("always", "exit 3", {{"retryStrategy", {{"attempts", 3}}}});
    const auto second = b.submit_command(
        "second",
        "echo attempt $AWS_BATCH_JOB_ATTEMPT; [ $AWS_BATCH_JOB_ATTEMPT -ge 2 ]",
        {{"retryStrategy", {{"attempts", 3}}}}
    );
    const auto exit_rule = b.submit_command(
        "no-retry-on-7",
        "exit 7",
        {{"retryStrategy",
          {{"attempts", 5},
           {"evaluateOnExit", json::array{json::object{{"onExitCode", "7"}, {"action", "EXIT"}}}}}}}
    );
    const auto slow = b.submit_command(
        "slow",
        "sleep 60",
        {{"timeout", {{"attemptDurationSeconds", 1}}}, {"retryStrategy", {{"attempts", 2}}}}
    );

    const auto a = wait_done(url, always);
    EXPECT_EQ(status_of(a), "FAILED");
    EXPECT_EQ(a.at("statusReason"), "Essential container in task exited");
    ASSERT_EQ(a.at("attempts").as_array().size(), 3U);
    for (const auto& at : a.at("attempts").as_array())
        EXPECT_EQ(at.at("container").at("exitCode").as_int64(), 3);
    EXPECT_EQ(a.at("container").at("exitCode").as_int64(), 3);

    const auto s = wait_done(url, second);
    EXPECT_EQ(status_of(s), "SUCCEEDED");
    ASSERT_EQ(s.at("attempts").as_array().size(), 2U);
    EXPECT_EQ(s.at("attempts").at(0).at("container").at("exitCode").as_int64(), 1);
    EXPECT_NE(
        s.at("attempts").at(0).at("container").at("logStreamName"),
        s.at("attempts").at(1).at("container").at("logStreamName")
    );

    const auto e = wait_done(url, exit_rule);
    EXPECT_EQ(status_of(e), "FAILED");
    EXPECT_EQ(e.at("attempts").as_array().size(), 1U) << "evaluateOnExit EXIT stops the retries";

    const auto t = wait_done(url, slow);
    EXPECT_EQ(status_of(t), "FAILED");
    EXPECT_EQ(t.at("statusReason"), "Job attempt duration exceeded timeout");
    EXPECT_EQ(t.at("attempts").as_array().size(), 1U) << "a timed-out job is not retried";
    const auto ran_ms = t.at("stoppedAt").as_int64() - t.at("startedAt").as_int64();
    EXPECT_GE(ran_ms, 1000);
    EXPECT_LT(ran_ms, 10000);
}

TEST(Batch, ArrayJobsAndDependencies) {
    REQUIRE_CONTAINERS();
    batch_env b;
    b.prepare(8);
    const auto url = b.emu.url();
    const auto array = b.submit_command(
        "arr",
        "echo index=$AWS_BATCH_JOB_ARRAY_INDEX size=$AWS_BATCH_JOB_ARRAY_SIZE id=$AWS_BATCH_JOB_ID",
        {{"arrayProperties", {{"size", 10}}}}
    );
    const auto n_to_n = b.submit_command(
        "after",
        "true",
        {{"arrayProperties", {{"size", 10}}},
         {"dependsOn", json::array{json::object{{"jobId", array}, {"type", "N_TO_N"}}}}}
    );
    const auto sequential = b.submit_command(
        "seq",
        "true",
        {{"arrayProperties", {{"size", 3}}}, {"dependsOn", json::array{json::object{{"type", "SEQUENTIAL"}}}}}
    );
    const auto failing = b.submit_command("fails", "exit 1");
    const auto dependent =
        b.submit_command("dependent", "true", {{"dependsOn", json::array{json::object{{"jobId", failing}}}}});

    const auto parent = wait_done(url, array);
    EXPECT_EQ(status_of(parent), "SUCCEEDED");
    EXPECT_EQ(parent.at("arrayProperties").at("size").as_int64(), 10);
    EXPECT_EQ(parent.at("arrayProperties").at("statusSummary").at("SUCCEEDED").as_int64(), 10);
    const auto listed =
        aws(url, {"batch", "list-jobs", "--array-job-id", array, "--job-status", "SUCCEEDED"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    const auto listed_json = json::parse(listed.out);
    const auto& children = listed_json.at("jobSummaryList").as_array();
    ASSERT_EQ(children.size(), 10U);
    for (int i = 0; i < 10; ++i) {
        const std::string child_id = array + ":" + std::to_string(i);
        EXPECT_EQ(children.at(static_cast<std::size_t>(i)).at("jobId"), json::value(child_id));
        const auto c = describe(url, child_id);
        EXPECT_EQ(c.at("arrayProperties").at("index").as_int64(), i);
        const auto lines =
            log_lines(url, std::string(c.at("container").at("logStreamName").as_string()), true);
        EXPECT_TRUE(has_line(lines, "index=" + std::to_string(i) + " size=10 id=" + child_id));

        EXPECT_EQ(status_of(wait_done(url, n_to_n + ":" + std::to_string(i))), "SUCCEEDED");
        const auto after_done = describe(url, n_to_n + ":" + std::to_string(i));
        EXPECT_GE(after_done.at("startedAt").as_int64(), c.at("stoppedAt").as_int64())
            << "N_TO_N child " << i;
    }
    EXPECT_EQ(status_of(wait_done(url, n_to_n)), "SUCCEEDED");
    EXPECT_EQ(status_of(wait_done(url, sequential)), "SUCCEEDED");
    for (int i = 1; i < 3; ++i) {
        const auto prev = describe(url, sequential + ":" + std::to_string(i - 1));
        const auto cur = describe(url, sequential + ":" + std::to_string(i));
        EXPECT_GE(cur.at("startedAt").as_int64(), prev.at("stoppedAt").as_int64())
            << "SEQUENTIAL child " << i;
    }
    const auto d = wait_done(url, dependent);
    EXPECT_EQ(status_of(d), "FAILED");
    EXPECT_EQ(d.at("statusReason"), "Dependent Job failed");
    EXPECT_TRUE(d.at("attempts").as_array().empty()) << "it never ran";
}

TEST(Batch, CapacityPriorityTerminateAndCancel) {
    REQUIRE_CONTAINERS();
    batch_env b;
    b.prepare(2);
    const auto url = b.emu.url();
    // With 2 vCPUs, a third 1-vCPU job waits in RUNNABLE until one of the first two ends.
    const auto first = b.submit_command("first", "sleep 60");
    const auto second = b.submit_command("second", "sleep 60");
    wait_status(url, first, "RUNNING");
    wait_status(url, second, "RUNNING");
    const auto third = b.submit_command("third", "sleep 60");
    EXPECT_EQ(status_of(wait_status(url, third, "RUNNABLE")), "RUNNABLE");
    const auto cancelled = b.submit_command("cancelled", "true");
    wait_status(url, cancelled, "RUNNABLE");
    call_ok(url, "canceljob", {{"jobId", cancelled}, {"reason", "not needed"}});
    const auto c = wait_done(url, cancelled);
    EXPECT_EQ(status_of(c), "FAILED");
    EXPECT_EQ(c.at("statusReason"), "not needed");
    EXPECT_TRUE(c.at("isCancelled").as_bool());
    // CancelJob leaves a running job alone.
    call_ok(url, "canceljob", {{"jobId", first}, {"reason", "too late"}});
    EXPECT_EQ(status_of(describe(url, third)), "RUNNABLE");
    EXPECT_EQ(status_of(describe(url, first)), "RUNNING");

    call_ok(url, "terminatejob", {{"jobId", first}, {"reason", "make room"}});
    wait_status(url, third, "RUNNING");
    const auto t = describe(url, first);
    EXPECT_EQ(status_of(t), "FAILED");
    EXPECT_EQ(t.at("attempts").at(0).at("container").at("exitCode").as_int64(), 128 + SIGTERM);

    // Priority: with the environment full, a job of the higher-priority queue, submitted
    // later, starts before the lower one's.
    b.create_queue("ce", 2, "high", 10);
    const auto low = b.submit_command("low", "sleep 60");
    const auto high = b.submit(
        {{"jobName", "high"},
         {"jobQueue", "high"},
         {"jobDefinition", "def"},
         {"containerOverrides", {{"command", json::array{"sleep 60"}}}}}
    );
    wait_status(url, low, "RUNNABLE");
    wait_status(url, high, "RUNNABLE");
    call_ok(url, "terminatejob", {{"jobId", second}, {"reason", "make room"}});
    wait_status(url, high, "RUNNING");
    EXPECT_EQ(status_of(describe(url, low)), "RUNNABLE");
    for (const auto& id : {third, high, low})
        call_ok(url, "terminatejob", {{"jobId", id}, {"reason", "done"}});
    for (const auto& id : {third, high, low}) EXPECT_EQ(status_of(wait_done(url, id)), "FAILED");
}

TEST(Batch, StateSurvivesARestart) {
    REQUIRE_CONTAINERS();
    scar::testing::temp_dir data("scar-batch-restart");
    std::string running;
    std::string queued;
    {
        batch_env b({}, data.path());
        b.prepare(1);
        running = b.submit_command("running", "sleep 60");
        wait_status(b.emu.url(), running, "RUNNING");
        queued = b.submit_command("queued", "echo ran after the restart");
        wait_status(b.emu.url(), queued, "RUNNABLE");
        b.emu.process().stop(SIGTERM);
    }
    batch_env again({}, data.path());
    const auto url = again.emu.url();
    const auto r = describe(url, running);
    EXPECT_EQ(status_of(r), "FAILED");
    EXPECT_NE(std::string(r.at("statusReason").as_string()).find("emulator stopped"), std::string::npos)
        << json::serialize(r);
    EXPECT_EQ(r.at("attempts").as_array().size(), 1U);
    EXPECT_EQ(status_of(wait_done(url, queued)), "SUCCEEDED") << "queued jobs run after a restart";
    const auto queues = call_ok(url, "describejobqueues", {});
    EXPECT_EQ(queues.at("jobQueues").as_array().size(), 1U);
}

TEST(Batch, ErrorShapes) {
    if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
    scar::testing::temp_dir work("scar-batch-errors");
    scar::testing::emulator_process emu(work.path() / "data", {"--no-fsync"});
    const auto& url = emu.url();
    const auto r =
        aws(url,
            {"batch", "submit-job", "--job-name", "j", "--job-queue", "nope", "--job-definition", "def"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("ClientException"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("job queue 'nope' does not exist"), std::string::npos) << r.err;

    const auto bad = call(url, "submitjob", "{not json");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.header("x-amzn-ErrorType").value_or(""), "ClientException");
    const auto body = json::parse(bad.body);
    EXPECT_NE(std::string(body.at("message").as_string()).find("not a JSON object"), std::string::npos);

    const auto dup = [&] {
        return call(url, "createcomputeenvironment", R"({"computeEnvironmentName":"ce","type":"UNMANAGED"})");
    };
    EXPECT_EQ(dup().status, 200);
    const auto again = dup();
    EXPECT_EQ(again.status, 400);
    EXPECT_NE(again.body.find("already exists"), std::string::npos);
    const auto del = call(url, "deletecomputeenvironment", R"({"computeEnvironment":"ce"})");
    EXPECT_EQ(del.status, 400);
    EXPECT_NE(del.body.find("disable it first"), std::string::npos) << del.body;
    const auto reserved = call(
        url,
        "registerjobdefinition",
        R"({"jobDefinitionName":"d","type":"container","containerProperties":{"image":"x","environment":[{"name":"AWS_BATCH_X","value":"1"}]}})"
    );
    EXPECT_EQ(reserved.status, 400);
    EXPECT_NE(reserved.body.find("reserved"), std::string::npos);
    EXPECT_EQ(call(url, "nosuchoperation", "{}").status, 404);
}

}  // namespace
