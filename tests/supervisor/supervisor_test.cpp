// One invocation end to end through the library, against a real scar-emulator S3 on
// loopback: recorded-shape events in, objects and responses out.

#include "scar/supervisor/supervisor.hpp"

#include <scar/core/encoding.hpp>
#include <scar/s3/event.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace sv = scar::supervisor;
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

class Supervisor : public ::testing::Test {
protected:
    static void SetUpTestSuite() { emu_ = new scar::testing::emulator_process(); }
    static void TearDownTestSuite() {
        delete emu_;
        emu_ = nullptr;
    }

    void SetUp() override {
        for (const char* b : {"in", "out", "other"}) (void)emu_->s3("PUT", "/" + std::string(b) + suffix_());
        s3_ = std::make_unique<scar::s3::client>(client_for(emu_->url()));
    }

    /// Bucket names unique per test, so tests do not see each other's objects.
    static std::string suffix_() {
        return "-" +
               scar::encoding::to_lower(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    static std::string bucket(const std::string& b) { return b + suffix_(); }

    static scar::s3::client client_for(const std::string& url) {
        scar::s3::client_options o;
        o.endpoint = url;
        o.credentials = {"test", "test", "", "test"};
        o.style = scar::s3::addressing::path;
        return scar::s3::client(o);
    }

    sv::settings settings(const std::string& endpoint = {}) {
        sv::settings s;
        s.aws = scar::aws::config_sources::from_map(
            {{"AWS_ACCESS_KEY_ID", "test"},
             {"AWS_SECRET_ACCESS_KEY", "test"},
             {"AWS_REGION", "us-east-1"},
             {"AWS_ENDPOINT_URL", endpoint.empty() ? emu_->url() : endpoint}}
        );
        s.base_env = {"PATH=/usr/bin:/bin", "HOME=/root"};
        s.temp_root = tmp_.path();
        s.log_group = "/aws/lambda/fn";
        s.log_stream = "2024/05/01/[$LATEST]abc";
        s.on_output = [this](std::string_view chunk, bool) { output_ += chunk; };
        s.function.name = "fn";
        return s;
    }

    fs::path script(const std::string& text) {
        const auto p = task_.path() / "script.sh";
        std::ofstream(p) << text;
        return p;
    }

    static std::string s3_event(const std::string& b, const std::string& key) {
        scar::s3::event_record r;
        r.aws_region = "us-east-1";
        r.event_time = scar::clock::time_point(std::chrono::milliseconds(1714564800123));
        r.event_name = "ObjectCreated:Put";
        r.bucket_name = b;
        r.bucket_arn = "arn:aws:s3:::" + b;
        r.key = key;
        r.size = 5;
        return scar::s3::to_json(scar::s3::event_batch{{r}});
    }

    std::optional<std::string> object(const std::string& b, const std::string& key) {
        auto got = s3_->get_object(b, key);
        if (!got) return std::nullopt;
        return got->body;
    }

    static json::object body_of(const sv::reply& r) {
        EXPECT_TRUE(r.ok) << r.error_type << ": " << r.error_message;
        return json::parse(r.body).as_object();
    }

    static std::string decoded_body(const json::object& resp) {
        return scar::encoding::base64_decode(resp.at("body").as_string()).value();
    }

    bool temp_root_empty() const { return fs::is_empty(tmp_.path()); }

    static scar::testing::emulator_process* emu_;
    std::unique_ptr<scar::s3::client> s3_;
    scar::testing::temp_dir tmp_{"scar-sv-tmp"};
    scar::testing::temp_dir task_{"scar-sv-task"};
    std::string output_;
};

scar::testing::emulator_process* Supervisor::emu_ = nullptr;

std::map<std::string, std::string> parse_env(const std::string& text) {
    std::map<std::string, std::string> m;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\0', pos);
        const std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        const auto eq = line.find('=');
        if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return m;
}

TEST_F(Supervisor, S3EventInputEnvironmentAndFilteredOutputs) {
    ASSERT_TRUE(s3_->put_object(bucket("in"), "photos/my cat.jpg", "JPEG!"));
    auto s = settings();
    s.function.container_environment = {{"FOO", "bar"}, {"REQUEST_ID", "overridden by the supervisor"}};
    s.function.init_script = script(
        "set -e\n"
        "env -0 > \"$TMP_OUTPUT_DIR/env.txt\"\n"
        "mkdir -p \"$TMP_OUTPUT_DIR/images/small\"\n"
        "cp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/images/small/copy.jpg\"\n"
        "echo '{}' > \"$TMP_OUTPUT_DIR/result.json\"\n"
        "echo processed \"$(basename \"$INPUT_FILE_PATH\")\"\n"
    );
    scar::config::storage_path jpgs;
    jpgs.bucket = bucket("out");
    jpgs.folder = "processed/gray";
    jpgs.suffixes = {".jpg"};
    scar::config::storage_path envs;
    envs.bucket = bucket("other");
    envs.prefixes = {"env"};
    s.function.outputs = {jpgs, envs};
    const sv::supervisor sup(s);

    const auto r = sup.handle({"req-1", s3_event(bucket("in"), "photos/my cat.jpg"), std::nullopt});
    const auto resp = body_of(r);
    EXPECT_EQ(resp.at("statusCode").as_int64(), 200);
    EXPECT_EQ(resp.at("isBase64Encoded"), true);
    EXPECT_EQ(resp.at("headers").at("amz-lambda-request-id"), "req-1");
    EXPECT_EQ(resp.at("headers").at("amz-log-group-name"), "/aws/lambda/fn");
    EXPECT_EQ(resp.at("headers").at("amz-log-stream-name"), "2024/05/01/[$LATEST]abc");
    EXPECT_EQ(decoded_body(resp), "processed my cat.jpg\n");
    EXPECT_EQ(output_, "processed my cat.jpg\n");

    EXPECT_EQ(object(bucket("out"), "processed/gray/images/small/copy.jpg"), "JPEG!");
    EXPECT_FALSE(object(bucket("out"), "processed/gray/result.json")) << "suffix filter";
    EXPECT_FALSE(object(bucket("other"), "result.json")) << "prefix filter";
    const auto env_text = object(bucket("other"), "env.txt");
    ASSERT_TRUE(env_text);
    const auto env = parse_env(*env_text);
    EXPECT_EQ(env.at("STORAGE_OBJECT_KEY"), "photos/my cat.jpg");
    EXPECT_EQ(env.at("INPUT_FILE_PATH"), env.at("TMP_INPUT_DIR") + "/my cat.jpg");
    EXPECT_TRUE(env.at("TMP_INPUT_DIR").starts_with(tmp_.path().string()));
    EXPECT_TRUE(env.at("TMP_OUTPUT_DIR").starts_with(tmp_.path().string()));
    EXPECT_EQ(env.at("EVENT_TIME"), "2024-05-01T12:00:00.123Z");
    EXPECT_EQ(env.at("REQUEST_ID"), "req-1");
    EXPECT_EQ(env.at("AWS_LAMBDA_REQUEST_ID"), "req-1");
    EXPECT_EQ(env.count("INSTANCE_IP"), 1U);
    EXPECT_NE(env.at("EVENT").find("\"Records\""), std::string::npos);
    EXPECT_EQ(env.at("FOO"), "bar");
    EXPECT_EQ(env.at("HOME"), "/root");
    ASSERT_EQ(r.uploads.size(), 2U);
    EXPECT_TRUE(temp_root_empty()) << "the invocation's directories are removed";
}

TEST_F(Supervisor, MissingObjectIsAFunctionErrorAndNothingRuns) {
    auto s = settings();
    s.function.init_script = script("echo ran > /dev/stderr\n");
    const auto r = sv::supervisor(s).handle({"req-2", s3_event(bucket("in"), "nope.txt"), std::nullopt});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error_type, "NoSuchKey");
    EXPECT_NE(
        r.error_message.find("while downloading the input s3://" + bucket("in") + "/nope.txt"),
        std::string::npos
    ) << r.error_message;
    EXPECT_FALSE(r.outcome);
    EXPECT_TRUE(output_.empty());
    EXPECT_TRUE(temp_root_empty());
}

TEST_F(Supervisor, UnreachableS3IsAQuickClearError) {
    auto s = settings("http://127.0.0.1:1");
    s.function.init_script = script("true\n");
    const auto before = std::chrono::steady_clock::now();
    const auto r = sv::supervisor(s).handle({"req-3", s3_event(bucket("in"), "a.txt"), std::nullopt});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error_type, "NetworkError");
    EXPECT_NE(r.error_message.find("127.0.0.1:1"), std::string::npos) << r.error_message;
    EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
}

