// A real round trip: scar's HTTP client and SigV4 signer against s3rver (npm) on loopback,
// directly and through scar's SigV4 verifier; and the aws CLI (botocore, an independent
// signer) against the verifier.
//
// s3rver checks access key ids but does not verify SigV4 signatures (its authentication
// middleware says "Signature version 4 calculation is unimplemented"), so the wrong-secret
// cases go through a verifying proxy: scar::sigv4::verifier in front of s3rver.

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/sigv4/verifier.hpp>
#include <scar/testing/http_server_mock.hpp>
#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <regex>

namespace {

namespace sigv4 = scar::sigv4;
namespace http = scar::http;
using namespace std::chrono_literals;
using scar::testing::child_process;

const scar::aws::credentials s3rver_creds{"S3RVER", "S3RVER", "", "s3rver default"};

/// s3rver started on a free loopback port, stopped by its PID.
class s3rver {
public:
    s3rver() {
        const auto bin = std::filesystem::path(SCAR_SOURCE_DIR) / "tests/peers/node_modules/.bin/s3rver";
        if (!std::filesystem::exists(bin)) {
            throw std::runtime_error(
                bin.string() + " is missing: run scripts/setup.sh (npm ci in tests/peers)"
            );
        }
        scar::testing::process_options o;
        o.argv = {bin.string(), "-d", dir_.path().string(), "-a", "127.0.0.1", "-p", "0", "--silent"};
        proc_ = std::make_unique<child_process>(std::move(o));
        const auto out = proc_->wait_for_output("S3rver listening on", 60s);
        if (!out)
            throw std::runtime_error("s3rver did not start:\n" + proc_->stdout_text() + proc_->stderr_text());
        std::smatch m;
        const std::regex re("listening on 127\\.0\\.0\\.1:([0-9]+)");
        proc_->wait_for_output("\n", 5s);
        const std::string text = proc_->stdout_text();
        if (!std::regex_search(text, m, re)) throw std::runtime_error("no port in s3rver output: " + text);
        url_ = "http://127.0.0.1:" + m[1].str();
    }
    ~s3rver() { proc_->stop(SIGTERM); }
    s3rver(const s3rver&) = delete;
    s3rver& operator=(const s3rver&) = delete;
    [[nodiscard]] const std::string& url() const { return url_; }

private:
    scar::testing::temp_dir dir_{"scar-s3rver"};
    std::unique_ptr<child_process> proc_;
    std::string url_;
};

/// An HTTP front that verifies SigV4 with scar's verifier and forwards what passes.
class verifying_proxy {
public:
    explicit verifying_proxy(std::string upstream)
        : upstream_(std::move(upstream)),
          verifier_([](std::string_view akid) -> std::optional<scar::aws::credentials> {
              if (akid == s3rver_creds.access_key_id) return s3rver_creds;
              return std::nullopt;
          }),
          server_([this](const scar::testing::recorded_request& r) { return handle(r); }) {}

    [[nodiscard]] std::string url() const { return server_.url(); }
    [[nodiscard]] int forwarded() const { return forwarded_; }

private:
    scar::testing::mock_response handle(const scar::testing::recorded_request& r) {
        const sigv4::incoming_request in{r.method, r.target, &r.headers, r.body};
        const auto v = verifier_.verify(in);
        if (!v || !v->body_matches(r.body)) {
            const std::string code = v ? "XAmzContentSHA256Mismatch" : v.error().code;
            return {
                v ? 400 : v.error().http_status,
                {{"Content-Type", "application/xml"}},
                "<Error><Code>" + code + "</Code><Message>" + (v ? "" : v.error().message) +
                    "</Message></Error>",
                false};
        }
        ++forwarded_;
        http::request fwd;
        fwd.method = r.method;
        fwd.url = upstream_ + r.target;
        for (const auto& h : r.headers) {
            if (!scar::encoding::iequals(h.first, "content-length") &&
                !scar::encoding::iequals(h.first, "expect")) {
                fwd.headers.push_back(h);
            }
        }
        fwd.body = r.body;
        const auto res = client_.send(fwd);
        if (!res) return {502, {}, res.error().what(), false};
        scar::testing::mock_response out{res->status, {}, res->body, false};
        for (const auto& h : res->headers) {
            const bool hop = scar::encoding::iequals(h.first, "transfer-encoding") ||
                             scar::encoding::iequals(h.first, "connection") ||
                             (r.method != "HEAD" && scar::encoding::iequals(h.first, "content-length"));
            if (!hop) out.headers.push_back(h);
        }
        return out;
    }

    std::string upstream_;
    sigv4::verifier verifier_;
    http::client client_;
    std::atomic<int> forwarded_{0};
    scar::testing::http_server_mock server_;
};

/// The little S3 client of these tests: path-style requests, signed by scar.
struct s3_client {
    explicit s3_client(std::string e) : endpoint(std::move(e)) {}
    std::string endpoint;
    scar::aws::credentials creds = s3rver_creds;
    http::client client;

    scar::result<http::response> send(
        std::string method,
        const std::string& path,
        std::string body = {},
        http::header_list headers = {}
    ) {
        http::request req;
        req.method = std::move(method);
        req.url = endpoint + path;
        req.body = std::move(body);
        req.headers = std::move(headers);
        auto p = sigv4::signing_params::make(creds, "us-east-1", "s3", scar::clock::system().now());
        if (auto s = sigv4::sign(req, p); !s) return s.error();
        return client.send(req);
    }
};

class S3RoundTrip : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = std::make_unique<s3rver>(); }
    static void TearDownTestSuite() { server_.reset(); }
    static std::unique_ptr<s3rver> server_;
};
std::unique_ptr<s3rver> S3RoundTrip::server_;

