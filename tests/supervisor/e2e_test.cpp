// scar-supervisor as the program it ships as: the bundle (static launcher, the program,
// its libraries and glibc's loader) run in rootfs without glibc (busybox, musl), with the
// host's Debian, and as the runtime of an image function in scar-emulator.

#include <scar/config/function.hpp>
#include <scar/core/encoding.hpp>
#include <scar/image/build.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/lambda/client.hpp>
#include <scar/s3/client.hpp>
#include <scar/sandbox/container.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/emulator_process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace img = scar::image;
using namespace std::chrono_literals;

const fs::path bundle_dir = SCAR_SUPERVISOR_BUNDLE;

/// A rootfs of busybox (statically linked: no libc in the image) and its applets.
void busybox_rootfs(const fs::path& root) {
    fs::create_directories(root / "bin");
    fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
    for (const char* a :
         {"sh", "cat", "cp", "echo", "env", "mkdir", "tr", "sleep", "printf", "ls", "basename", "head", "wc"})
        fs::create_symlink("busybox", root / "bin" / a);
}

scar::s3::client s3_client(const std::string& url) {
    scar::s3::client_options o;
    o.endpoint = url;
    o.credentials = {"test", "test", "", "test"};
    o.style = scar::s3::addressing::path;
    return scar::s3::client(o);
}

std::optional<std::string> wait_for_object(
    scar::s3::client& s3,
    const std::string& b,
    const std::string& key
) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (auto got = s3.get_object(b, key)) return got->body;
        std::this_thread::sleep_for(20ms);  // polling S3 for the object: the event we wait on
    }
    return std::nullopt;
}

/// ECR CreateRepository on the emulator (a signed JSON request); "" on success, else why.
std::string create_repository(const std::string& url, const std::string& name) {
    scar::http::request req;
    req.method = "POST";
    req.url = url + "/";
    req.headers = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.CreateRepository"}};
    req.body = R"({"repositoryName":")" + name + R"("})";
    const scar::aws::credentials creds{"test", "test", "", "test"};
    auto p = scar::sigv4::signing_params::make(creds, "us-east-1", "ecr", scar::clock::system().now());
    if (auto signed_ = scar::sigv4::sign(req, p); !signed_) return signed_.error().what();
    scar::http::client client;
    auto r = client.send(req);
    if (!r) return r.error().what();
    return r->status == 200 ? std::string()
                            : "CreateRepository: HTTP " + std::to_string(r->status) + " " + r->body;
}

std::string script_event(const std::string& script) {
    return R"({"script":")" + scar::encoding::base64_encode(script) + R"("})";
}

class Portable : public ::testing::Test {
protected:
    void SetUp() override {
        if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
        ASSERT_TRUE(fs::exists(bundle_dir / "scar-supervisor")) << "build the scar-supervisor target first";
    }

    /// Runs the bundle in `root` in binary mode with a script event; returns its stdout, or
    /// with `expect_ok` false (an invocation that must fail) its stdout and stderr.
    std::string run_in(
        const fs::path& root,
        const std::string& script,
        std::vector<scar::sandbox::bind_mount> more = {},
        bool expect_ok = true
    ) {
        scar::config::function_definition fn;
        fn.name = "portable";
        fn.image = "busybox";
        scar::config::storage_path out;
        out.bucket = "portable";
        out.folder = root.filename().string();
        fn.outputs = {out};
        scar::config::definitions defs;
        defs.functions = {fn};
        scar::sandbox::spec s;
        s.rootfs = root;
        s.argv = {"/opt/scar/scar-supervisor"};
        s.env = {
            "PATH=/usr/bin:/bin",
            "EVENT=" + script_event(script),
            "FUNCTION_CONFIG=" + scar::encoding::base64_encode(scar::config::to_toml(fn, defs)),
            "AWS_ENDPOINT_URL=" + emu_.url(),
            "AWS_ACCESS_KEY_ID=test",
            "AWS_SECRET_ACCESS_KEY=test",
            "AWS_REGION=us-east-1",
            "SCAR_LOG_LEVEL=warn"};
        s.mounts = {{bundle_, "/opt/scar", true}};
        s.mounts.insert(s.mounts.end(), more.begin(), more.end());
        s.timeout = 20s;
        std::string out_text;
        std::string err_text;
        s.stdout_sink.callback = [&](std::string_view c) { out_text += c; };
        s.stderr_sink.callback = [&](std::string_view c) { err_text += c; };
        const auto o = scar::sandbox::run(s);
        if (!o) {
            ADD_FAILURE() << o.error().message;
        } else if (!expect_ok) {
            EXPECT_FALSE(o->ok()) << out_text;
            return out_text + err_text;
        } else {
            EXPECT_TRUE(o->ok()) << scar::sandbox::to_string(o->how) << " " << o->exit_code << "\n"
                                 << err_text;
        }
        if (out_text.empty()) return err_text;
        const auto resp = json::parse(out_text).as_object();
        if (!resp.contains("statusCode")) {
            ADD_FAILURE() << out_text;
            return {};
        }
        EXPECT_EQ(resp.at("statusCode").as_int64(), 200) << out_text;
        return scar::encoding::base64_decode(resp.at("body").as_string()).value();
    }

