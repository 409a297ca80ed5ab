// The emulator's API Gateway: the control plane through the aws CLI v2 and scar's client,
// the data plane (both invoke URL forms) in front of a real function — a custom runtime
// (data/proxy_bootstrap.py) answering proxy responses — and AWS's error mapping.

#include <scar/apigw/client.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/lambda/client.hpp>
#include <scar/sigv4/signer.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace http = scar::http;
using namespace std::chrono_literals;
using scar::testing::aws;

const scar::aws::credentials creds{"test", "test", "", "test"};

class ApiGateway : public ::testing::Test {
protected:
    void SetUp() override {
        emu_ = std::make_unique<scar::testing::emulator_process>(
            work_.path() / "data",
            std::vector<std::string>{"--apigw-timeout-ms", "1500", "--no-fsync"}
        );
        // The function: the test runtime as `bootstrap` in a zip made with Python's zipfile.
        const auto zip = work_.path() / "proxy.zip";
        scar::testing::process_options zip_cmd;
        zip_cmd.argv = {
            "python3",
            "-c",
            "import sys,zipfile\n"
            "z=zipfile.ZipFile(sys.argv[1],'w')\n"
            "i=zipfile.ZipInfo('bootstrap'); i.external_attr=0o755<<16\n"
            "z.writestr(i, open(sys.argv[2]).read()); z.close()",
            zip.string(),
            std::string(SCAR_SOURCE_DIR) + "/tests/apigw/data/proxy_bootstrap.py"};
        const auto made = scar::testing::run(std::move(zip_cmd));
        ASSERT_EQ(made.exit_code, 0) << made.err;
        scar::lambda::client fns({emu_->url(), "us-east-1", creds});
        scar::lambda::create_function_request cf;
        cf.name = "proxy";
        cf.role = "arn:aws:iam::000000000000:role/scar";
        cf.runtime = "provided.al2023";
        cf.timeout_s = 10;
        std::ifstream in(zip, std::ios::binary);
        cf.zip_file.assign(std::istreambuf_iterator<char>(in), {});
        function_arn_ = fns.create_function(cf).value().arn;
        (void)fns.wait_active("proxy").value();
    }

    /// The API the data-plane tests call: GET on `/`, ANY on `/{proxy+}` (the method
    /// request header X-Amz-Invocation-Type mapped to the integration's, as SCAR does),
    /// deployed to stage `test`.
    void make_api(std::vector<std::string> binary_types = {"application/octet-stream", "image/*"}) {
        scar::apigw::client api({emu_->url(), "us-east-1", creds});
        const auto made = api.create_rest_api({"proxy-api", "test API", std::move(binary_types), ""}).value();
        api_id_ = made.id;
        const auto proxy = api.create_resource(api_id_, made.root_resource_id, "{proxy+}").value();
        scar::apigw::integration_request integ;
        integ.uri = scar::apigw::lambda_uri("us-east-1", function_arn_);
        integ.request_parameters = {
            {"integration.request.header.X-Amz-Invocation-Type",
             "method.request.header.X-Amz-Invocation-Type"}};
        api.put_method(
               api_id_,
               proxy.id,
               {"ANY", "NONE", {{"method.request.header.X-Amz-Invocation-Type", false}}}
        ).value();
        api.put_integration(api_id_, proxy.id, "ANY", integ).value();
        api.put_method(api_id_, made.root_resource_id, {"GET", "NONE", {}}).value();
        api.put_integration(api_id_, made.root_resource_id, "GET", integ).value();
        deployment_id_ = api.create_deployment(api_id_, "test").value().id;
    }

    /// An unsigned request to the API's stage `test` (path form).
    http::response call(
        const std::string& method,
        const std::string& path,
        std::string body = {},
        http::header_list headers = {}
    ) const {
        return call_url(
            method,
            emu_->url() + "/restapis/" + api_id_ + "/test/_user_request_" + path,
            body,
            headers
        );
    }

