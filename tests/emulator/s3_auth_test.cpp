// Requests the emulator must refuse, each with AWS's error code and nothing stored; and
// the signed streaming upload it must accept.

#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/chunked.hpp>
#include <scar/sigv4/signer.hpp>

#include <gtest/gtest.h>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace sigv4 = scar::sigv4;
namespace http = scar::http;
using namespace std::chrono_literals;

const scar::aws::credentials good{"test", "test", "", "test"};

class S3Auth : public ::testing::Test {
protected:
    void SetUp() override {
        emu_ = std::make_unique<scar::testing::emulator_process>();
        ASSERT_EQ(emu_->s3("PUT", "/auth").status, 200);
    }

    /// Sends `req` signed with `creds` at `when`.
    http::response send(
        http::request req,
        const scar::aws::credentials& creds,
        scar::clock::time_point when
    ) {
        auto p = sigv4::signing_params::make(creds, "us-east-1", "s3", when);
        (void)sigv4::sign(req, p).value();
        return client_.send(req).value();
    }

    http::request put(const std::string& key, std::string body) {
        http::request r;
        r.method = "PUT";
        r.url = emu_->url() + "/auth/" + key;
        r.body = std::move(body);
        return r;
    }

    void expect_absent(const std::string& key) {
        EXPECT_EQ(emu_->s3("GET", "/auth/" + key).status, 404) << key;
    }

    static std::string code_of(const http::response& r) {
        const auto a = r.body.find("<Code>");
        const auto b = r.body.find("</Code>");
        return a == std::string::npos || b == std::string::npos ? r.body : r.body.substr(a + 6, b - a - 6);
    }

    std::unique_ptr<scar::testing::emulator_process> emu_;
    http::client client_;
};

TEST_F(S3Auth, WrongSecretIsRefused) {
    const auto r = send(put("k1", "data"), {"test", "not-the-secret", "", "t"}, scar::clock::system().now());
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(code_of(r), "SignatureDoesNotMatch");
    expect_absent("k1");
}

TEST_F(S3Auth, WrongSecretThroughTheAwsCli) {
    if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
    scar::testing::process_options o;
    o.argv = {
        "/usr/bin/aws",
        "--endpoint-url",
        emu_->url(),
        "s3api",
        "put-object",
        "--bucket",
        "auth",
        "--key",
        "cli",
        "--body",
        "/etc/hostname"};
    o.env = {
        {"AWS_ACCESS_KEY_ID", "test"},
        {"AWS_SECRET_ACCESS_KEY", "wrong"},
        {"AWS_DEFAULT_REGION", "us-east-1"},
        {"AWS_CONFIG_FILE", "/dev/null"},
        {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
    const auto r = scar::testing::run(std::move(o));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("SignatureDoesNotMatch"), std::string::npos) << r.err;
    expect_absent("cli");
}

TEST_F(S3Auth, UnknownAccessKeyIsRefused) {
    const auto r = send(put("k2", "data"), {"AKIDUNKNOWN", "test", "", "t"}, scar::clock::system().now());
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(code_of(r), "InvalidAccessKeyId");
    expect_absent("k2");
}

TEST_F(S3Auth, UnsignedRequestIsRefused) {
    http::request r = put("k3", "data");
    const auto res = client_.send(r).value();
    EXPECT_EQ(res.status, 403);
    EXPECT_EQ(code_of(res), "AccessDenied");
    expect_absent("k3");
}

TEST_F(S3Auth, TamperedBodyIsRefused) {
    auto req = put("k4", "the signed body");
    auto p = sigv4::signing_params::make(good, "us-east-1", "s3", scar::clock::system().now());
    (void)sigv4::sign(req, p).value();
    req.body = "a tampered body";  // same length, different bytes
    const auto r = client_.send(req).value();
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(code_of(r), "XAmzContentSHA256Mismatch");
    expect_absent("k4");
}

TEST_F(S3Auth, ClockSkewOverFifteenMinutesIsRefused) {
    const auto r = send(put("k5", "data"), good, scar::clock::system().now() - 20min);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(code_of(r), "RequestTimeTooSkewed");
    expect_absent("k5");
    // Within the window it is accepted.
    EXPECT_EQ(send(put("k5", "data"), good, scar::clock::system().now() - 10min).status, 200);
}

TEST_F(S3Auth, ExpiredPresignedUrlIsRefused) {
    ASSERT_EQ(emu_->s3("PUT", "/auth/pre", "x").status, 200);
    http::request get;
    get.url = emu_->url() + "/auth/pre";
    auto p = sigv4::signing_params::make(good, "us-east-1", "s3", scar::clock::system().now() - 2h);
    get.url = sigv4::presign(get, p, 1h).value();
    const auto r = client_.send(get).value();
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(code_of(r), "AccessDenied");
    // A presigned PUT that has expired stores nothing.
    http::request put_req;
    put_req.method = "PUT";
    put_req.url = emu_->url() + "/auth/pre-put";
    put_req.url = sigv4::presign(put_req, p, 1h).value();
    put_req.body = "late";
    EXPECT_EQ(client_.send(put_req).value().status, 403);
    expect_absent("pre-put");
}

TEST_F(S3Auth, SignedStreamingUploadIsAcceptedAndTamperedChunkRefused) {
    const std::string payload(200000, 'z');
    for (const bool tamper : {false, true}) {
        const std::string key = tamper ? "chunked-bad" : "chunked";
        auto req = put(key, "");
        req.headers = {
            {"Content-Encoding", "aws-chunked"},
            {"x-amz-decoded-content-length", std::to_string(payload.size())},
            {"Content-Length", std::to_string(sigv4::chunk_signer::encoded_length(payload.size(), 65536))}};
        auto p = sigv4::signing_params::make(good, "us-east-1", "s3", scar::clock::system().now());
        p.payload_hash = sigv4::streaming_payload;
        const auto details = sigv4::sign(req, p).value();
        sigv4::chunk_signer signer(details);
        req.body = signer.encode(payload, 65536);
        if (tamper) req.body[req.body.size() / 2] ^= 1;
        const auto r = client_.send(req).value();
        if (tamper) {
            EXPECT_EQ(r.status, 403) << r.body;
            EXPECT_EQ(code_of(r), "SignatureDoesNotMatch");
            expect_absent(key);
        } else {
            ASSERT_EQ(r.status, 200) << r.body;
            const auto got = emu_->s3("GET", "/auth/" + key);
            EXPECT_TRUE(got.body == payload);
            EXPECT_FALSE(got.header("content-encoding").has_value());
        }
    }
}

}  // namespace