    fs::path bundle_ = bundle_dir;  ///< mounted at /opt/scar
    scar::testing::temp_dir work_{"scar-sv-portable"};
    scar::testing::emulator_process emu_{work_.path() / "data"};
    scar::s3::client s3_ = s3_client(emu_.url());
};

constexpr const char* probe_script =
    "echo \"libc: $(ls /lib 2>/dev/null | head -1)\"\n"
    "[ -z \"$LD_LIBRARY_PATH\" ] && echo clean-env\n"
    "echo ok > \"$TMP_OUTPUT_DIR/ran.txt\"\n";

TEST_F(Portable, BusyboxImageWithNoLibc) {
    ASSERT_TRUE(s3_.create_bucket("portable"));
    const auto root = work_.path() / "busybox";
    busybox_rootfs(root);
    EXPECT_EQ(run_in(root, probe_script), "libc: \nclean-env\n");
    EXPECT_EQ(wait_for_object(s3_, "portable", "busybox/ran.txt"), "ok\n");
}

TEST_F(Portable, WithoutLibcurlTheProgramStartsAndTransfersNameThePackage) {
    // The bundle without lib/libcurl.so.4, in an image with no libraries of its own: the
    // program does not link libcurl, so it starts and runs the script; the output upload,
    // its first transfer, fails with what to install.
    ASSERT_TRUE(s3_.create_bucket("portable"));
    const auto copy = work_.path() / "bundle-without-curl";
    fs::copy(bundle_dir, copy, fs::copy_options::recursive);
    ASSERT_TRUE(fs::remove(copy / "lib" / "libcurl.so.4"));
    bundle_ = copy;
    const auto root = work_.path() / "nocurl";
    busybox_rootfs(root);
    const auto out = run_in(root, "echo ran >&2\n" + std::string(probe_script), {}, false);
    EXPECT_NE(out.find("ran"), std::string::npos) << out;
    EXPECT_NE(out.find("MissingLibrary"), std::string::npos) << out;
    EXPECT_NE(out.find("cannot load libcurl.so.4"), std::string::npos) << out;
    EXPECT_NE(out.find("apt-get install libcurl4"), std::string::npos) << out;
}

TEST_F(Portable, AlpineStyleMuslRootfs) {
    if (!fs::exists("/usr/lib/x86_64-linux-musl/libc.so"))
        GTEST_SKIP() << "musl is not installed: apt-get install musl";
    ASSERT_TRUE(s3_.create_bucket("portable"));
    const auto root = work_.path() / "musl";
    busybox_rootfs(root);
    fs::create_directories(root / "lib");
    fs::create_directories(root / "usr" / "bin");
    // musl's libc is its own loader, as in Alpine.
    fs::copy_file("/usr/lib/x86_64-linux-musl/libc.so", root / "lib" / "ld-musl-x86_64.so.1");
    std::string script = probe_script;
    if (fs::exists(SCAR_MUSL_HELLO)) {
        fs::copy_file(SCAR_MUSL_HELLO, root / "usr" / "bin" / "hello");
        script += "hello\n";
    }
    const auto out = run_in(root, script);
    EXPECT_TRUE(out.starts_with("libc: ld-musl-x86_64.so.1\nclean-env\n")) << out;
    if (fs::exists(SCAR_MUSL_HELLO)) {
        EXPECT_NE(out.find("hello from musl"), std::string::npos) << out;
    }
    EXPECT_EQ(wait_for_object(s3_, "portable", "musl/ran.txt"), "ok\n");
}