    static http::response call_url(
        const std::string& method,
        const std::string& url,
        std::string body = {},
        http::header_list headers = {}
    ) {
        http::request req;
        req.method = method;
        req.url = url;
        req.body = std::move(body);
        req.headers = std::move(headers);
        http::options o;
        o.retry.max_attempts = 1;
        return http::client(o).send(req).value();
    }

    /// The messages of the function's log containing `text`, waiting until there are `n`.
    std::vector<std::string> wait_logs(const std::string& text, std::size_t n) const {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        std::vector<std::string> found;
        for (auto pause = 5ms; std::chrono::steady_clock::now() < deadline;
             pause = std::min(pause * 2, 100ms)) {
            http::request req;
            req.method = "POST";
            req.url = emu_->url() + "/";
            req.headers = {
                {"X-Amz-Target", "Logs_20140328.FilterLogEvents"},
                {"Content-Type", "application/x-amz-json-1.1"}};
            req.body = json::serialize(json::object{{"logGroupName", "/aws/lambda/proxy"}});
            auto p =
                scar::sigv4::signing_params::make(creds, "us-east-1", "logs", scar::clock::system().now());
            (void)scar::sigv4::sign(req, p).value();
            const auto r = http::client().send(req).value();
            found.clear();
            if (r.status == 200) {
                const auto doc = json::parse(r.body);
                for (const auto& e : doc.at("events").as_array()) {
                    const std::string m(e.at("message").as_string());
                    if (m.find(text) != std::string::npos) found.push_back(m);
                }
                if (found.size() >= n) break;
            }
            std::this_thread::sleep_for(pause);  // polling the log: the line's arrival is the event
        }
        return found;
    }

