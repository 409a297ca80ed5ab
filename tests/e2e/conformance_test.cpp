// Conformance with AWS's own client: every AWS operation `scar init` and `scar rm` send is
// sent again by the aws CLI v2 with the same parameters, through a recording proxy in front
// of the emulator, and the two requests must be equivalent — method, path, query, the
// headers that select the operation, and the JSON or XML body.

#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/s3/notification.hpp>
#include <scar/sandbox/container.hpp>
#include <scar/testing/http_server_mock.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using scar::testing::recorded_request;

/// True for the headers a proxy does not pass on as they are (the hop's own framing).
bool hop_header(std::string_view name, bool request) {
    for (const char* h : {"content-length", "connection", "transfer-encoding"})
        if (scar::encoding::iequals(name, h)) return true;
    return request && scar::encoding::iequals(name, "expect");
}

/// A proxy that records each request and forwards it unchanged (Host included, so the
/// signature still verifies) to the emulator.
class recording_proxy {
public:
    explicit recording_proxy(std::string upstream)
        : upstream_(std::move(upstream)), server_([this](const recorded_request& r) { return forward(r); }) {}

    [[nodiscard]] std::string url() const { return server_.url(); }

    /// Requests recorded since the last call, which clears them.
    std::vector<recorded_request> take() {
        const std::lock_guard lock(mutex_);
        return std::exchange(log_, {});
    }

private:
    scar::testing::mock_response forward(const recorded_request& r) {
        {
            const std::lock_guard lock(mutex_);
            log_.push_back(r);
        }
        scar::http::request req;
        req.method = r.method;
        req.url = upstream_ + r.target;
        for (const auto& [n, v] : r.headers)
            if (!hop_header(n, true)) req.headers.emplace_back(n, v);
        req.body = r.body;
        scar::http::client c;
        auto resp = c.send(req);
        scar::testing::mock_response out;
        if (!resp) {
            out.status = 502;
            return out;
        }
        out.status = resp->status;
        out.body = resp->body;
        for (const auto& [n, v] : resp->headers)
            if (!hop_header(n, false)) out.headers.emplace_back(n, v);
        return out;
    }

    std::string upstream_;
    std::mutex mutex_;
    std::vector<recorded_request> log_;
    scar::testing::http_server_mock server_;
};

/// What identifies an operation: method, path without query, and X-Amz-Target.
std::string operation_of(const recorded_request& r) {
    std::string op = r.method + " " + r.target.substr(0, r.target.find('?'));
    if (auto t = r.header("X-Amz-Target")) op += " " + std::string(*t);
    if (r.target.find("?notification") != std::string::npos) op += " ?notification";
    if (r.target.find("/policy") != std::string::npos) op += " policy";
    return op;
}

/// The query parameters, sorted, values included.
std::multiset<std::string> query_of(const recorded_request& r) {
    std::multiset<std::string> out;
    const auto q = r.target.find('?');
    if (q == std::string::npos) return out;
    std::string rest = r.target.substr(q + 1);
    for (std::size_t start = 0; start <= rest.size();) {
        const auto amp = rest.find('&', start);
        auto item = rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        if (!item.empty() && item.find('=') == std::string::npos) item += "=";
        if (!item.empty()) out.insert(item);
        if (amp == std::string::npos) break;
        start = amp + 1;
    }
    return out;
}

std::string media_type(const recorded_request& r) {
    const auto ct = r.header("Content-Type");
    if (!ct) return "(none)";
    std::string v(*ct);
    return v.substr(0, v.find(';'));
}

/// Compares the bodies by meaning: JSON parsed, notification XML through the S3 model, other
/// bodies byte for byte.
void expect_same_body(const recorded_request& ours, const recorded_request& theirs, const std::string& op) {
    if (ours.body.empty() && theirs.body.empty()) return;
    if (op.find("?notification") != std::string::npos) {
        const auto a = scar::s3::parse_notification_xml(ours.body);
        const auto b = scar::s3::parse_notification_xml(theirs.body);
        ASSERT_TRUE(a && b) << op << "\nours: " << ours.body << "\ntheirs: " << theirs.body;
        EXPECT_TRUE(*a == *b) << op << "\nours: " << ours.body << "\ntheirs: " << theirs.body;
        return;
    }
    boost::system::error_code e1, e2;
    const auto a = json::parse(ours.body, e1);
    const auto b = json::parse(theirs.body, e2);
    if (!e1 && !e2) {
        EXPECT_EQ(a, b) << op << "\nours:   " << ours.body << "\ntheirs: " << theirs.body;
        return;
    }
    EXPECT_EQ(ours.body, theirs.body) << op;
}