TEST_F(Portable, DebianImage) {
    ASSERT_TRUE(s3_.create_bucket("portable"));
    // The host's Debian 12 system directories, read-only, as the emulator gives zip functions.
    const auto root = work_.path() / "debian";
    fs::create_directories(root);
    std::vector<scar::sandbox::bind_mount> system;
    for (const char* d : {"/usr", "/bin", "/lib", "/lib64", "/etc/os-release"})
        if (fs::exists(d)) system.push_back({d, d, true});
    const auto out = run_in(root, std::string(probe_script) + "head -1 /etc/os-release\n", system);
    EXPECT_NE(out.find("clean-env\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Debian"), std::string::npos) << out;
    EXPECT_EQ(wait_for_object(s3_, "portable", "debian/ran.txt"), "ok\n");
}

/// Binary mode on the host, as a Batch job runs it: the event in EVENT (or on stdin), the
/// configuration in FUNCTION_CONFIG, the init script in SCRIPT; the response on stdout.
TEST(BinaryMode, BatchJobEnvelopeStdinAndExitStatus) {
    scar::testing::temp_dir work("scar-sv-binary");
    scar::testing::emulator_process emu(work.path() / "data");
    auto s3 = s3_client(emu.url());
    ASSERT_TRUE(s3.create_bucket("in-bucket"));
    ASSERT_TRUE(s3.create_bucket("batch-out"));
    ASSERT_TRUE(s3.put_object("in-bucket", "video/seq1.avi", "frames"));
    scar::config::function_definition fn;
    fn.name = "batchy";
    fn.image = "busybox";
    fn.mode = scar::config::execution_mode::batch;
    scar::config::storage_path out;
    out.bucket = "batch-out";
    fn.outputs = {out};
    scar::config::definitions defs;
    defs.functions = {fn};
    std::ifstream in(std::string(SCAR_SOURCE_DIR) + "/tests/supervisor/data/batch_envelope.json");
    const std::string envelope((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto run = [&](std::map<std::string, std::string> env, std::string stdin_data = {}) {
        scar::testing::process_options o;
        o.argv = {(bundle_dir / "scar-supervisor").string()};
        o.env = {
            {"AWS_ENDPOINT_URL", emu.url()},
            {"AWS_ACCESS_KEY_ID", "test"},
            {"AWS_SECRET_ACCESS_KEY", "test"},
            {"AWS_REGION", "us-east-1"},
            {"LAMBDA_TASK_ROOT", work.path().string()},
            {"SCAR_LOG_LEVEL", "warn"}};
        o.unset_env = {"AWS_LAMBDA_RUNTIME_API", "EVENT", "FUNCTION_CONFIG", "SCRIPT", "AWS_PROFILE"};
        for (auto& [k, v] : env) o.env[k] = v;
        o.stdin_data = std::move(stdin_data);
        return scar::testing::run(std::move(o), 30s);
    };
    const auto job = run(
        {{"EVENT", envelope},
         {"FUNCTION_CONFIG", scar::encoding::base64_encode(scar::config::to_toml(fn, defs))},
         {"AWS_BATCH_JOB_ID", "job-1"},
         {"SCRIPT",
          scar::encoding::base64_encode(
              "mkdir -p \"$TMP_OUTPUT_DIR/video\"\n"
              "cp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/$STORAGE_OBJECT_KEY.done\"\n"
              "echo job $REQUEST_ID\n"
          )}}
    );
    ASSERT_EQ(job.exit_code, 0) << job.err;
    const auto resp = json::parse(job.out).as_object();
    EXPECT_EQ(resp.at("headers").at("amz-lambda-request-id"), "job-1");
    EXPECT_EQ(scar::encoding::base64_decode(resp.at("body").as_string()).value(), "job job-1\n");
    EXPECT_EQ(s3.get_object("batch-out", "video/seq1.avi.done").value().body, "frames");

    const auto from_stdin = run({}, R"({"script":")" + scar::encoding::base64_encode("echo piped") + R"("})");
    ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
    EXPECT_NE(from_stdin.out.find(scar::encoding::base64_encode("piped\n")), std::string::npos)
        << from_stdin.out;

    const auto failed = run({{"EVENT", R"({"script":"ZXhpdCA1Cg=="})"}});  // exit 5
    EXPECT_EQ(failed.exit_code, 1);
    EXPECT_EQ(json::parse(failed.out).at("errorType"), "ScriptFailed") << failed.out;

    const auto bad_config = run({{"EVENT", "{}"}, {"FUNCTION_CONFIG", "[[function]]\nname = 3\n"}});
    EXPECT_EQ(bad_config.exit_code, 1);
    EXPECT_EQ(json::parse(bad_config.out).at("errorType"), "ConfigInvalid") << bad_config.out;

    const auto nothing = run({{"EVENT", "{}"}});
    EXPECT_EQ(nothing.exit_code, 1);
    EXPECT_EQ(json::parse(nothing.out).at("errorType"), "NothingToRun") << nothing.out;
    scar::testing::process_options help;
    help.argv = {(bundle_dir / "scar-supervisor").string(), "--bogus"};
    const auto bogus = scar::testing::run(std::move(help), 10s);
    EXPECT_EQ(bogus.exit_code, 2);
    EXPECT_NE(bogus.err.find("unknown option '--bogus'"), std::string::npos) << bogus.err;
}

/// The supervisor as the runtime of an image function: busybox, the bundle at /opt/scar,
/// the configuration and script at /var/task, pushed to the emulator's ECR.
class InEmulator : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!scar::sandbox::check_available()) return;
        work_ = new scar::testing::temp_dir("scar-sv-e2e");
        emu_ = new scar::testing::emulator_process(work_->path() / "data");
        auto s3 = s3_client(emu_->url());
        for (const char* b : {"sv-in", "sv-out"}) (void)s3.create_bucket(b);

        const auto root = work_->path() / "rootfs";
        busybox_rootfs(root);
        fs::create_directories(root / "var" / "task");
        fs::create_directories(root / "opt");
        fs::copy(bundle_dir, root / "opt" / "scar", fs::copy_options::recursive);
        std::ofstream(root / "var" / "task" / "script.sh")
            << "set -e\n"
               "mkdir -p \"$TMP_OUTPUT_DIR/meta\"\n"
               "env > \"$TMP_OUTPUT_DIR/meta/env\"\n"
               "case \"$INPUT_FILE_PATH\" in\n"
               "  */event-file) cat \"$INPUT_FILE_PATH\" ;;\n"
               "  ?*) tr a-z A-Z < \"$INPUT_FILE_PATH\" > \"$TMP_OUTPUT_DIR/$(basename "
               "\"$INPUT_FILE_PATH\").txt\"\n"
               "      echo \"done $STORAGE_OBJECT_KEY\" ;;\n"
               "esac\n";
        scar::config::function_definition fn;
        fn.name = "sv";
        fn.image = "sv:1";
        fn.timeout_s = 3;
        fn.timeout_threshold_s = 2;
        fn.init_script = root / "var" / "task" / "script.sh";
        fn.container_environment = {{"STAGE", "e2e"}};
        scar::config::storage_path in;
        in.bucket = "sv-in";
        scar::config::storage_path results;
        results.bucket = "sv-out";
        results.folder = "results";
        results.suffixes = {".txt"};
        scar::config::storage_path meta;
        meta.bucket = "sv-out";
        meta.folder = "json";
        meta.prefixes = {"meta/"};
        fn.inputs = {in};
        fn.outputs = {results, meta};
        scar::config::definitions defs;
        defs.functions = {fn};
        std::ofstream(root / "var" / "task" / "function.toml") << scar::config::to_toml(fn, defs);

        const std::string host = emu_->url().substr(7);
        if (auto repo = create_repository(emu_->url(), "sv"); !repo.empty()) {
            setup_error_ = repo;
            return;
        }
        img::build_request req;
        req.layers = {root};
        req.changes.entrypoint =
            std::vector<std::string>{"/opt/scar/scar-supervisor", "--entrypoint-words", "1", "--", "/bin/sh"};
        req.changes.env = {"PATH=/bin"};
        req.target = img::parse_reference(host + "/sv:1").value();
        img::registry_options ro;
        ro.auth.use_docker_config = false;
        ro.auth.explicit_credentials = img::credentials{"test", "test", {}};
        if (auto built = img::build_image(req, img::store(work_->path() / "store"), ro); !built) {
            setup_error_ = built.error().what();
            return;
        }
        lambda_ = new scar::lambda::client({emu_->url(), "us-east-1", {"test", "test", "", "test"}});
        scar::lambda::create_function_request cf;
        cf.name = "sv";
        cf.role = "arn:aws:iam::000000000000:role/r";
        cf.image_uri = host + "/sv:1";
        cf.timeout_s = 3;
        cf.memory_mb = 256;
        auto created = lambda_->create_function(cf);
        if (!created) {
            setup_error_ = created.error().what();
            return;
        }
        arn_ = created->arn;
        if (auto active = lambda_->wait_active("sv", 60s); !active) setup_error_ = active.error().what();
    }
    static void TearDownTestSuite() {
        delete lambda_;
        delete emu_;
        delete work_;
    }
    void SetUp() override {
        if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
        ASSERT_TRUE(setup_error_.empty()) << setup_error_;
        ASSERT_NE(lambda_, nullptr);
    }

    static scar::lambda::invoke_result invoke(const std::string& payload) {
        auto r = lambda_->invoke("sv", payload);
        EXPECT_TRUE(r) << r.error().what();
        return r ? *r : scar::lambda::invoke_result{};
    }
    static std::string body(const scar::lambda::invoke_result& r) {
        EXPECT_FALSE(r.function_error) << r.payload;
        const auto resp = json::parse(r.payload).as_object();
        return scar::encoding::base64_decode(resp.at("body").as_string()).value();
    }

    static scar::testing::temp_dir* work_;
    static scar::testing::emulator_process* emu_;
    static scar::lambda::client* lambda_;
    static std::string arn_;
    static std::string setup_error_;
};