TEST_F(Supervisor, NonZeroExitIsReportedAndOutputsStillUploaded) {
    auto s = settings();
    s.function.init_script = script(
        "echo partial > \"$TMP_OUTPUT_DIR/partial.txt\"\n"
        "echo 'something broke' >&2\n"
        "exit 4\n"
    );
    scar::config::storage_path o;
    o.bucket = bucket("out");
    s.function.outputs = {o};
    const auto r = sv::supervisor(s).handle({"req-4", "{}", std::nullopt});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error_type, "ScriptFailed");
    EXPECT_NE(r.error_message.find("exited with code 4"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("something broke"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("1 of 1 output upload(s) done"), std::string::npos) << r.error_message;
    EXPECT_EQ(object(bucket("out"), "partial.txt"), "partial\n");
    EXPECT_TRUE(temp_root_empty());
}

TEST_F(Supervisor, TimeoutThresholdLeavesTimeToUpload) {
    auto s = settings();
    s.function.timeout_threshold_s = 2;
    s.function.init_script = script(
        "echo early > \"$TMP_OUTPUT_DIR/early.txt\"\n"
        "sleep 30\n"
    );
    scar::config::storage_path o;
    o.bucket = bucket("out");
    o.folder = "t";
    s.function.outputs = {o};
    const auto deadline = scar::clock::system().now() + 2600ms;
    const auto r = sv::supervisor(s).handle({"req-5", "{}", deadline});
    EXPECT_LT(scar::clock::system().now(), deadline) << "finished before Lambda's deadline";
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error_type, "ScriptTimedOut");
    EXPECT_NE(r.error_message.find("timeout_threshold 2 s"), std::string::npos) << r.error_message;
    EXPECT_EQ(object(bucket("out"), "t/early.txt"), "early\n");
    ASSERT_TRUE(r.outcome);
    EXPECT_EQ(r.outcome->how, sv::command_outcome::ending::timed_out);
}

