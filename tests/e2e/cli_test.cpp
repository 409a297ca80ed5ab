// The scar CLI end to end on the emulator: init a function from a definition file, upload
// into its input folder, outputs appear in its output folder; ls, log, run -s, get; rm
// leaves no function, permission, trigger, log group or repository behind (buckets stay).

#include <scar/image/build.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/s3/client.hpp>
#include <scar/sandbox/container.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace img = scar::image;
using namespace std::chrono_literals;
using scar::testing::aws;

void write(const fs::path& p, std::string_view text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
        if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
        emu_ = std::make_unique<scar::testing::emulator_process>(work_.path() / "data");
        host_ = emu_->url().substr(7);
        // The CLI finds the running emulator through $SCAR_HOME, as after `scar local up`.
        write(work_.path() / "home" / "emulator.pid", std::to_string(emu_->process().pid()));
        write(work_.path() / "home" / "emulator.endpoint", emu_->url());

        // The user's image: busybox with the applets the scripts use.
        const auto root = work_.path() / "rootfs";
        fs::create_directories(root / "bin");
        fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
        for (const char* a : {"sh", "cat", "tr", "basename", "echo", "mkdir", "env", "grep"})
            fs::create_symlink("busybox", root / "bin" / a);
        ASSERT_EQ(aws(emu_->url(), {"ecr", "create-repository", "--repository-name", "base"}).exit_code, 0);
        img::build_request req;
        req.layers = {root};
        req.changes.env = {"PATH=/bin"};
        req.changes.cmd = std::vector<std::string>{"/bin/sh"};
        req.target = img::parse_reference(host_ + "/base:1").value();
        img::registry_options ro;
        ro.auth.use_docker_config = false;
        ro.auth.explicit_credentials = img::credentials{"test", "test", {}};
        ASSERT_TRUE(img::build_image(req, img::store(work_.path() / "home" / "images"), ro));
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
        o.cwd = work_.path();
        return scar::testing::run(std::move(o));
    }

    scar::s3::client s3() const {
        scar::s3::client_options o;
        o.endpoint = emu_->url();
        o.credentials = {"test", "test", "", "test"};
        return scar::s3::client(o);
    }

    /// Waits for an object to appear (an asynchronous invocation writes it).
    bool wait_for_object(const std::string& bucket, const std::string& key) const {
        auto c = s3();
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        for (auto pause = 5ms; std::chrono::steady_clock::now() < deadline;
             pause = std::min(pause * 2, 200ms)) {
            if (c.head_object(bucket, key)) return true;
            std::this_thread::sleep_for(pause);  // polling the output: its appearance is the event
        }
        return false;
    }

    scar::testing::temp_dir work_{"scar-cli-e2e"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
    std::string host_;
};

