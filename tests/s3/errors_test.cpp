#include "scar/s3/errors.hpp"

#include <gtest/gtest.h>

namespace {

namespace s3 = scar::s3;

scar::http::response response(int status, std::string body, scar::http::header_list headers = {}) {
    scar::http::response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

TEST(ErrorBody, ParsesS3ErrorDocuments) {
    const auto b =
        s3::parse_error_body(R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>)"
                             "<Message>The specified key does not exist.</Message><Key>a b</Key>"
                             "<RequestId>4442587FB7D0A2F9</RequestId><HostId>x</HostId></Error>");
    EXPECT_EQ(b.code, "NoSuchKey");
    EXPECT_EQ(b.message, "The specified key does not exist.");
    EXPECT_EQ(b.request_id, "4442587FB7D0A2F9");
    EXPECT_TRUE(s3::parse_error_body("").code.empty());
    EXPECT_TRUE(s3::parse_error_body("<html>502 Bad Gateway</html>").code.empty());
}

TEST(ErrorMapping, KeepsTheAwsCodeAndSaysWhatToDo) {
    struct c {
        const char* code;
        int status;
        const char* advice_word;
    };
    for (const auto& [code, status, word] : {
             c{"NoSuchKey", 404, "list the bucket"},
             c{"NoSuchBucket", 404, "create the bucket"},
             c{"AccessDenied", 403, "allowed"},
             c{"SignatureDoesNotMatch", 403, "secret access key"},
             c{"InvalidAccessKeyId", 403, "AWS_ACCESS_KEY_ID"},
             c{"RequestTimeTooSkewed", 403, "clock"},
             c{"BucketNotEmpty", 409, "delete every object"},
         }) {
        const auto e = s3::error_from_response(
            response(
                status,
                std::string("<Error><Code>") + code + "</Code><Message>S3 says so</Message></Error>"
            ),
            "GET s3://b/k"
        );
        EXPECT_EQ(e.code, code);
        EXPECT_EQ(e.http_status, status);
        EXPECT_FALSE(e.retryable) << code;
        EXPECT_TRUE(e.message.starts_with("GET s3://b/k: S3 says so; ")) << e.message;
        EXPECT_NE(e.message.find(word), std::string::npos) << e.message;
    }
}

TEST(ErrorMapping, ServerErrorsAndSlowDownAreRetryable) {
    EXPECT_TRUE(s3::error_from_response(response(503, "<Error><Code>SlowDown</Code></Error>"), "x").retryable
    );
    EXPECT_TRUE(
        s3::error_from_response(response(500, "<Error><Code>InternalError</Code></Error>"), "x").retryable
    );
    const auto bodyless = s3::error_from_response(response(502, "<html>bad gateway</html>"), "x");
    EXPECT_EQ(bodyless.code, "InternalError");
    EXPECT_TRUE(bodyless.retryable);
    // A 200 whose body is an error (CompleteMultipartUpload) keeps the body's code.
    EXPECT_EQ(
        s3::error_from_response(response(200, "<Error><Code>InvalidPart</Code></Error>"), "x").code,
        "InvalidPart"
    );
}

TEST(ErrorMapping, BodilessHeadAnswersAreNamedFromTheStatus) {
    EXPECT_EQ(
        s3::error_from_response(response(404, ""), "HeadObject s3://b/k", "NoSuchKey").code,
        "NoSuchKey"
    );
    EXPECT_EQ(
        s3::error_from_response(response(404, ""), "HeadBucket s3://b", "NoSuchBucket").code,
        "NoSuchBucket"
    );
    EXPECT_EQ(s3::error_from_response(response(403, ""), "x").code, "AccessDenied");
    const auto redirect = s3::error_from_response(
        response(301, "", {{"x-amz-bucket-region", "eu-west-1"}}),
        "HeadBucket s3://b"
    );
    EXPECT_EQ(redirect.code, "PermanentRedirect");
    EXPECT_NE(redirect.message.find("eu-west-1"), std::string::npos) << redirect.message;
}

}  // namespace