TEST_F(Supervisor, ThresholdLargerThanTheTimeLeftKeepsAQuarter) {
    auto s = settings();
    s.function.timeout_threshold_s = 10;
    s.function.init_script = script("sleep 30\n");
    const auto r = sv::supervisor(s).handle({"req-6", "{}", scar::clock::system().now() + 800ms});
    EXPECT_EQ(r.error_type, "ScriptTimedOut");
    EXPECT_LT(r.times.script_ended - r.times.script_started, 800ms);
}

TEST_F(Supervisor, ApiGatewayBinaryInBinaryOut) {
    auto s = settings();
    s.function.init_script = script(
        "cat \"$INPUT_FILE_PATH\" > \"$TMP_OUTPUT_DIR/out.bin\"\n"
        "printf '\\377\\000' >> \"$TMP_OUTPUT_DIR/out.bin\"\n"
        "echo this stdout is not the body\n"
    );
    const std::string payload =
        R"({"httpMethod":"POST","path":"/launch","headers":{"Content-Type":"application/octet-stream"},)"
        R"("requestContext":{"httpMethod":"POST"},"body":")" +
        scar::encoding::base64_encode(std::string("\x00\x01\x02\xfd", 4)) + R"(","isBase64Encoded":true})";
    const auto r = sv::supervisor(s).handle({"req-7", payload, std::nullopt});
    const auto resp = body_of(r);
    EXPECT_EQ(resp.at("statusCode").as_int64(), 200);
    EXPECT_EQ(resp.at("isBase64Encoded"), true);
    EXPECT_EQ(resp.at("headers").at("Content-Type"), "application/octet-stream");
    EXPECT_EQ(decoded_body(resp), std::string("\x00\x01\x02\xfd\xff\x00", 6));
}