TEST(Conformance, InitAndRmSendWhatTheAwsCliSends) {
    if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
    if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
    scar::testing::temp_dir work("scar-conformance");
    scar::testing::emulator_process emu(work.path() / "data");
    recording_proxy proxy(emu.url());
    const std::string host = emu.url().substr(7);
    const auto home = work.path() / "home";
    fs::create_directories(home);
    std::ofstream(home / "emulator.pid") << emu.process().pid();
    std::ofstream(home / "emulator.endpoint") << proxy.url();

    // A one-file base image, straight into the emulator's ECR.
    fs::create_directories(work.path() / "root" / "bin");
    fs::copy_file("/usr/bin/busybox", work.path() / "root" / "bin" / "busybox");
    const auto scar = [&](std::vector<std::string> args) {
        scar::testing::process_options o;
        o.argv = {SCAR_CLI_BIN};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        o.env = {
            {"SCAR_HOME", home.string()},
            {"HOME", work.path().string()},
            {"AWS_ENDPOINT_URL", emu.url()},
            {"AWS_ACCESS_KEY_ID", "test"},
            {"AWS_SECRET_ACCESS_KEY", "test"},
            {"AWS_DEFAULT_REGION", "us-east-1"},
            {"AWS_CONFIG_FILE", "/dev/null"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
        return scar::testing::run(std::move(o));
    };
    ASSERT_EQ(
        scar::testing::aws(emu.url(), {"ecr", "create-repository", "--repository-name", "base"}).exit_code,
        0
    );
    const auto imported =
        scar({"image", "import", (work.path() / "root").string(), host + "/base:1", "--cmd", "/bin/busybox"});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    std::ofstream(work.path() / "fn.toml")
        << "[[function]]\nname = \"conf\"\nimage = \"" << host
        << "/base:1\"\nmemory = 256\ntimeout = 20\n"
           "[function.environment]\nMODE = \"test\"\n"
           "[[function.input]]\nstorage = \"s3\"\npath = \"conf-in/docs\"\n"
           "[[function.output]]\nstorage = \"s3\"\npath = \"conf-out\"\n";

    const auto init =
        scar({"init", "-f", (work.path() / "fn.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    // The other verbs, each once: ls, ls -b, log, run -s, update, put, get.
    std::ofstream(work.path() / "say.sh") << "echo hi\n";
    std::ofstream(work.path() / "x.txt") << "hello\n";
    for (const std::vector<std::string>& verb : std::vector<std::vector<std::string>>{
             {"ls"},
             {"ls", "-b", "conf-in/docs"},
             {"log", "-n", "conf"},
             {"run", "-n", "conf", "-s", (work.path() / "say.sh").string()},
             {"update", "-f", (work.path() / "fn.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE},
             {"put", "-b", "conf-in/docs", "-p", (work.path() / "x.txt").string()},
             {"get", "-b", "conf-in/docs/x.txt", "-p", (work.path() / "got.txt").string()}}) {
        const auto r = scar(verb);
        EXPECT_TRUE(r.exit_code == 0 || verb[0] == "run") << verb[0] << ": " << r.err;
    }
    auto ours = proxy.take();
    const auto rm = scar({"rm", "-n", "conf"});
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    for (auto& r : proxy.take()) ours.push_back(std::move(r));

    // What scar sent, operation by operation (the first of each kind).
    std::map<std::string, recorded_request> by_op;
    for (const auto& r : ours) by_op.emplace(operation_of(r), r);

    // The same operations, same parameters, from the aws CLI. The image digest, ARN and
    // notification come from what scar sent, so the parameters are identical.
    const auto create = json::parse(by_op.at("POST /2015-03-31/functions").body).as_object();
    const std::string image_uri(create.at("Code").at("ImageUri").as_string());
    const std::string arn = "arn:aws:lambda:us-east-1:000000000000:function:conf";
    const auto notification =
        scar::s3::parse_notification_xml(by_op.at("PUT /conf-in ?notification").body).value();
    const auto perm = json::parse(by_op.at("POST /2015-03-31/functions/conf/policy policy").body).as_object();
    std::string env = "Variables={";
    for (const auto& [k, v] : create.at("Environment").at("Variables").as_object())
        env += std::string(k) + "=" + std::string(v.as_string()) + ",";
    env.back() = '}';
    const std::vector<std::vector<std::string>> cli = {
        {"ecr", "create-repository", "--repository-name", "conf"},
        {"ecr", "get-authorization-token"},
        {"logs", "create-log-group", "--log-group-name", "/aws/lambda/conf"},
        {"logs", "put-retention-policy", "--log-group-name", "/aws/lambda/conf", "--retention-in-days", "30"},
        {"lambda",
         "create-function",
         "--function-name",
         "conf",
         "--package-type",
         "Image",
         "--code",
         "ImageUri=" + image_uri,
         "--role",
         std::string(create.at("Role").as_string()),
         "--description",
         std::string(create.at("Description").as_string()),
         "--memory-size",
         "256",
         "--timeout",
         "20",
         "--ephemeral-storage",
         "Size=512",
         "--environment",
         env},
        {"lambda", "get-function", "--function-name", "conf"},
        {"s3api", "create-bucket", "--bucket", "conf-in"},
        {"s3api", "put-object", "--bucket", "conf-in", "--key", "docs/"},
        {"lambda",
         "add-permission",
         "--function-name",
         "conf",
         "--statement-id",
         std::string(perm.at("StatementId").as_string()),
         "--action",
         "lambda:InvokeFunction",
         "--principal",
         "s3.amazonaws.com",
         "--source-arn",
         "arn:aws:s3:::conf-in"},
        {"s3api", "get-bucket-notification-configuration", "--bucket", "conf-in"},
        {"s3api",
         "put-bucket-notification-configuration",
         "--bucket",
         "conf-in",
         "--notification-configuration",
         json::serialize(json::object{
             {"LambdaFunctionConfigurations",
              json::array{json::object{
                  {"Id", notification.lambda.at(0).id},
                  {"LambdaFunctionArn", arn},
                  {"Events", json::array{"s3:ObjectCreated:*"}},
                  {"Filter",
                   json::object{
                       {"Key",
                        json::object{
                            {"FilterRules",
                             json::array{json::object{{"Name", "Prefix"}, {"Value", "docs/"}}}}}}}}}}}})},
        {"lambda", "list-functions"},
        {"s3api", "list-objects-v2", "--bucket", "conf-in", "--prefix", "docs/"},
        {"logs", "filter-log-events", "--log-group-name", "/aws/lambda/conf"},
        {"lambda",
         "invoke",
         "--function-name",
         "conf",
         "--cli-binary-format",
         "raw-in-base64-out",
         "--payload",
         json::serialize(json::object{{"script", scar::encoding::base64_encode("echo hi\n")}}),
         (work.path() / "invoke-out.json").string()},
        {"ecr", "describe-repositories", "--repository-names", "conf"},
        {"lambda",
         "update-function-configuration",
         "--function-name",
         "conf",
         "--memory-size",
         "256",
         "--timeout",
         "20",
         "--ephemeral-storage",
         "Size=512",
         "--description",
         std::string(create.at("Description").as_string()),
         "--environment",
         env},
        {"s3api",
         "put-object",
         "--bucket",
         "conf-in",
         "--key",
         "docs/x.txt",
         "--body",
         (work.path() / "x.txt").string()},
        {"s3api", "head-object", "--bucket", "conf-in", "--key", "docs/x.txt"},
        {"s3api",
         "get-object",
         "--bucket",
         "conf-in",
         "--key",
         "docs/x.txt",
         (work.path() / "got2.txt").string()},
        {"lambda", "delete-function", "--function-name", "conf"},
        {"logs", "delete-log-group", "--log-group-name", "/aws/lambda/conf"},
        {"ecr", "delete-repository", "--repository-name", "conf", "--force"},
    };
    std::map<std::string, recorded_request> theirs;
    for (const auto& args : cli) {
        (void)scar::testing::aws(proxy.url(), args);  // conflicts are expected: only the request matters
        auto got = proxy.take();
        ASSERT_FALSE(got.empty()) << args[0] << " " << args[1] << " sent nothing";
        theirs[operation_of(got.front())] = got.front();
    }

    int compared = 0;
    for (const auto& [op, t] : theirs) {
        const auto it = by_op.find(op);
        ASSERT_NE(it, by_op.end()) << "scar never sent " << op;
        const auto& o = it->second;
        SCOPED_TRACE(op);
        EXPECT_EQ(o.method, t.method);
        EXPECT_EQ(o.target.substr(0, o.target.find('?')), t.target.substr(0, t.target.find('?')));
        EXPECT_EQ(query_of(o), query_of(t));
        EXPECT_EQ(media_type(o), media_type(t));
        EXPECT_EQ(o.header("X-Amz-Target").value_or(""), t.header("X-Amz-Target").value_or(""));
        expect_same_body(o, t, op);
        ++compared;
    }
    EXPECT_EQ(compared, static_cast<int>(cli.size()));
}

}  // namespace