std::string object_path(const std::string& bucket, std::string_view key) {
    return "/" + bucket + "/" + scar::encoding::uri_encode(key, true);
}

void round_trip(s3_client& s3, const std::string& bucket) {
    ASSERT_EQ(s3.send("PUT", "/" + bucket).value().status, 200);
    const std::string body(300'000, 'q');
    const std::string key = "a dir/ünïcode + plus %percent/(sub) [x].txt";
    const auto put = s3.send(
        "PUT",
        object_path(bucket, key),
        body,
        {{"Content-Type", "text/plain"}, {"x-amz-meta-k", "v"}}
    );
    ASSERT_EQ(put.value().status, 200) << put->body;
    EXPECT_EQ(put->header("etag"), "\"" + scar::encoding::to_hex(scar::crypto::md5_of(body)) + "\"");
    const auto get = s3.send("GET", object_path(bucket, key)).value();
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, body);
    EXPECT_EQ(get.header("x-amz-meta-k"), "v");
    const auto list =
        s3.send("GET", "/" + bucket + "?list-type=2&prefix=" + scar::encoding::uri_encode("a dir/")).value();
    EXPECT_EQ(list.status, 200);
    EXPECT_NE(list.body.find("<Key>" + key + "</Key>"), std::string::npos) << list.body;
    EXPECT_EQ(s3.send("DELETE", object_path(bucket, key)).value().status, 204);
    EXPECT_EQ(s3.send("GET", object_path(bucket, key)).value().status, 404);
}

TEST_F(S3RoundTrip, PutGetListAgainstS3rver) {
    s3_client s3{server_->url()};
    round_trip(s3, "direct");
}

TEST_F(S3RoundTrip, PresignedUrlAgainstS3rver) {
    s3_client s3{server_->url()};
    ASSERT_EQ(s3.send("PUT", "/presign").value().status, 200);
    ASSERT_EQ(s3.send("PUT", "/presign/k.txt", "presigned body").value().status, 200);
    http::request get;
    get.url = server_->url() + "/presign/k.txt";
    auto p = sigv4::signing_params::make(s3rver_creds, "us-east-1", "s3", scar::clock::system().now());
    get.url = sigv4::presign(get, p, 60s).value();
    const auto r = s3.client.send(get).value();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "presigned body");
}

TEST_F(S3RoundTrip, UnknownAccessKeyIsRefusedByS3rver) {
    s3_client s3{server_->url()};
    s3.creds.access_key_id = "AKIDNOTKNOWN";
    const auto r = s3.send("GET", "/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_NE(r->body.find("InvalidAccessKeyId"), std::string::npos);
}

TEST_F(S3RoundTrip, ThroughTheVerifierAndWrongSecretRefused) {
    verifying_proxy proxy(server_->url());
    s3_client s3{proxy.url()};
    round_trip(s3, "verified");
    const int before = proxy.forwarded();
    s3.creds.secret_access_key = "wrong";
    const auto r = s3.send("PUT", "/verified-wrong");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_NE(r->body.find("SignatureDoesNotMatch"), std::string::npos);
    EXPECT_EQ(proxy.forwarded(), before);  // nothing reached the store
}

scar::testing::run_result aws_cli(
    const std::string& endpoint,
    const std::string& secret,
    std::vector<std::string> args
) {
    std::vector<std::string>
        argv{"/usr/bin/aws", "--endpoint-url", endpoint, "--no-cli-pager", "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return scar::testing::run(
        {.argv = argv,
         .env =
             {{"AWS_ACCESS_KEY_ID", "S3RVER"},
              {"AWS_SECRET_ACCESS_KEY", secret},
              {"AWS_DEFAULT_REGION", "us-east-1"},
              {"AWS_EC2_METADATA_DISABLED", "true"},
              {"AWS_MAX_ATTEMPTS", "1"}},
         .unset_env = {"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "PYTHONPATH", "PYTHONHOME"},
         .cwd = std::nullopt,
         .stdin_data = {}},
        120s
    );
}

TEST_F(S3RoundTrip, AwsCliSignsAndTheVerifierAgrees) {
    if (!std::filesystem::exists("/usr/bin/aws"))
        GTEST_SKIP() << "Debian's awscli is missing: run scripts/setup.sh";
    verifying_proxy proxy(server_->url());
    scar::testing::temp_dir dir;
    const auto file = dir.path() / "upload.txt";
    std::ofstream(file) << "from the aws CLI\n";
    auto r = aws_cli(proxy.url(), "S3RVER", {"s3api", "create-bucket", "--bucket", "cli"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = aws_cli(
        proxy.url(),
        "S3RVER",
        {"s3api", "put-object", "--bucket", "cli", "--key", "dir/file one.txt", "--body", file.string()}
    );
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = aws_cli(proxy.url(), "S3RVER", {"s3api", "list-objects-v2", "--bucket", "cli"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("dir/file one.txt"), std::string::npos);
    r = aws_cli(
        proxy.url(),
        "S3RVER",
        {"s3", "cp", "s3://cli/dir/file one.txt", (dir.path() / "back.txt").string()}
    );
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = aws_cli(proxy.url(), "not-the-secret", {"s3api", "list-objects-v2", "--bucket", "cli"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("SignatureDoesNotMatch"), std::string::npos) << r.err;
}

}  // namespace