    scar::testing::temp_dir work_{"scar-apigw"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
    std::string function_arn_;
    std::string api_id_;
    std::string deployment_id_;
};

TEST_F(ApiGateway, ControlPlaneThroughTheAwsCli) {
    if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
    const auto cli = [this](std::vector<std::string> args) {
        args.insert(args.begin(), "apigateway");
        const auto r = aws(emu_->url(), std::move(args));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return r.out.empty() ? json::value() : json::parse(r.out);
    };
    const auto made =
        cli({"create-rest-api", "--name", "cli-api", "--binary-media-types", "image/png", "*/*"});
    const std::string id(made.at("id").as_string());
    EXPECT_EQ(made.at("name"), "cli-api");
    EXPECT_EQ(made.at("binaryMediaTypes").as_array().size(), 2u);
    // Independent reads run side by side: each aws CLI start costs about half a second.
    auto listed = std::async(std::launch::async, [&] { return cli({"get-rest-apis"}); });
    const auto resources = cli({"get-resources", "--rest-api-id", id});
    const auto apis = listed.get();
    ASSERT_EQ(apis.at("items").as_array().size(), 1u);
    EXPECT_EQ(apis.at("items").at(0).at("id").as_string(), id);
    ASSERT_EQ(resources.at("items").as_array().size(), 1u);
    EXPECT_EQ(resources.at("items").at(0).at("path"), "/");
    // (rootResourceId is in CreateRestApi's answer too, but the CLI 2.9 shows it not.)
    const std::string root(resources.at("items").at(0).at("id").as_string());

    const auto proxy =
        cli({"create-resource", "--rest-api-id", id, "--parent-id", root, "--path-part", "{proxy+}"});
    EXPECT_EQ(proxy.at("path"), "/{proxy+}");
    const std::string rid(proxy.at("id").as_string());
    const auto method = cli(
        {"put-method",
         "--rest-api-id",
         id,
         "--resource-id",
         rid,
         "--http-method",
         "ANY",
         "--authorization-type",
         "NONE",
         "--request-parameters",
         "method.request.header.X-Amz-Invocation-Type=false"}
    );
    EXPECT_EQ(method.at("httpMethod"), "ANY");
    const auto uri = scar::apigw::lambda_uri("us-east-1", function_arn_);
    const auto integ = cli(
        {"put-integration",
         "--rest-api-id",
         id,
         "--resource-id",
         rid,
         "--http-method",
         "ANY",
         "--type",
         "AWS_PROXY",
         "--integration-http-method",
         "POST",
         "--uri",
         uri}
    );
    EXPECT_EQ(integ.at("type"), "AWS_PROXY");
    EXPECT_EQ(integ.at("uri").as_string(), uri);
    EXPECT_EQ(integ.at("timeoutInMillis").to_number<int>(), 29000);
    // AWS's error shape, as the CLI reports it (the other errors: ClientErrorsAndState…).
    auto dup = std::async(std::launch::async, [&] {
        return aws(
            emu_->url(),
            {"apigateway",
             "create-resource",
             "--rest-api-id",
             id,
             "--parent-id",
             root,
             "--path-part",
             "{proxy+}"}
        );
    });
    const auto deployed = cli({"create-deployment", "--rest-api-id", id, "--stage-name", "scar"});
    EXPECT_FALSE(deployed.at("id").as_string().empty());
    const auto refused = dup.get();
    EXPECT_NE(refused.err.find("ConflictException"), std::string::npos) << refused.err;

    // The stage serves the function.
    const auto r = call_url("GET", emu_->url() + "/restapis/" + id + "/scar/_user_request_/echo");
    EXPECT_EQ(r.status, 200) << r.body;

    cli({"delete-rest-api", "--rest-api-id", id});
    EXPECT_EQ(call_url("GET", emu_->url() + "/restapis/" + id + "/scar/_user_request_/echo").status, 404);
}

TEST_F(ApiGateway, ProxyEventHasEveryField) {
    make_api();
    const auto r = call(
        "GET",
        "/echo/a%20b?x=1&x=2&y=z%26",
        {},
        {{"tEsT-HEADeR", "aValUE"}, {"X-Twice", "one"}, {"X-Twice", "two"}, {"User-Agent", "apigw-test"}}
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const auto ev = json::parse(r.body).as_object();
    EXPECT_EQ(ev.at("resource"), "/{proxy+}");
    EXPECT_EQ(ev.at("path"), "/echo/a b");
    EXPECT_EQ(ev.at("httpMethod"), "GET");
    EXPECT_EQ(ev.at("headers").at("tEsT-HEADeR"), "aValUE");
    EXPECT_EQ(ev.at("headers").at("X-Twice"), "two");
    EXPECT_EQ(ev.at("multiValueHeaders").at("X-Twice"), (json::array{"one", "two"}));
    EXPECT_EQ(ev.at("headers").at("X-Forwarded-Proto"), "http");
    EXPECT_TRUE(ev.at("headers").as_object().contains("X-Amzn-Trace-Id"));
    EXPECT_EQ(ev.at("queryStringParameters"), (json::object{{"x", "2"}, {"y", "z&"}}));
    EXPECT_EQ(ev.at("multiValueQueryStringParameters").at("x"), (json::array{"1", "2"}));
    EXPECT_EQ(ev.at("pathParameters"), (json::object{{"proxy", "echo/a b"}}));
    EXPECT_TRUE(ev.at("stageVariables").is_null());
    EXPECT_TRUE(ev.at("body").is_null());
    EXPECT_EQ(ev.at("isBase64Encoded"), false);
    const auto& ctx = ev.at("requestContext").as_object();
    EXPECT_EQ(ctx.at("accountId"), "000000000000");
    EXPECT_EQ(ctx.at("apiId").as_string(), api_id_);
    EXPECT_EQ(ctx.at("deploymentId").as_string(), deployment_id_);
    EXPECT_EQ(ctx.at("stage"), "test");
    EXPECT_EQ(ctx.at("resourcePath"), "/{proxy+}");
    EXPECT_EQ(ctx.at("httpMethod"), "GET");
    EXPECT_EQ(ctx.at("path"), "/test/echo/a b");
    EXPECT_EQ(ctx.at("protocol"), "HTTP/1.1");
    EXPECT_EQ(ctx.at("requestId").as_string(), r.header("x-amzn-requestid").value_or(""));
    EXPECT_EQ(ctx.at("identity").at("sourceIp"), "127.0.0.1");
    EXPECT_EQ(ctx.at("identity").at("userAgent"), "apigw-test");
    EXPECT_TRUE(ctx.at("identity").at("user").is_null());
    EXPECT_GT(ctx.at("requestTimeEpoch").to_number<std::int64_t>(), 1'600'000'000'000);
    EXPECT_EQ(ctx.at("requestTime").as_string().size(), 26u);  // 23/Feb/2019:11:36:11 +0000
    EXPECT_FALSE(ctx.at("resourceId").as_string().empty());
    // The function's headers: multiValueHeaders and headers merged, the multi-value casing kept.
    EXPECT_EQ(r.header("X-Solo").value_or(""), "solo");
    EXPECT_EQ(r.header("x-both").value_or(""), "multi-value, solo-value");
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");  // the default

    // The root resource, a text body, and the invoke URL form with the API in the host.
    const auto root = call_url(
        "GET",
        emu_->url() + "/test/",
        {},
        {{"Host", api_id_ + ".execute-api.localhost:" + emu_->url().substr(emu_->url().rfind(':') + 1)}}
    );
    ASSERT_EQ(root.status, 200) << root.body;
    const auto root_ev = json::parse(root.body);
    EXPECT_EQ(root_ev.at("resource"), "/");
    EXPECT_EQ(root_ev.at("path"), "/");
    EXPECT_TRUE(root_ev.at("pathParameters").is_null());
    EXPECT_TRUE(root_ev.at("queryStringParameters").is_null());
    EXPECT_EQ(root_ev.at("requestContext").at("domainName").as_string(), api_id_ + ".execute-api.localhost");
    EXPECT_EQ(root_ev.at("requestContext").at("domainPrefix").as_string(), api_id_);
    const auto text = call("POST", "/echo", "hello {text}", {{"Content-Type", "text/plain"}});
    ASSERT_EQ(text.status, 200) << text.body;
    EXPECT_EQ(json::parse(text.body).at("body"), "hello {text}");
    EXPECT_EQ(json::parse(text.body).at("isBase64Encoded"), false);
    EXPECT_EQ(call("GET", "/status").status, 201);
}

TEST_F(ApiGateway, BinaryBodiesRoundTripByteExact) {
    make_api();
    std::string bytes(200'000, '\0');
    std::mt19937 gen(7);
    for (auto& c : bytes) c = static_cast<char>(gen() & 0xff);
    const auto r = call(
        "POST",
        "/binary",
        bytes,
        {{"Content-Type", "image/png"}, {"Accept", "application/octet-stream"}}
    );
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/octet-stream");
    EXPECT_TRUE(r.body == bytes) << "the body came back changed (" << r.body.size() << " bytes)";
    // A caller that does not accept a binary type gets the base64 text, as from AWS.
    const auto text =
        call("POST", "/binary", "abc", {{"Content-Type", "image/png"}, {"Accept", "text/plain"}});
    EXPECT_EQ(text.body, scar::encoding::base64_encode("abc"));
}

TEST_F(ApiGateway, EventInvocationAnswers202AndRuns) {
    make_api();
    const auto r = call("POST", "/echo/async-marker", "{}", {{"X-Amz-Invocation-Type", "Event"}});
    EXPECT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(wait_logs("proxy function got POST /echo/async-marker", 1).size(), 1u);
}

TEST_F(ApiGateway, ErrorsMapAsOnAws) {
    make_api();
    const auto failed = call("GET", "/fail");
    EXPECT_EQ(failed.status, 502);
    EXPECT_EQ(json::parse(failed.body), (json::object{{"message", "Internal server error"}}));
    const auto malformed = call("GET", "/malformed");
    EXPECT_EQ(malformed.status, 502);
    EXPECT_EQ(json::parse(malformed.body), (json::object{{"message", "Internal server error"}}));

    const auto before = std::chrono::steady_clock::now();
    const auto slow = call("GET", "/sleep");
    const auto took = std::chrono::steady_clock::now() - before;
    EXPECT_EQ(slow.status, 504);
    EXPECT_EQ(json::parse(slow.body), (json::object{{"message", "Endpoint request timed out"}}));
    EXPECT_GE(took, 1400ms);
    EXPECT_LT(took, 4500ms) << "the integration timeout (1.5 s here) must not wait for the function";

    const auto big =
        call("POST", "/echo", std::string((10u << 20) + 1, 'x'), {{"Content-Type", "text/plain"}});
    EXPECT_EQ(big.status, 413);

    const auto no_route = call("POST", "/");  // the root has GET only
    EXPECT_EQ(no_route.status, 403);
    EXPECT_EQ(json::parse(no_route.body), (json::object{{"message", "Missing Authentication Token"}}));
    EXPECT_EQ(no_route.header("x-amzn-errortype").value_or(""), "MissingAuthenticationTokenException");
    const auto no_stage = call_url("GET", emu_->url() + "/restapis/" + api_id_ + "/nostage/_user_request_/x");
    EXPECT_EQ(no_stage.status, 403);
    const auto no_api = call_url("GET", emu_->url() + "/restapis/nosuchapi/test/_user_request_/x");
    EXPECT_EQ(no_api.status, 404);

    // The function still answers after all that.
    EXPECT_EQ(call("GET", "/echo").status, 200);
}

TEST_F(ApiGateway, TheFunctionLogHasTheRequestLine) {
    make_api();
    const auto r = call("GET", "/echo/logged");
    ASSERT_EQ(r.status, 200);
    const auto id = std::string(r.header("x-amzn-requestid").value_or(""));
    const auto lines = wait_logs("API Gateway request " + id + ": GET /test/echo/logged", 1);
    EXPECT_EQ(lines.size(), 1u);
}

TEST_F(ApiGateway, ClientErrorsAndStateAcrossRestarts) {
    make_api();
    scar::apigw::client api({emu_->url(), "us-east-1", creds});
    const auto missing = api.get_rest_api("nosuchapi");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "NotFoundException");
    EXPECT_EQ(missing.error().http_status, 404);
    const auto resources = api.get_resources(api_id_).value();
    ASSERT_EQ(resources.size(), 2u);
    const auto& proxy = resources[0].path == "/" ? resources[1] : resources[0];
    const auto& root = resources[0].path == "/" ? resources[0] : resources[1];
    EXPECT_EQ(proxy.methods, std::vector<std::string>{"ANY"});
    const auto dup = api.create_resource(api_id_, root.id, "{proxy+}");
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, "ConflictException");
    const auto sibling = api.create_resource(api_id_, root.id, "{other}");
    ASSERT_FALSE(sibling);
    EXPECT_EQ(sibling.error().code, "BadRequestException");
    scar::apigw::integration_request http_integ;
    http_integ.type = "HTTP";
    http_integ.uri = "http://example.com";
    const auto refused = api.put_integration(api_id_, root.id, "GET", http_integ);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "BadRequestException");
    EXPECT_NE(refused.error().message.find("AWS_PROXY"), std::string::npos) << refused.error().message;
    EXPECT_EQ(api.get_stages(api_id_).value().at(0).deployment_id, deployment_id_);

    // Restarted on the same data, the API is still there and still served.
    const auto data = emu_->data_dir();
    emu_.reset();
    emu_ = std::make_unique<scar::testing::emulator_process>(
        data,
        std::vector<std::string>{"--apigw-timeout-ms", "1500", "--no-fsync"}
    );
    scar::apigw::client again({emu_->url(), "us-east-1", creds});
    EXPECT_EQ(again.get_rest_api(api_id_).value().name, "proxy-api");
    EXPECT_EQ(call("GET", "/echo").status, 200);
    again.delete_rest_api(api_id_).value();
    EXPECT_EQ(call("GET", "/echo").status, 404);
}

}  // namespace
