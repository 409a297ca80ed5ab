#include "scar/sigv4/verifier.hpp"

#include <scar/core/encoding.hpp>
#include <scar/sigv4/canonical.hpp>
#include <scar/sigv4/chunked.hpp>
#include <scar/sigv4/signer.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace sigv4 = scar::sigv4;
using namespace std::chrono_literals;

const scar::aws::credentials docs_creds{
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "",
    "docs"};

// Vectors of the S3 API reference ("Signature Calculations for the Authorization Header").
TEST(SigV4Dates, YearsATimePointCannotHoldAreRefused) {
    // Found by fuzzing: times after April 2262 overflowed the nanosecond count.
    EXPECT_TRUE(sigv4::parse_amz_date("22611231T235959Z"));
    EXPECT_FALSE(sigv4::parse_amz_date("22630101T000000Z"));
    EXPECT_FALSE(sigv4::parse_amz_date("99991231T235959Z"));
    EXPECT_FALSE(sigv4::parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"));
    EXPECT_TRUE(sigv4::parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"));
}

TEST(SigV4S3Vectors, GetObjectWithRange) {
    scar::http::request req;
    req.url = "https://examplebucket.s3.amazonaws.com/test.txt";
    req.headers = {{"Range", "bytes=0-9"}};
    auto p = sigv4::signing_params::make(
        docs_creds,
        "us-east-1",
        "s3",
        sigv4::parse_amz_date("20130524T000000Z").value()
    );
    const auto d = sigv4::sign(req, p).value();
    EXPECT_EQ(d.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
    EXPECT_EQ(d.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    EXPECT_EQ(scar::http::find_header(req.headers, "x-amz-content-sha256"), sigv4::empty_payload_sha256);
}

TEST(SigV4S3Vectors, ListObjects) {
    scar::http::request req;
    req.url = "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J";
    auto p = sigv4::signing_params::make(
        docs_creds,
        "us-east-1",
        "s3",
        sigv4::parse_amz_date("20130524T000000Z").value()
    );
    EXPECT_EQ(
        sigv4::sign(req, p).value().signature,
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    );
}

TEST(SigV4S3Vectors, PresignedGet) {
    scar::http::request req;
    req.url = "https://examplebucket.s3.amazonaws.com/test.txt";
    auto p = sigv4::signing_params::make(
        docs_creds,
        "us-east-1",
        "s3",
        sigv4::parse_amz_date("20130524T000000Z").value()
    );
    const auto url = sigv4::presign(req, p, 86400s).value();
    EXPECT_EQ(
        url,
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
        "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-"
        "Expires="
        "86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
}

/// A server with one known key and a clock the test moves.
struct SigV4Verifier : ::testing::Test {
    scar::manual_clock clock{sigv4::parse_amz_date("20261122T120000Z").value()};
    sigv4::key_cache cache;
    scar::aws::credentials known{"AKIDLOCAL", "local-secret", "", "test"};

    [[nodiscard]] sigv4::verifier make() {
        sigv4::verify_options o;
        o.time_source = &clock;
        o.cache = &cache;
        return sigv4::verifier(
            [this](std::string_view akid) -> std::optional<scar::aws::credentials> {
                if (akid == known.access_key_id) return known;
                return std::nullopt;
            },
            o
        );
    }

    [[nodiscard]] sigv4::signing_params params(std::string_view service, const scar::aws::credentials& c)
        const {
        return sigv4::signing_params::make(c, "us-east-1", service, clock.now());
    }

    /// Verifies `req` as the server receives it: origin-form target and the same headers.
    [[nodiscard]] scar::result<sigv4::verified_request> receive(const scar::http::request& req) {
        const auto parts = sigv4::split_target(req.url);
        target = req.url.substr(static_cast<std::size_t>(parts.path.data() - req.url.data()));
        return make().verify({req.method, target, &req.headers, req.body});
    }

    std::string target;
};

scar::http::request s3_put() {
    scar::http::request req;
    req.method = "PUT";
    req.url = "http://127.0.0.1:4566/bucket/dir/a%20key%21%2A%28%29.txt?x-id=PutObject";
    req.headers = {{"Content-Type", "text/plain"}, {"x-amz-meta-owner", "me"}};
    req.body = "hello";
    return req;
}

TEST_F(SigV4Verifier, AcceptsWhatTheSignerSigns) {
    auto req = s3_put();
    ASSERT_TRUE(sigv4::sign(req, params("s3", known)));
    const auto r = receive(req);
    ASSERT_TRUE(r) << r.error().what();
    const sigv4::verified_request& v = r.value();
    EXPECT_EQ(v.service, "s3");
    EXPECT_EQ(v.region, "us-east-1");
    EXPECT_EQ(v.access_key_id, "AKIDLOCAL");
    EXPECT_FALSE(v.presigned);
    EXPECT_TRUE(v.body_matches("hello"));
    EXPECT_FALSE(v.body_matches("hellO"));  // S3 then answers XAmzContentSHA256Mismatch
}

TEST_F(SigV4Verifier, S3AcceptsUnescapedSubDelimitersInPath) {
    auto req = s3_put();
    ASSERT_TRUE(sigv4::sign(req, params("s3", known)));
    req.url = "http://127.0.0.1:4566/bucket/dir/a%20key!*().txt?x-id=PutObject";  // a client that does not
                                                                                  // escape !*()
    EXPECT_TRUE(receive(req));
}

TEST_F(SigV4Verifier, NonS3ServicesDoubleEncodeAndHashTheBody) {
    scar::http::request req;
    req.method = "POST";
    req.url =
        "http://127.0.0.1:4566/2015-03-31/functions/"
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/"
        "invocations";
    req.body = R"({"key":"value"})";
    const auto d = sigv4::sign(req, params("lambda", known)).value();
    EXPECT_NE(d.canonical_request.find("/arn%253Aaws%253Alambda"), std::string::npos);
    EXPECT_FALSE(scar::http::find_header(req.headers, "x-amz-content-sha256"));
    EXPECT_TRUE(receive(req));
    req.body = R"({"key":"other"})";
    const auto tampered = receive(req);
    ASSERT_FALSE(tampered);
    EXPECT_EQ(tampered.error().code, "InvalidSignatureException");
}

TEST_F(SigV4Verifier, WrongSecretIsSignatureDoesNotMatch) {
    auto req = s3_put();
    auto wrong = known;
    wrong.secret_access_key = "not-the-secret";
    ASSERT_TRUE(sigv4::sign(req, params("s3", wrong)));
    const auto v = receive(req);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, "SignatureDoesNotMatch");
    EXPECT_EQ(v.error().http_status, 403);
}

TEST_F(SigV4Verifier, UnknownKeyPerService) {
    scar::aws::credentials stranger{"AKIDSTRANGER", "x", "", "test"};
    auto req = s3_put();
    ASSERT_TRUE(sigv4::sign(req, params("s3", stranger)));
    EXPECT_EQ(receive(req).error().code, "InvalidAccessKeyId");
    scar::http::request lambda;
    lambda.url = "http://127.0.0.1:4566/2015-03-31/functions";
    ASSERT_TRUE(sigv4::sign(lambda, params("lambda", stranger)));
    EXPECT_EQ(receive(lambda).error().code, "UnrecognizedClientException");
}

TEST_F(SigV4Verifier, ClockSkewWindowIsFifteenMinutes) {
    auto req = s3_put();
    ASSERT_TRUE(sigv4::sign(req, params("s3", known)));
    clock.advance(14min);
    EXPECT_TRUE(receive(req));
    clock.advance(2min);
    const auto late = receive(req);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, "RequestTimeTooSkewed");
    clock.advance(-32min);
    EXPECT_EQ(receive(req).error().code, "RequestTimeTooSkewed");
}

TEST_F(SigV4Verifier, PresignedUrlExpires) {
    scar::http::request req;
    req.url = "http://127.0.0.1:4566/bucket/key.txt";
    const auto url = sigv4::presign(req, params("s3", known), 60s).value();
    scar::http::request get;
    get.url = url;
    get.headers = {{"Host", "127.0.0.1:4566"}};
    const auto v = receive(get);
    ASSERT_TRUE(v) << v.error().what();
    EXPECT_TRUE(v->presigned);
    EXPECT_EQ(v->payload_hash, sigv4::unsigned_payload);
    clock.advance(61s);
    const auto expired = receive(get);
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().code, "AccessDenied");
    EXPECT_NE(expired.error().message.find("Request has expired"), std::string::npos);
}

TEST_F(SigV4Verifier, PresignRejectsLongExpiryOnBothSides) {
    scar::http::request req;
    req.url = "http://127.0.0.1:4566/bucket/key.txt";
    EXPECT_EQ(sigv4::presign(req, params("s3", known), 604'801s).error().code, "InvalidParameterValue");
    EXPECT_EQ(sigv4::presign(req, params("s3", known), 0s).error().code, "InvalidParameterValue");
    auto url = sigv4::presign(req, params("s3", known), 604'800s).value();
    url.replace(url.find("X-Amz-Expires=604800"), 20, "X-Amz-Expires=604801");
    scar::http::request get;
    get.url = url;
    get.headers = {{"Host", "127.0.0.1:4566"}};
    EXPECT_EQ(receive(get).error().code, "AuthorizationQueryParametersError");
}

TEST_F(SigV4Verifier, MissingMalformedAndForeignAuthorization) {
    scar::http::request req;
    req.url = "http://127.0.0.1:4566/bucket/key";
    req.headers = {{"Host", "127.0.0.1:4566"}};
    EXPECT_FALSE(sigv4::verifier::is_signed({req.method, "/bucket/key", &req.headers, {}}));
    EXPECT_EQ(receive(req).error().code, "AccessDenied");

    req.headers.emplace_back(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261122/us-east-1/s3/aws4_request"
    );
    const auto partial = receive(req);
    ASSERT_FALSE(partial);
    EXPECT_EQ(partial.error().code, "AuthorizationHeaderMalformed");

    scar::http::set_header(req.headers, "Authorization", "AWS AKIDLOCAL:c2lnbmF0dXJl");
    const auto v2 = receive(req);
    ASSERT_FALSE(v2);
    EXPECT_EQ(v2.error().code, "InvalidArgument");
    EXPECT_NE(v2.error().message.find("AWS4-HMAC-SHA256"), std::string::npos);
}

TEST_F(SigV4Verifier, ScopeDateMustMatchRequestDate) {
    auto req = s3_put();
    ASSERT_TRUE(sigv4::sign(req, params("s3", known)));
    auto auth = std::string(*scar::http::find_header(req.headers, "authorization"));
    auth.replace(auth.find("/20261122/"), 10, "/20261121/");
    scar::http::set_header(req.headers, "Authorization", auth);
    EXPECT_EQ(receive(req).error().code, "AuthorizationHeaderMalformed");
}

TEST_F(SigV4Verifier, SessionTokenMustMatchTemporaryCredentials) {
    known.session_token = "session-token-1";
    auto req = s3_put();
    ASSERT_TRUE(sigv4::sign(req, params("s3", known)));
    EXPECT_TRUE(receive(req));
    auto other = known;
    other.session_token = "session-token-2";
    auto req2 = s3_put();
    ASSERT_TRUE(sigv4::sign(req2, params("s3", other)));
    EXPECT_EQ(receive(req2).error().code, "InvalidToken");
    auto none = known;
    none.session_token.clear();
    auto req3 = s3_put();
    ASSERT_TRUE(sigv4::sign(req3, params("s3", none)));
    EXPECT_EQ(receive(req3).error().code, "InvalidToken");
}

TEST_F(SigV4Verifier, S3RefusesUnsignedAmzHeaders) {
    auto req = s3_put();
    ASSERT_TRUE(sigv4::sign(req, params("s3", known)));
    req.headers.emplace_back("x-amz-acl", "public-read");
    const auto v = receive(req);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, "AccessDenied");
    EXPECT_NE(v.error().message.find("x-amz-acl"), std::string::npos);
}

TEST_F(SigV4Verifier, S3RequiresContentSha256Header) {
    auto req = s3_put();
    auto p = params("s3", known);
    p.rules.content_sha256_header = false;
    ASSERT_TRUE(sigv4::sign(req, p));
    EXPECT_EQ(receive(req).error().code, "InvalidRequest");
}

TEST_F(SigV4Verifier, SignedHeaderMissingFromRequest) {
    auto req = s3_put();
    ASSERT_TRUE(sigv4::sign(req, params("s3", known)));
    scar::http::remove_header(req.headers, "content-type");
    const auto v = receive(req);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, "SignatureDoesNotMatch");
    EXPECT_NE(v.error().message.find("content-type"), std::string::npos);
}

TEST_F(SigV4Verifier, StreamingUploadVerifiesSeedThenChunks) {
    scar::http::request req;
    req.method = "PUT";
    req.url = "http://127.0.0.1:4566/bucket/big.bin";
    const std::string payload(200'000, 'z');
    req.headers = {
        {"Content-Encoding", "aws-chunked"},
        {"x-amz-decoded-content-length", std::to_string(payload.size())}};
    auto p = params("s3", known);
    p.payload_hash = sigv4::streaming_payload;
    const auto seed = sigv4::sign(req, p).value();
    req.body = sigv4::chunk_signer(seed).encode(payload, 65'536);
    const auto v = receive(req);
    ASSERT_TRUE(v) << v.error().what();
    EXPECT_EQ(v->payload_hash, sigv4::streaming_payload);
    const auto m = sigv4::chunked_decoder::mode_for(v->payload_hash);
    ASSERT_TRUE(m);
    sigv4::chunked_decoder d(*m, v->key, v->amz_date, v->scope, v->signature);
    std::string out;
    ASSERT_TRUE(d.feed(req.body, out));
    ASSERT_TRUE(d.finish());
    EXPECT_EQ(out, payload);
}

TEST_F(SigV4Verifier, DroppingASignedHeaderFails) {
    scar::http::request req;
    req.url = "http://127.0.0.1:4566/2015-03-31/functions";
    ASSERT_TRUE(sigv4::sign(req, params("lambda", known)));
    // A signer that sends `Date` (RFC 7231) and signs it instead of X-Amz-Date.
    scar::http::remove_header(req.headers, "x-amz-date");
    EXPECT_FALSE(receive(req));  // signed x-amz-date is now missing
}

}  // namespace