TEST_F(Cli, InitPutOutputsLsLogRunGetRm) {
    write(work_.path() / "fn" / "upper.sh", R"(#!/bin/sh
echo "input=$INPUT_FILE_PATH key=$STORAGE_OBJECT_KEY stage=$STAGE"
name=$(basename "$INPUT_FILE_PATH")
mkdir -p "$TMP_OUTPUT_DIR/sub"
tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/sub/$name.upper"
echo ignored > "$TMP_OUTPUT_DIR/$name.skip"
)");
    write(work_.path() / "fn" / "upper.toml", R"(
[[function]]
name = "upper"
image = ")" + host_ + R"(/base:1"
memory = 256
timeout = 30
init_script = "upper.sh"

[function.container.environment]
STAGE = "e2e"

[[function.input]]
storage = "s3"
path = "inbox/docs"

[[function.output]]
storage = "s3"
path = "outbox/upper"
suffix = [".upper"]
)");
    // Another function's trigger on the same bucket must survive init and rm.
    auto c = s3();
    ASSERT_TRUE(c.create_bucket("inbox"));
    scar::s3::notification_config other;
    other.lambda.push_back(
        {"keep-me", "arn:aws:lambda:us-east-1:000000000000:function:other", {"s3:ObjectRemoved:*"}, "", ""}
    );
    ASSERT_TRUE(c.put_bucket_notification("inbox", other));

    const auto init = scar(
        {"init", "-f", (work_.path() / "fn" / "upper.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE}
    );
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    EXPECT_NE(init.out.find("function upper ready"), std::string::npos) << init.out;
    const auto rules = c.get_bucket_notification("inbox").value();
    ASSERT_EQ(rules.lambda.size(), 2U);
    EXPECT_EQ(rules.lambda[0].id, "keep-me");
    EXPECT_EQ(rules.lambda[1].prefix, "docs/");

    // A second init of the same function is refused with a way out.
    const auto again = scar(
        {"init", "-f", (work_.path() / "fn" / "upper.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE}
    );
    EXPECT_NE(again.exit_code, 0);
    EXPECT_NE(again.err.find("scar rm -n upper"), std::string::npos) << again.err;

    write(work_.path() / "hello.txt", "hello world\n");
    const auto put = scar({"put", "-b", "inbox/docs", "-p", (work_.path() / "hello.txt").string()});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    ASSERT_TRUE(wait_for_object("outbox", "upper/sub/hello.txt.upper"));
    EXPECT_FALSE(c.head_object("outbox", "upper/hello.txt.skip"))
        << "the suffix filter lets only .upper through";
    EXPECT_EQ(c.get_object("outbox", "upper/sub/hello.txt.upper").value().body, "HELLO WORLD\n");

    const auto ls = scar({"ls", "--json"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    const auto fns = json::parse(ls.out).as_array();
    ASSERT_EQ(fns.size(), 1U);
    EXPECT_EQ(fns[0].at("name"), "upper");
    EXPECT_EQ(fns[0].at("image").as_string(), host_ + "/base:1");
    EXPECT_EQ(fns[0].at("memory"), 256);
    EXPECT_EQ(fns[0].at("inputs").as_array()[0], "inbox/docs");
    const auto lsb = scar({"ls", "-b", "outbox/upper"});
    EXPECT_NE(lsb.out.find("upper/sub/hello.txt.upper"), std::string::npos) << lsb.out;

    const auto log = scar({"log", "-n", "upper"});
    ASSERT_EQ(log.exit_code, 0) << log.err;
    EXPECT_NE(log.out.find("key=docs/hello.txt stage=e2e"), std::string::npos) << log.out;

    write(work_.path() / "say.sh", "echo \"ran by scar run in $STAGE\"\n");
    const auto run = scar({"run", "-n", "upper", "-s", (work_.path() / "say.sh").string()});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(run.out, "ran by scar run in e2e\n");
    const auto failing = [&] {
        write(work_.path() / "fail.sh", "echo broken >&2\nexit 3\n");
        return scar({"run", "-n", "upper", "-s", (work_.path() / "fail.sh").string()});
    }();
    EXPECT_NE(failing.exit_code, 0);
    EXPECT_NE(failing.err.find("3"), std::string::npos) << failing.err;

    // scar update: new memory and a new script environment, in a rebuilt image.
    {
        auto toml = read(work_.path() / "fn" / "upper.toml");
        toml.replace(toml.find("memory = 256"), 12, "memory = 512");
        toml.replace(toml.find("STAGE = \"e2e\""), 13, "STAGE = \"v2\"");
        write(work_.path() / "fn" / "upper.toml", toml);
        const auto updated = scar(
            {"update",
             "-f",
             (work_.path() / "fn" / "upper.toml").string(),
             "--supervisor",
             SCAR_SUPERVISOR_BUNDLE}
        );
        ASSERT_EQ(updated.exit_code, 0) << updated.err;
        EXPECT_EQ(json::parse(scar({"ls", "--json"}).out).as_array()[0].at("memory"), 512);
        EXPECT_EQ(
            scar({"run", "-n", "upper", "-s", (work_.path() / "say.sh").string()}).out,
            "ran by scar run in v2\n"
        );
        EXPECT_EQ(c.get_bucket_notification("inbox").value().lambda.size(), 2U)
            << "the trigger is replaced, not doubled";
    }

    // scar run -f: the definition's run_script is the default script.
    write(work_.path() / "fn" / "hello.sh", "echo \"hello from run_script\"\n");
    write(
        work_.path() / "fn" / "run.toml",
        "[[function]]\nname = \"upper\"\nimage = \"" + host_ + "/base:1\"\nrun_script = \"hello.sh\"\n"
    );
    EXPECT_EQ(
        scar({"run", "-f", (work_.path() / "fn" / "run.toml").string()}).out,
        "hello from run_script\n"
    );

    const auto get = scar({"get", "-b", "outbox/upper", "-p", (work_.path() / "got").string()});
    ASSERT_EQ(get.exit_code, 0) << get.err;
    EXPECT_EQ(read(work_.path() / "got" / "sub" / "hello.txt.upper"), "HELLO WORLD\n");

    // scar cost prices exactly the REPORT lines the log holds (built-in price table).
    const auto logged = json::parse(scar({"log", "-n", "upper", "--json"}).out).as_array();
    std::size_t reports = 0;
    double gb_seconds = 0;
    for (const auto& l : logged) {
        const std::string m(l.at("message").as_string());
        if (!m.starts_with("REPORT RequestId: ")) continue;
        ++reports;
        const auto billed = m.find("Billed Duration: ");
        const auto memory = m.find("Memory Size: ");
        gb_seconds += std::stod(m.substr(billed + 17)) / 1000.0 * std::stod(m.substr(memory + 13)) / 1024.0;
    }
    const auto cost = scar({"cost", "-n", "upper", "--json"});
    ASSERT_EQ(cost.exit_code, 0) << cost.err;
    const auto priced = json::parse(cost.out);
    const auto& fn = priced.at("functions").as_array().at(0);
    EXPECT_EQ(fn.at("invocations").to_number<std::size_t>(), reports);
    EXPECT_EQ(reports, 5U);  // the upload, two runs, one after the update, one with -f
    EXPECT_NEAR(
        priced.at("total").to_number<double>(),
        static_cast<double>(reports) * 0.20 / 1e6 + gb_seconds * 0.0000166667,
        1e-12
    );

    const auto rm = scar({"rm", "-n", "upper"});
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_NE(aws(emu_->url(), {"lambda", "get-function", "--function-name", "upper"}).exit_code, 0);
    EXPECT_NE(aws(emu_->url(), {"ecr", "describe-repositories", "--repository-names", "upper"}).exit_code, 0);
    const auto groups =
        aws(emu_->url(), {"logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/upper"});
    EXPECT_EQ(json::parse(groups.out).at("logGroups").as_array().size(), 0U) << groups.out;
    const auto left = c.get_bucket_notification("inbox").value();
    ASSERT_EQ(left.lambda.size(), 1U);
    EXPECT_EQ(left.lambda[0].id, "keep-me");
    EXPECT_TRUE(c.head_object("inbox", "docs/hello.txt")) << "buckets and objects stay, as in SCAR";

    // Removing again is not an error: everything is already gone.
    const auto rm2 = scar({"rm", "-n", "upper"});
    EXPECT_EQ(rm2.exit_code, 0) << rm2.err;
    EXPECT_NE(rm2.out.find("nothing to remove"), std::string::npos) << rm2.out;
}

}  // namespace

namespace {

/// The `--long` options a verb's help lists.
std::vector<std::string> long_options(const std::string& help) {
    std::vector<std::string> out;
    for (std::size_t at = help.find("--"); at != std::string::npos; at = help.find("--", at + 2)) {
        if (at > 0 && help[at - 1] != ' ' && help[at - 1] != ',') continue;
        auto end = at + 2;
        while (end < help.size() &&
               (std::isalnum(static_cast<unsigned char>(help[end])) != 0 || help[end] == '-'))
            ++end;
        if (end > at + 2) out.push_back(help.substr(at, end - at));
    }
    return out;
}

TEST(CliDocs, EveryOptionOfEveryVerbIsInTheReference) {
    const auto doc = read(fs::path(SCAR_SOURCE_DIR) / "docs" / "cli.md");
    for (const std::string verb :
         {"init", "update", "run", "invoke", "ls", "log", "rm", "cost", "dlq", "put", "get"}) {
        scar::testing::process_options o;
        o.argv = {SCAR_CLI_BIN, verb, "--help"};
        const auto help = scar::testing::run(std::move(o));
        ASSERT_EQ(help.exit_code, 0) << verb;
        // The section whose heading names the verb ("## `scar put` and `scar get`").
        auto section = std::string::npos;
        for (auto at = doc.find("\n## "); at != std::string::npos; at = doc.find("\n## ", at + 1)) {
            const auto line = doc.substr(at, doc.find('\n', at + 1) - at);
            if (line.find("`scar " + verb + "`") != std::string::npos) section = at;
        }
        ASSERT_NE(section, std::string::npos) << "docs/cli.md has no section for " << verb;
        const auto next = doc.find("\n## ", section + 1);
        const auto text = doc.substr(section, next - section);
        for (const auto& opt : long_options(help.out)) {
            if (opt == "--help") continue;
            bool found = false;  // the option as a whole word: --path, not --path-style
            for (auto at = text.find(opt); at != std::string::npos && !found; at = text.find(opt, at + 1)) {
                const char after = at + opt.size() < text.size() ? text[at + opt.size()] : ' ';
                found = std::isalnum(static_cast<unsigned char>(after)) == 0 && after != '-';
            }
            EXPECT_TRUE(found) << "docs/cli.md, section scar " << verb << ", does not describe " << opt;
        }
    }
}

}  // namespace

namespace {

TEST_F(Cli, AFailedInitRemovesWhatItCreatedAndNamesTheStep) {
    // Another function already triggers on the same folder: S3 refuses the second,
    // overlapping rule, after scar made the repository, image, log group and function.
    auto c = s3();
    ASSERT_TRUE(c.create_bucket("clash"));
    scar::s3::notification_config other;
    other.lambda.push_back(
        {"theirs",
         "arn:aws:lambda:us-east-1:000000000000:function:other",
         {"s3:ObjectCreated:*"},
         "docs/",
         ""}
    );
    ASSERT_TRUE(c.put_bucket_notification("clash", other));
    write(
        work_.path() / "clash.toml",
        "[[function]]\nname = \"clash\"\nimage = \"" + host_ +
            "/base:1\"\n[[function.input]]\nstorage = \"s3\"\npath = \"clash/docs\"\n"
    );
    const auto init =
        scar({"init", "-f", (work_.path() / "clash.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE});
    ASSERT_NE(init.exit_code, 0);
    EXPECT_NE(init.err.find("adding the trigger to bucket 'clash'"), std::string::npos) << init.err;
    EXPECT_NE(aws(emu_->url(), {"lambda", "get-function", "--function-name", "clash"}).exit_code, 0);
    EXPECT_NE(aws(emu_->url(), {"ecr", "describe-repositories", "--repository-names", "clash"}).exit_code, 0);
    const auto groups =
        aws(emu_->url(), {"logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/clash"});
    EXPECT_EQ(json::parse(groups.out).at("logGroups").as_array().size(), 0U) << groups.out;
    EXPECT_EQ(c.get_bucket_notification("clash").value(), other) << "the bucket's configuration is as before";

    // An image that does not exist fails at the build step, and the repository goes too.
    write(
        work_.path() / "ghost.toml",
        "[[function]]\nname = \"ghost\"\nimage = \"" + host_ + "/base:404\"\n"
    );
    const auto ghost =
        scar({"init", "-f", (work_.path() / "ghost.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE});
    ASSERT_NE(ghost.exit_code, 0);
    EXPECT_NE(ghost.err.find("base:404"), std::string::npos) << ghost.err;
    EXPECT_NE(aws(emu_->url(), {"ecr", "describe-repositories", "--repository-names", "ghost"}).exit_code, 0);
}

}  // namespace

namespace {

/// containerProperties of the first job definition of a DescribeJobDefinitions answer.
const json::value& props_of(const json::value& answer) {
    return answer.at("jobDefinitions").as_array().at(0).at("containerProperties");
}

/// The job id in "Job delegated to batch. Check batch logs with: scar log -n fn -ri <id>".
std::string delegated_job_id(const std::string& out) {
    const auto at = out.find("-ri ");
    if (at == std::string::npos) return {};
    auto id = out.substr(at + 4);
    while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back())) != 0) id.pop_back();
    return id;
}

TEST_F(Cli, BatchModeFunctionRunsItsEventsAsBatchJobs) {
    write(work_.path() / "fn" / "job.sh", R"(#!/bin/sh
echo "in batch job $AWS_BATCH_JOB_ID"
name=$(basename "$INPUT_FILE_PATH")
tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name.upper"
)");
    write(work_.path() / "fn" / "say.sh", "echo \"said in job $AWS_BATCH_JOB_ID\"\n");
    write(work_.path() / "fn" / "batchy.toml", R"(
[[function]]
name = "batchy"
image = ")" + host_ + R"(/base:1"
timeout = 30
execution_mode = "batch"
init_script = "job.sh"

[function.batch]
memory = 256
max_vcpus = 2

[[function.input]]
storage = "s3"
path = "jobs-in/in"

[[function.output]]
storage = "s3"
path = "jobs-out/out"
)");
    const auto init = scar(
        {"init", "-f", (work_.path() / "fn" / "batchy.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE}
    );
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    const auto ce = json::parse(
        aws(emu_->url(), {"batch", "describe-compute-environments", "--compute-environments", "batchy"}).out
    );
    ASSERT_EQ(ce.at("computeEnvironments").as_array().size(), 1U);
    EXPECT_EQ(ce.at("computeEnvironments").as_array()[0].at("status"), "VALID");
    const auto queues =
        json::parse(aws(emu_->url(), {"batch", "describe-job-queues", "--job-queues", "batchy"}).out);
    ASSERT_EQ(queues.at("jobQueues").as_array().size(), 1U);
    const auto defs = json::parse(
        aws(emu_->url(),
            {"batch", "describe-job-definitions", "--job-definition-name", "batchy", "--status", "ACTIVE"})
            .out
    );
    ASSERT_EQ(defs.at("jobDefinitions").as_array().size(), 1U);
    EXPECT_NE(std::string(props_of(defs).at("image").as_string()).find("/batchy@sha256:"), std::string::npos)
        << "the job runs the function's own image";
    const auto ls = json::parse(scar({"ls", "--json"}).out).as_array();
    ASSERT_EQ(ls.size(), 1U);
    EXPECT_EQ(ls[0].at("mode"), "batch");

    // An upload: the Lambda only dispatches, the job downloads, runs and uploads.
    write(work_.path() / "note.txt", "batch me\n");
    ASSERT_EQ(scar({"put", "-b", "jobs-in/in", "-p", (work_.path() / "note.txt").string()}).exit_code, 0);
    ASSERT_TRUE(wait_for_object("jobs-out", "out/note.txt.upper"));
    EXPECT_EQ(s3().get_object("jobs-out", "out/note.txt.upper").value().body, "BATCH ME\n");

    // A direct run answers SCAR's message with the job id; `scar log -ri` shows the job.
    const auto run = scar({"run", "-n", "batchy", "-s", (work_.path() / "fn" / "say.sh").string()});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(
        run.out.find("Job delegated to batch. Check batch logs with: scar log -n batchy -ri "),
        std::string::npos
    ) << run.out;
    const auto job = delegated_job_id(run.out);
    ASSERT_FALSE(job.empty()) << run.out;
    scar::testing::run_result log;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (auto pause = 20ms; std::chrono::steady_clock::now() < deadline; pause = std::min(pause * 2, 500ms)) {
        log = scar({"log", "-n", "batchy", "-ri", job});
        if (log.out.find("Batch job status: SUCCEEDED") != std::string::npos ||
            log.out.find("Batch job status: FAILED") != std::string::npos)
            break;
        std::this_thread::sleep_for(pause);  // the job's end is the event; Batch has no push
    }
    ASSERT_EQ(log.exit_code, 0) << log.err;
    EXPECT_NE(log.out.find("Batch job status: SUCCEEDED"), std::string::npos) << log.out;
    EXPECT_NE(log.out.find("said in job " + job), std::string::npos) << log.out;

    // scar cost prices the two jobs that ran (an EC2 compute environment: their vCPUs for
    // the seconds they ran) with the dispatches.
    const auto cost = scar({"cost", "-n", "batchy", "--json"});
    ASSERT_EQ(cost.exit_code, 0) << cost.err;
    const auto priced = json::parse(cost.out).at("functions").as_array().at(0).as_object();
    EXPECT_EQ(priced.at("batch_jobs").to_number<int>(), 2) << cost.out;
    EXPECT_GE(priced.at("batch_job_seconds").to_number<double>(), 2.0) << cost.out;
    EXPECT_LT(priced.at("batch_job_seconds").to_number<double>(), 60.0) << cost.out;
    EXPECT_GT(priced.at("batch_cost").to_number<double>(), 0.0);

    // update: a changed job gets a new revision of the definition, the older one goes.
    auto toml = read(work_.path() / "fn" / "batchy.toml");
    toml.replace(toml.find("memory = 256"), 12, "memory = 128");
    write(work_.path() / "fn" / "batchy.toml", toml);
    const auto update = scar(
        {"update",
         "-f",
         (work_.path() / "fn" / "batchy.toml").string(),
         "--supervisor",
         SCAR_SUPERVISOR_BUNDLE}
    );
    ASSERT_EQ(update.exit_code, 0) << update.out << update.err;
    const auto active = json::parse(
        aws(emu_->url(),
            {"batch", "describe-job-definitions", "--job-definition-name", "batchy", "--status", "ACTIVE"})
            .out
    );
    ASSERT_EQ(active.at("jobDefinitions").as_array().size(), 1U) << active;
    EXPECT_EQ(active.at("jobDefinitions").as_array()[0].at("revision"), 2);
    std::string memory;
    for (const auto& r : props_of(active).at("resourceRequirements").as_array())
        if (r.at("type") == "MEMORY") memory = std::string(r.at("value").as_string());
    EXPECT_EQ(memory, "128");

    const auto rm = scar({"rm", "-n", "batchy"});
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_EQ(
        json::parse(aws(emu_->url(),
                        {"batch", "describe-compute-environments", "--compute-environments", "batchy"})
                        .out)
            .at("computeEnvironments")
            .as_array()
            .size(),
        0U
    );
    EXPECT_EQ(
        json::parse(aws(emu_->url(), {"batch", "describe-job-queues", "--job-queues", "batchy"}).out)
            .at("jobQueues")
            .as_array()
            .size(),
        0U
    );
    EXPECT_EQ(
        json::parse(
            aws(emu_->url(),
                {"batch", "describe-job-definitions", "--job-definition-name", "batchy", "--status", "ACTIVE"}
            )
                .out
        )
            .at("jobDefinitions")
            .as_array()
            .size(),
        0U
    );
}

}  // namespace

namespace {

TEST_F(Cli, LambdaBatchFunctionDelegatesWhatWouldTimeOut) {
    // In Lambda (3 s, 1 s kept back) the script is killed after about 2 s; the job has no
    // such limit and finishes it.
    write(work_.path() / "fn" / "slow.sh", R"(#!/bin/sh
if [ -n "$AWS_BATCH_JOB_ID" ]; then where=batch; else where=lambda; sleep 30; fi
echo "finished in $where" > "$TMP_OUTPUT_DIR/where.txt"
)");
    write(work_.path() / "fn" / "slow.toml", R"(
[[function]]
name = "slowpoke"
image = ")" + host_ + R"(/base:1"
timeout = 3
timeout_threshold = 1
execution_mode = "lambda-batch"

[function.batch]
memory = 128

[[function.output]]
storage = "s3"
path = "slow-out/done"
)");
    const auto init = scar(
        {"init", "-f", (work_.path() / "fn" / "slow.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE}
    );
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    const auto run = scar({"run", "-n", "slowpoke", "-s", (work_.path() / "fn" / "slow.sh").string()});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    const auto job = delegated_job_id(run.out);
    ASSERT_FALSE(job.empty()) << run.out;
    ASSERT_TRUE(wait_for_object("slow-out", "done/where.txt"));
    EXPECT_EQ(s3().get_object("slow-out", "done/where.txt").value().body, "finished in batch\n");
    ASSERT_EQ(scar({"rm", "-n", "slowpoke"}).exit_code, 0);
}

}  // namespace

namespace {

TEST_F(Cli, AFailedBatchInitRemovesItsComputeEnvironmentToo) {
    // A job queue of the function's name already exists (on another environment): init makes
    // the function and the compute environment, then CreateJobQueue fails.
    ASSERT_EQ(
        aws(emu_->url(),
            {"batch",
             "create-compute-environment",
             "--compute-environment-name",
             "theirs",
             "--type",
             "MANAGED",
             "--compute-resources",
             "type=EC2,maxvCpus=1,subnets=s,instanceRole=r"})
            .exit_code,
        0
    );
    ASSERT_EQ(
        aws(emu_->url(),
            {"batch",
             "create-job-queue",
             "--job-queue-name",
             "taken",
             "--priority",
             "1",
             "--compute-environment-order",
             "order=1,computeEnvironment=theirs"})
            .exit_code,
        0
    );
    write(
        work_.path() / "taken.toml",
        "[[function]]\nname = \"taken\"\nimage = \"" + host_ + "/base:1\"\nexecution_mode = \"batch\"\n"
    );
    const auto init =
        scar({"init", "-f", (work_.path() / "taken.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE});
    ASSERT_NE(init.exit_code, 0);
    EXPECT_NE(init.err.find("creating Batch job queue 'taken'"), std::string::npos) << init.err;
    EXPECT_NE(aws(emu_->url(), {"lambda", "get-function", "--function-name", "taken"}).exit_code, 0);
    const auto envs = json::parse(aws(emu_->url(), {"batch", "describe-compute-environments"}).out);
    ASSERT_EQ(envs.at("computeEnvironments").as_array().size(), 1U) << envs;
    EXPECT_EQ(envs.at("computeEnvironments").as_array()[0].at("computeEnvironmentName"), "theirs");
    const auto queues = json::parse(aws(emu_->url(), {"batch", "describe-job-queues"}).out);
    EXPECT_EQ(queues.at("jobQueues").as_array().size(), 1U) << "their queue stays";
}

}  // namespace