TEST_F(Supervisor, ApiGatewayQueryParametersBecomeContVars) {
    auto s = settings();
    s.function.init_script =
        script("printf '%s|%s|%s' \"$CONT_VAR_size\" \"$CONT_VAR_bad_name_x\" \"${INPUT_FILE_PATH-none}\"\n");
    std::ifstream in(std::string(SCAR_SOURCE_DIR) + "/tests/supervisor/data/apigw_v1_get.json");
    const std::string payload((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto r = sv::supervisor(s).handle({"req-8", payload, std::nullopt});
    EXPECT_EQ(decoded_body(body_of(r)), "200|1|none");
}

TEST_F(Supervisor, ApiGatewayScriptFailureIsA500ProxyResponse) {
    auto s = settings();
    s.function.init_script = script("echo nope >&2; exit 2\n");
    const auto r = sv::supervisor(s).handle(
        {"req-9", R"({"httpMethod":"GET","requestContext":{"httpMethod":"GET"},"body":null})", std::nullopt}
    );
    const auto resp = body_of(r);
    EXPECT_EQ(resp.at("statusCode").as_int64(), 500);
    EXPECT_EQ(resp.at("isBase64Encoded"), false);
    const auto err = json::parse(resp.at("body").as_string()).as_object();
    EXPECT_EQ(err.at("errorType"), "ScriptFailed");
    EXPECT_NE(std::string(err.at("errorMessage").as_string()).find("nope"), std::string::npos);
}

TEST_F(Supervisor, ScriptCmdArgsAndTheImageCommand) {
    auto s = settings();
    s.command = {"/bin/sh", "-c", "echo default command"};
    s.entrypoint_words = 1;
    const sv::supervisor sup(s);
    const auto script_reply = sup.handle(
        {"r1",
         R"({"script":")" + scar::encoding::base64_encode("echo from the event script\n") + R"("})",
         std::nullopt}
    );
    EXPECT_EQ(decoded_body(body_of(script_reply)), "from the event script\n");
    const auto cmd =
        sup.handle({"r2", R"({"cmd_args":"[\"-c\", \"echo args: $0\", \"zero\"]"})", std::nullopt});
    EXPECT_EQ(decoded_body(body_of(cmd)), "args: zero\n");
    const auto dflt = sup.handle({"r3", "{}", std::nullopt});
    EXPECT_EQ(decoded_body(body_of(dflt)), "default command\n");
    EXPECT_TRUE(temp_root_empty());

    auto bare = settings();
    const auto nothing = sv::supervisor(bare).handle({"r4", "{}", std::nullopt});
    EXPECT_EQ(nothing.error_type, "NothingToRun");
}

TEST_F(Supervisor, PayloadBecomesTheInputFile) {
    auto s = settings();
    s.function.init_script = script("cat \"$INPUT_FILE_PATH\"\n");
    const auto r = sv::supervisor(s).handle({"r", R"({"n": 1})", std::nullopt});
    EXPECT_EQ(decoded_body(body_of(r)), R"({"n": 1})");
}

TEST_F(Supervisor, FolderMarkerNeedsNoWork) {
    auto s = settings();
    s.function.init_script = script("echo ran\n");
    const auto r = sv::supervisor(s).handle({"r", s3_event(bucket("in"), "new-folder/"), std::nullopt});
    EXPECT_EQ(decoded_body(body_of(r)), "");
    EXPECT_FALSE(r.outcome);
}

TEST_F(Supervisor, FailedUploadIsReported) {
    auto s = settings();
    s.function.init_script = script("echo x > \"$TMP_OUTPUT_DIR/x.txt\"\n");
    scar::config::storage_path o;
    o.bucket = "no-such-bucket-anywhere";
    s.function.outputs = {o};
    const auto r = sv::supervisor(s).handle({"r", "{}", std::nullopt});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error_type, "NoSuchBucket");
    EXPECT_NE(
        r.error_message.find("uploading 'x.txt' to s3://no-such-bucket-anywhere/x.txt"),
        std::string::npos
    ) << r.error_message;
    EXPECT_NE(r.error_message.find("0 of 1 output upload(s) done"), std::string::npos);

    scar::config::storage_path unknown;
    unknown.bucket = bucket("out");
    unknown.provider = "minio.nowhere";
    s.function.outputs = {unknown};
    const auto u = sv::supervisor(s).handle({"r", "{}", std::nullopt});
    EXPECT_EQ(u.error_type, "ConfigInvalid");
    EXPECT_NE(u.error_message.find("[storage.minio.nowhere]"), std::string::npos);
}

TEST_F(Supervisor, NamedProviderWithItsOwnEndpointAndKeys) {
    ASSERT_TRUE(s3_->put_object(bucket("in"), "a.txt", "hello"));
    auto s = settings("http://127.0.0.1:1");  // the function's own endpoint is unreachable
    scar::config::storage_provider p;
    p.type = "minio";
    p.id = "local";
    p.endpoint = emu_->url();
    p.access_key = "test";
    p.secret_key = "test";
    p.path_style = true;
    s.storage[p.name()] = p;
    scar::config::storage_path in;
    in.provider = p.name();
    in.bucket = bucket("in");
    scar::config::storage_path o = in;
    o.bucket = bucket("out");
    s.function.inputs = {in};
    s.function.outputs = {o};
    s.function.init_script = script("tr a-z A-Z < \"$INPUT_FILE_PATH\" > \"$TMP_OUTPUT_DIR/up.txt\"\n");
    const auto r = sv::supervisor(s).handle({"r", s3_event(bucket("in"), "a.txt"), std::nullopt});
    EXPECT_TRUE(r.ok) << r.error_message;
    EXPECT_EQ(object(bucket("out"), "up.txt"), "HELLO");
}

}  // namespace
