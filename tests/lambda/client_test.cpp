// scar::lambda::client against the emulator in-process, with a runtime built on
// scar::lambda::runtime_client (runtime_probe.cpp) as the function.

#include "scar/lambda/client.hpp"

#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/emulator/server.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

namespace {

namespace json = boost::json;
namespace lambda = scar::lambda;

class LambdaClient : public ::testing::Test {
protected:
    void SetUp() override {
        scar::emulator::options o;
        o.port = 0;
        o.data_dir = dir_.path() / "data";
        o.fsync = false;
        server_ = std::make_unique<scar::emulator::server>(o);
        server_->start().value();
        client_ = std::make_unique<lambda::client>(
            lambda::endpoint{server_->endpoint(), "us-east-1", {"test", "test", "", "test"}}
        );
        const auto zip = dir_.path() / "probe.zip";
        scar::testing::process_options z;
        z.argv = {
            "python3",
            "-c",
            "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],'w')\ni=zipfile.ZipInfo('bootstrap'); "
            "i.external_attr=0o755<<16\nz.writestr(i, open(sys.argv[2],'rb').read()); z.close()",
            zip.string(),
            SCAR_RUNTIME_PROBE_BIN};
        ASSERT_EQ(scar::testing::run(std::move(z)).exit_code, 0);
        std::ifstream in(zip, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        zip_ = ss.str();
    }

    lambda::create_function_request request(const std::string& name) {
        lambda::create_function_request r;
        r.name = name;
        r.role = "arn:aws:iam::000000000000:role/scar";
        r.zip_file = zip_;
        r.timeout_s = 5;
        r.environment = {{"STAGE", "test"}};
        return r;
    }

    scar::testing::temp_dir dir_{"scar-lambda-client"};
    std::unique_ptr<scar::emulator::server> server_;
    std::unique_ptr<lambda::client> client_;
    std::string zip_;
};

TEST_F(LambdaClient, CreateInvokeUpdateDelete) {
    const auto created = client_->create_function(request("probe")).value();
    EXPECT_EQ(created.name, "probe");
    EXPECT_EQ(created.arn, "arn:aws:lambda:us-east-1:000000000000:function:probe");
    EXPECT_EQ(created.environment.at("STAGE"), "test");
    const auto active = client_->wait_active("probe").value();
    EXPECT_EQ(active.state, "Active");

    const auto ok =
        client_->invoke("probe", R"({"x":1})", lambda::invocation_type::request_response, true).value();
    EXPECT_EQ(ok.status, 200);
    EXPECT_FALSE(ok.function_error);
    const auto body = json::parse(ok.payload);
    EXPECT_EQ(body.at("echo").at("x").to_number<int>(), 1);
    EXPECT_EQ(body.at("arn"), "arn:aws:lambda:us-east-1:000000000000:function:probe");
    const auto remaining = body.at("remaining_ms").to_number<std::int64_t>();
    EXPECT_GT(remaining, 0);
    EXPECT_LE(remaining, 5000);
    EXPECT_NE(ok.log_tail.find("probe handling " + ok.request_id), std::string::npos) << ok.log_tail;

    const auto failed = client_->invoke("probe", R"("fail")").value();
    EXPECT_EQ(failed.function_error.value_or(""), "Unhandled");
    EXPECT_EQ(json::parse(failed.payload).at("errorType"), "Probe.Failure");

    EXPECT_EQ(client_->invoke("probe", "{}", lambda::invocation_type::dry_run).value().status, 204);
    EXPECT_EQ(client_->invoke("probe", "{}", lambda::invocation_type::event).value().status, 202);

    lambda::configuration_update u;
    u.memory_mb = 512;
    u.timeout_s = 10;
    const auto updated = client_->update_configuration("probe", u).value();
    EXPECT_EQ(updated.memory_mb, 512);
    EXPECT_EQ(updated.timeout_s, 10);
    ASSERT_TRUE(client_->put_concurrency("probe", 3));
    EXPECT_EQ(client_->get_function("probe").value().reserved_concurrency.value_or(-1), 3);
    ASSERT_TRUE(client_->add_permission("probe", "s3-invoke", "s3.amazonaws.com", "arn:aws:s3:::input"));

    ASSERT_TRUE(client_->create_function(request("second")));
    EXPECT_EQ(client_->list_functions().value().size(), 2u);
    const auto dup = client_->create_function(request("second"));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, "ResourceConflictException");