scar::testing::temp_dir* InEmulator::work_ = nullptr;
scar::testing::emulator_process* InEmulator::emu_ = nullptr;
scar::lambda::client* InEmulator::lambda_ = nullptr;
std::string InEmulator::arn_;
std::string InEmulator::setup_error_;

// One test: the image is built and the function created once (the slow part).
TEST_F(InEmulator, ImageFunctionEndToEnd) {
    {
        SCOPED_TRACE("an S3 upload triggers the function and its outputs land");
        auto s3 = s3_client(emu_->url());
        scar::s3::notification_config nc;
        scar::s3::notification_rule rule;
        rule.function_arn = arn_;
        rule.events = {"s3:ObjectCreated:*"};
        nc.lambda.push_back(rule);
        ASSERT_TRUE(s3.put_bucket_notification("sv-in", nc));
        ASSERT_TRUE(s3.put_object("sv-in", "docs/hello world.txt", "hello s3"));
        EXPECT_EQ(wait_for_object(s3, "sv-out", "results/hello world.txt.txt"), "HELLO S3");
        const auto env = wait_for_object(s3, "sv-out", "json/meta/env");
        ASSERT_TRUE(env);
        for (const char* line :
             {"STORAGE_OBJECT_KEY=docs/hello world.txt\n",
              "STAGE=e2e\n",
              "AWS_LAMBDA_REQUEST_ID=",
              "REQUEST_ID=",
              "EVENT_TIME=",
              "INSTANCE_IP=",
              "EVENT={",
              "TMP_INPUT_DIR=/tmp/scar-",
              "TMP_OUTPUT_DIR=/tmp/scar-"}) {
            EXPECT_NE(env->find(line), std::string::npos) << line << " missing from\n" << *env;
        }
        EXPECT_NE(env->find("INPUT_FILE_PATH=/tmp/scar-"), std::string::npos);
        EXPECT_EQ(env->find("LD_LIBRARY_PATH"), std::string::npos);
        EXPECT_EQ(env->find("FUNCTION_CONFIG"), std::string::npos);
        ASSERT_TRUE(s3.put_bucket_notification("sv-in", {}));
    }
    {
        SCOPED_TRACE("script and cmd_args invocations");
        const auto r = invoke(script_event("echo from the event; ls /tmp | wc -l"));
        EXPECT_EQ(body(r), "from the event\n1\n") << "only the invocation's own directory is in /tmp";
        const auto resp = json::parse(r.payload).as_object();
        EXPECT_EQ(resp.at("headers").at("amz-log-group-name"), "/aws/lambda/sv");
        EXPECT_EQ(resp.at("headers").at("amz-lambda-request-id"), json::value(r.request_id));
        EXPECT_EQ(body(invoke(R"({"cmd_args":["-c","echo args: $0 $1","a","b"]})")), "args: a b\n");
        EXPECT_EQ(body(invoke(script_event("ls /tmp | wc -l"))), "1\n") << "earlier invocations left nothing";
    }
    {
        SCOPED_TRACE("a non-zero exit is a function error");
        const auto r =
            invoke(script_event("echo partial > $TMP_OUTPUT_DIR/partial.txt; echo bad input >&2; exit 3"));
        ASSERT_TRUE(r.function_error);
        const auto err = json::parse(r.payload).as_object();
        EXPECT_EQ(err.at("errorType"), "ScriptFailed");
        const std::string msg(err.at("errorMessage").as_string());
        EXPECT_NE(msg.find("exited with code 3"), std::string::npos) << msg;
        EXPECT_NE(msg.find("bad input"), std::string::npos) << msg;
        auto s3 = s3_client(emu_->url());
        EXPECT_EQ(s3.get_object("sv-out", "results/partial.txt").value().body, "partial\n");
    }
    {
        SCOPED_TRACE("the timeout threshold leaves time to upload");
        const auto before = std::chrono::steady_clock::now();
        const auto r = invoke(script_event("echo early > $TMP_OUTPUT_DIR/early.txt; sleep 60"));
        EXPECT_LT(std::chrono::steady_clock::now() - before, 3s) << "answered before Lambda's 3 s timeout";
        ASSERT_TRUE(r.function_error);
        EXPECT_EQ(json::parse(r.payload).at("errorType"), "ScriptTimedOut") << r.payload;
        auto s3 = s3_client(emu_->url());
        EXPECT_EQ(s3.get_object("sv-out", "results/early.txt").value().body, "early\n");
    }
    {
        SCOPED_TRACE("a missing object is a clear function error");
        const auto r = invoke(
            R"({"Records":[{"eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-05-01T12:00:00.000Z",)"
            R"("eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"sv-in"},"object":{"key":"not/there.txt"}}}]})"
        );
        ASSERT_TRUE(r.function_error);
        const auto err = json::parse(r.payload).as_object();
        EXPECT_EQ(err.at("errorType"), "NoSuchKey");
        EXPECT_NE(
            std::string(err.at("errorMessage").as_string()).find("s3://sv-in/not/there.txt"),
            std::string::npos
        );
    }
    {
        SCOPED_TRACE("API Gateway binary body in and out");
        const std::string bytes("\x89PNG\r\n\x1a\n\x00\xff", 10);
        const auto r = invoke(
            R"({"httpMethod":"POST","path":"/launch","requestContext":{"httpMethod":"POST"},"queryStringParameters":{"w":"1"},)"
            R"("body":")" +
            scar::encoding::base64_encode(bytes) + R"(","isBase64Encoded":true})"
        );
        const auto resp = json::parse(r.payload).as_object();
        EXPECT_EQ(resp.at("statusCode").as_int64(), 200);
        EXPECT_EQ(resp.at("headers").at("Content-Type"), "application/octet-stream");
        EXPECT_EQ(scar::encoding::base64_decode(resp.at("body").as_string()).value(), bytes);
    }
}

}  // namespace