    ASSERT_TRUE(client_->delete_function("probe"));
    const auto gone = client_->get_function("probe");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, "ResourceNotFoundException");
    EXPECT_EQ(gone.error().http_status, 404);
}

TEST_F(LambdaClient, BadRequestsCarryLambdasErrorCodes) {
    auto r = request("bad name!");
    const auto bad = client_->create_function(r);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "ValidationException");
    r = request("badmem");
    r.memory_mb = 64;
    const auto mem = client_->create_function(r);
    ASSERT_FALSE(mem);
    EXPECT_EQ(mem.error().code, "InvalidParameterValueException");
    const auto missing = client_->invoke("nope", "{}");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "ResourceNotFoundException");
}

TEST_F(LambdaClient, TwoThousandS3UploadsInvokeTheFunctionOnceEach) {
    ASSERT_TRUE(client_->create_function(request("fanout")));
    ASSERT_TRUE(client_->wait_active("fanout"));
    scar::http::client http;
    const auto send = [&](const std::string& service,
                          std::string method,
                          const std::string& path,
                          std::string body,
                          scar::http::header_list headers = {}) {
        scar::http::request req;
        req.method = std::move(method);
        req.url = server_->endpoint() + path;
        req.body = std::move(body);
        req.headers = std::move(headers);
        static const scar::aws::credentials creds{"test", "test", "", ""};
        auto p = scar::sigv4::signing_params::make(creds, "us-east-1", service, scar::clock::system().now());
        (void)scar::sigv4::sign(req, p).value();
        return http.send(req).value();
    };
    ASSERT_EQ(send("s3", "PUT", "/fanout-in", "").status, 200);
    ASSERT_EQ(
        send(
            "s3",
            "PUT",
            "/fanout-in?notification",
            "<NotificationConfiguration><CloudFunctionConfiguration><Id>all</Id><CloudFunction>"
            "arn:aws:lambda:us-east-1:000000000000:function:fanout</CloudFunction><Event>s3:ObjectCreated:*</"
            "Event>"
            "</CloudFunctionConfiguration></NotificationConfiguration>"
        )
            .status,
        200
    );
    constexpr int uploads = 2000;
    for (int i = 0; i < uploads; ++i) {
        ASSERT_EQ(send("s3", "PUT", "/fanout-in/k" + std::to_string(i), "x").status, 200);
    }
    // Wait until the function has handled as many events as were uploaded.
    std::map<std::string, int> seen;
    std::size_t handled = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (std::chrono::steady_clock::now() < deadline) {
        seen.clear();
        handled = 0;
        std::string token;
        do {
            json::object q{{"logGroupName", "/aws/lambda/fanout"}, {"filterPattern", "\"probe handling\""}};
            if (!token.empty()) q["nextToken"] = token;
            const auto r = send(
                "logs",
                "POST",
                "/",
                json::serialize(q),
                {{"X-Amz-Target", "Logs_20140328.FilterLogEvents"},
                 {"Content-Type", "application/x-amz-json-1.1"}}
            );
            if (r.status != 200) break;
            const auto doc = json::parse(r.body);
            for (const auto& e : doc.at("events").as_array()) {
                const std::string m(e.at("message").as_string());
                const auto at = m.find("\"key\":\"k");
                if (at == std::string::npos) continue;
                const auto end = m.find('"', at + 8);
                ++seen[m.substr(at + 7, end - at - 7)];
                ++handled;
            }
            token = doc.as_object().contains("nextToken") ? std::string(doc.at("nextToken").as_string()) : "";
        } while (!token.empty());
        if (handled >= uploads) break;
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(uploads)) << "events lost";
    EXPECT_EQ(handled, static_cast<std::size_t>(uploads)) << "events delivered more than once";
}

}  // namespace
