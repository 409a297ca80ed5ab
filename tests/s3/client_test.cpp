#include "scar/s3/client.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/testing/http_server_mock.hpp>
#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <mutex>
#include <regex>

namespace {

namespace s3 = scar::s3;
using scar::testing::http_server_mock;
using scar::testing::mock_response;
using scar::testing::recorded_request;
using namespace std::chrono_literals;

s3::client_options options_for(const std::string& endpoint) {
    s3::client_options o;
    o.endpoint = endpoint;
    o.region = "us-east-1";
    o.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "test"};
    o.http.retry.base_delay = 1ms;
    o.http.retry.max_delay = 5ms;
    return o;
}

std::string path_of(const recorded_request& r) {
    return r.target.substr(0, r.target.find('?'));
}

std::string query_of(const recorded_request& r) {
    const auto q = r.target.find('?');
    return q == std::string::npos ? std::string() : r.target.substr(q + 1);
}

mock_response xml(int status, std::string body) {
    return {status, {{"Content-Type", "application/xml"}}, std::move(body), false};
}

TEST(S3Url, PathStyleEncodesEachSegment) {
    const s3::client c(options_for("http://127.0.0.1:9000"));
    EXPECT_FALSE(c.uses_virtual_host("bucket"));
    EXPECT_EQ(c.url_for("bucket", {}), "http://127.0.0.1:9000/bucket");
    EXPECT_EQ(c.url_for("bucket", "a b/c+d%e?f#g"), "http://127.0.0.1:9000/bucket/a%20b/c%2Bd%25e%3Ff%23g");
    EXPECT_EQ(c.url_for("bucket", "a//b/"), "http://127.0.0.1:9000/bucket/a//b/");
    EXPECT_EQ(c.url_for("bucket", "ü"), "http://127.0.0.1:9000/bucket/%C3%BC");
    EXPECT_EQ(c.url_for("bucket", {}, "list-type=2"), "http://127.0.0.1:9000/bucket?list-type=2");
    EXPECT_EQ(c.url_for({}, {}), "http://127.0.0.1:9000/");
}

TEST(S3Url, AutomaticIsVirtualHostedOnAwsOnly) {
    auto o = options_for("");
    o.region = "eu-west-1";
    const s3::client aws(o);
    EXPECT_TRUE(aws.uses_virtual_host("my-bucket"));
    EXPECT_EQ(aws.url_for("my-bucket", "k"), "https://my-bucket.s3.eu-west-1.amazonaws.com/k");
    EXPECT_FALSE(aws.uses_virtual_host("my.dotted.bucket"));  // TLS wildcard certificates
    EXPECT_EQ(aws.url_for("my.dotted.bucket", "k"), "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k");
    EXPECT_FALSE(aws.uses_virtual_host("Upper"));
}

TEST(S3Url, VirtualHostedOnLoopbackUsesAnAwsStyleName) {
    auto o = options_for("http://127.0.0.1:9000");
    o.style = s3::addressing::virtual_hosted;
    const s3::client c(o);
    EXPECT_EQ(c.url_for("b", "x/y"), "http://b.s3.us-east-1.amazonaws.com:9000/x/y");
    o.virtual_host_domain = "s3.localhost";
    EXPECT_EQ(s3::client(o).url_for("b", ""), "http://b.s3.localhost:9000/");
}

TEST(S3Url, VirtualHostBucketNames) {
    EXPECT_TRUE(s3::is_virtual_hostable("abc"));
    EXPECT_TRUE(s3::is_virtual_hostable("a-1-b"));
    EXPECT_FALSE(s3::is_virtual_hostable("ab"));
    EXPECT_FALSE(s3::is_virtual_hostable("-ab"));
    EXPECT_FALSE(s3::is_virtual_hostable("a_b"));
    EXPECT_FALSE(s3::is_virtual_hostable(std::string(64, 'a')));
}

TEST(S3Client, VirtualHostedRequestsReachALoopbackServerThroughConnectTo) {
    http_server_mock server([](const recorded_request&) { return mock_response{200, {}, "body", false}; });
    auto o = options_for(server.url());
    o.style = s3::addressing::virtual_hosted;
    s3::client c(o);
    const auto got = c.get_object("vbucket", "dir/key").value();
    EXPECT_EQ(got.body, "body");
    const auto req = server.requests().at(0);
    EXPECT_EQ(req.target, "/dir/key");
    EXPECT_EQ(req.header("host"), "vbucket.s3.us-east-1.amazonaws.com:" + std::to_string(server.port()));
    const std::string auth(req.header("authorization").value_or(""));
    EXPECT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")) << auth;
    EXPECT_NE(auth.find("/us-east-1/s3/aws4_request"), std::string::npos);
}

TEST(S3Client, PutSendsMetadataContentTypeMd5AndPayloadHash) {
    http_server_mock server([](const recorded_request&) {
        return mock_response{200, {{"ETag", "\"abc\""}, {"x-amz-version-id", "v1"}}, "", false};
    });
    s3::client c(options_for(server.url()));
    s3::put_options po;
    po.content_type = "text/plain";
    po.metadata["origin"] = "unit test";
    const std::string body = "hello world";
    const auto put = c.put_object("b", "dir/a b.txt", body, po).value();
    EXPECT_EQ(put.etag, "\"abc\"");
    EXPECT_EQ(put.version_id, "v1");
    const auto r = server.requests().at(0);
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.target, "/b/dir/a%20b.txt");
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.header("content-type"), "text/plain");
    EXPECT_EQ(r.header("x-amz-meta-origin"), "unit test");
    EXPECT_EQ(
        r.header("content-md5"),
        scar::encoding::base64_encode(std::span<const std::uint8_t>(scar::crypto::md5_of(body)))
    );
    EXPECT_EQ(r.header("x-amz-content-sha256"), scar::encoding::to_hex(scar::crypto::sha256_of(body)));
    // Signed: the hash header is in SignedHeaders.
    EXPECT_NE(
        std::string(r.header("authorization").value_or("")).find("x-amz-content-sha256"),
        std::string::npos
    );
}

TEST(S3Client, ErrorBodiesBecomeAwsCodes) {
    http_server_mock server([](const recorded_request& r) {
        if (r.method == "HEAD") return mock_response{404, {}, "", false};
        return xml(
            404,
            "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
            "<RequestId>R1</RequestId></Error>"
        );
    });
    s3::client c(options_for(server.url()));
    const auto g = c.get_object("b", "missing");
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().code, "NoSuchKey");
    EXPECT_EQ(g.error().http_status, 404);
    EXPECT_NE(g.error().message.find("s3://b/missing"), std::string::npos) << g.error().message;
    EXPECT_NE(g.error().message.find("R1"), std::string::npos);
    const auto h = c.head_object("b", "missing");
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code, "NoSuchKey");
    EXPECT_THROW((void)c.get_object("b", "missing").value(), scar::aws_exception);
}

TEST(S3Client, SlowDownAndResetsAreRetried) {
    std::atomic<int> calls{0};
    http_server_mock server([&](const recorded_request&) {
        const int n = ++calls;
        if (n == 1)
            return xml(
                503,
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            );
        if (n == 2) return mock_response{0, {}, {}, true};  // connection reset
        return mock_response{200, {{"ETag", "\"e\""}}, "", false};
    });
    s3::client c(options_for(server.url()));
    const auto put = c.put_object("b", "k", "data");
    ASSERT_TRUE(put) << put.error().what();
    EXPECT_EQ(server.request_count(), 3u);
    // Each attempt is signed afresh (same body hash, its own signature over the date).
    for (const auto& r : server.requests()) EXPECT_TRUE(r.header("authorization").has_value());
}

TEST(S3Client, SlowDownUntilRetriesRunOutIsARetryableError) {
    http_server_mock server([](const recorded_request&) {
        return xml(
            503,
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        );
    });
    auto o = options_for(server.url());
    o.http.retry.max_attempts = 3;
    s3::client c(o);
    const auto put = c.put_object("b", "k", "data");
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, "SlowDown");
    EXPECT_TRUE(put.error().retryable);
    EXPECT_EQ(server.request_count(), 3u);
}

TEST(S3Client, ListAllPagesThroughContinuationTokens) {
    http_server_mock server([](const recorded_request& r) {
        const std::string q = query_of(r);
        if (q.find("continuation-token=t%2B1") != std::string::npos) {
            return xml(
                200,
                "<ListBucketResult><IsTruncated>false</IsTruncated>"
                "<Contents><Key>p/c</Key><Size>3</Size><ETag>\"3\"</ETag>"
                "<LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>"
                "<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes></ListBucketResult>"
            );
        }
        return xml(
            200,
            "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t+1</"
            "NextContinuationToken>"
            "<Contents><Key>p/a b</Key><Size>1</Size><ETag>\"1\"</ETag>"
            "<LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>"
            "<Contents><Key> </Key><Size>2</Size></Contents></ListBucketResult>"
        );
    });
    s3::client c(options_for(server.url()));
    const auto all = c.list_all("b", "p/", "/").value();
    ASSERT_EQ(all.objects.size(), 3u);
    EXPECT_EQ(all.objects[0].key, "p/a b");
    EXPECT_EQ(all.objects[1].key, " ");  // whitespace-only keys survive
    EXPECT_EQ(all.objects[2].key, "p/c");
    EXPECT_EQ(all.objects[2].size, 3u);
    EXPECT_EQ(all.common_prefixes, std::vector<std::string>{"p/d/"});
    const auto first = server.requests().at(0);
    EXPECT_EQ(path_of(first), "/b");
    EXPECT_NE(query_of(first).find("list-type=2"), std::string::npos);
    EXPECT_NE(query_of(first).find("prefix=p%2F"), std::string::npos);
    EXPECT_NE(query_of(first).find("delimiter=%2F"), std::string::npos);
}

TEST(S3Client, DeleteObjectsSendsOneBatchPerThousandKeysWithMd5) {
    std::atomic<int> batches{0};
    http_server_mock server([&](const recorded_request& r) {
        ++batches;
        std::string body = "<DeleteResult>";
        const std::regex key_re("<Key>([^<]*)</Key>");
        for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), key_re);
             it != std::sregex_iterator();
             ++it) {
            const std::string k = (*it)[1];
            if (k == "k7") {
                body +=
                    "<Error><Key>k7</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
            } else if (r.body.find("<Quiet>true</Quiet>") == std::string::npos) {
                body += "<Deleted><Key>" + k + "</Key></Deleted>";
            }
        }
        return xml(200, body + "</DeleteResult>");
    });
    s3::client c(options_for(server.url()));
    std::vector<std::string> keys;
    for (int i = 0; i < 1500; ++i) keys.push_back("k" + std::to_string(i));
    const auto d = c.delete_objects("b", keys).value();
    EXPECT_EQ(batches.load(), 2);
    EXPECT_EQ(d.deleted.size(), 1499u);
    ASSERT_EQ(d.errors.size(), 1u);
    EXPECT_EQ(d.errors[0].key, "k7");
    EXPECT_EQ(d.errors[0].code, "AccessDenied");
    const auto r = server.requests().at(0);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(query_of(r), "delete=");
    EXPECT_EQ(
        r.header("content-md5"),
        scar::encoding::base64_encode(std::span<const std::uint8_t>(scar::crypto::md5_of(r.body)))
    );
    const auto quiet = c.delete_objects("b", std::vector<std::string>{"k1", "k7"}, true).value();
    EXPECT_TRUE(quiet.deleted.empty());
    EXPECT_EQ(quiet.errors.size(), 1u);
}

/// A multipart endpoint: records parts, can fail one part number, and holds parts at a
/// gate until `hold` of them are in flight (proving they run in parallel).
struct multipart_fake {
    std::mutex mutex;
    std::map<int, std::string> parts;
    int fail_part = 0;
    std::atomic<int> aborts{0};
    std::string completed_body;
    /// When set, each part waits (bounded) until this many requests are in flight.
    std::function<bool()> wait_parallel;

    mock_response handle(const recorded_request& r) {
        const std::string q = query_of(r);
        if (r.method == "POST" && q == "uploads=") {
            return xml(
                200,
                "<InitiateMultipartUploadResult><UploadId>up/1+x</UploadId></InitiateMultipartUploadResult>"
            );
        }
        if (r.method == "PUT" && q.find("partNumber=") != std::string::npos) {
            EXPECT_NE(q.find("uploadId=up%2F1%2Bx"), std::string::npos) << q;
            const int n = std::stoi(q.substr(q.find("partNumber=") + 11));
            if (wait_parallel) {
                EXPECT_TRUE(wait_parallel()) << "parts are not sent in parallel";
            }
            if (n == fail_part)
                return xml(400, "<Error><Code>BadDigest</Code><Message>bad</Message></Error>");
            const std::lock_guard lock(mutex);
            parts[n] = r.body;
            return mock_response{200, {{"ETag", "\"etag" + std::to_string(n) + "\""}}, "", false};
        }
        if (r.method == "POST") {
            const std::lock_guard lock(mutex);
            completed_body = r.body;
            return xml(
                200,
                "<CompleteMultipartUploadResult><ETag>\"final-3\"</ETag></CompleteMultipartUploadResult>"
            );
        }
        if (r.method == "DELETE") {
            ++aborts;
            return mock_response{204, {}, "", false};
        }
        return mock_response{500, {}, "unexpected", false};
    }
};

std::filesystem::path write_file(const std::filesystem::path& dir, std::size_t size) {
    const auto p = dir / "upload.bin";
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    std::ofstream(p, std::ios::binary) << data;
    return p;
}

TEST(S3Client, MultipartUploadSendsPartsInParallelAndCompletesInOrder) {
    multipart_fake fake;
    http_server_mock server([&](const recorded_request& r) { return fake.handle(r); });
    // Each part waits until two were in flight at once (a late third part finds it so).
    fake.wait_parallel = [&server] { return server.max_in_flight() >= 2 || server.wait_in_flight(2, 10s); };
    auto o = options_for(server.url());
    o.multipart_threshold = 6ULL << 20U;
    o.part_size = 5ULL << 20U;
    o.max_parallel = 3;
    s3::client c(o);
    scar::testing::temp_dir dir;
    const std::size_t size = (5U << 20U) * 2 + 12345;  // three parts
    const auto file = write_file(dir.path(), size);
    std::vector<std::uint64_t> progress;
    s3::put_options po;
    po.on_progress = [&](std::uint64_t done, std::uint64_t total) {
        EXPECT_EQ(total, size);
        progress.push_back(done);
        return true;
    };
    const auto put = c.upload_file("b", "big.bin", file, po);
    ASSERT_TRUE(put) << put.error().what();
    EXPECT_EQ(put->etag, "\"final-3\"");
    ASSERT_EQ(fake.parts.size(), 3u);
    std::ifstream in(file, std::ios::binary);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(fake.parts[1] + fake.parts[2] + fake.parts[3], all);
    EXPECT_GE(server.max_in_flight(), 2);
    EXPECT_NE(
        fake.completed_body.find("<Part><PartNumber>1</PartNumber><ETag>&quot;etag1&quot;</ETag></Part>"),
        std::string::npos
    ) << fake.completed_body;
    EXPECT_LT(
        fake.completed_body.find("<PartNumber>2</PartNumber>"),
        fake.completed_body.find("<PartNumber>3</PartNumber>")
    );
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), size);
    EXPECT_EQ(fake.aborts.load(), 0);
}

TEST(S3Client, MultipartUploadIsAbortedWhenAPartFails) {
    multipart_fake fake;
    fake.fail_part = 2;
    http_server_mock server([&](const recorded_request& r) { return fake.handle(r); });
    auto o = options_for(server.url());
    o.multipart_threshold = 6ULL << 20U;
    o.part_size = 5ULL << 20U;
    s3::client c(o);
    scar::testing::temp_dir dir;
    const auto file = write_file(dir.path(), (5U << 20U) * 2 + 1);
    const auto put = c.upload_file("b", "big.bin", file);
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, "BadDigest");
    EXPECT_NE(put.error().message.find("UploadPart 2 of 3"), std::string::npos) << put.error().message;
    EXPECT_EQ(fake.aborts.load(), 1);
    EXPECT_TRUE(fake.completed_body.empty());
}

TEST(S3Client, CompleteAnswering200WithAnErrorIsAnError) {
    http_server_mock server([](const recorded_request&) {
        return xml(
            200,
            "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
        );
    });
    auto o = options_for(server.url());
    o.http.retry.max_attempts = 1;
    s3::client c(o);
    const std::vector<s3::completed_part> parts{{1, "\"e\""}};
    const auto r = c.complete_multipart_upload("b", "k", "id", parts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "InternalError");
    EXPECT_TRUE(r.error().retryable);
}

TEST(S3Client, GetToFileStreamsAndRenamesAndReportsProgress) {
    const std::string body(3 << 20, 'z');
    http_server_mock server([&](const recorded_request& r) {
        if (path_of(r) == "/b/missing")
            return xml(404, "<Error><Code>NoSuchKey</Code><Message>no</Message></Error>");
        return mock_response{200, {{"ETag", "\"x\""}, {"x-amz-meta-Color", "blue"}}, body, false};
    });
    s3::client c(options_for(server.url()));
    scar::testing::temp_dir dir;
    const auto dest = dir.path() / "out.bin";
    std::uint64_t last = 0;
    s3::get_options go;
    go.on_progress = [&](std::uint64_t done, std::uint64_t) {
        last = done;
        return true;
    };
    const auto info = c.get_object_to_file("b", "k", dest, go).value();
    EXPECT_EQ(info.etag, "\"x\"");
    EXPECT_EQ(info.metadata.at("color"), "blue");
    EXPECT_EQ(std::filesystem::file_size(dest), body.size());
    EXPECT_EQ(last, body.size());
    const auto missing = c.get_object_to_file("b", "missing", dir.path() / "none.bin");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "NoSuchKey");
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "none.bin"));
}

TEST(S3Client, RangeAndConditionalHeaders) {
    http_server_mock server([](const recorded_request&) {
        return mock_response{206, {{"Content-Range", "bytes 2-4/10"}}, "cde", false};
    });
    s3::client c(options_for(server.url()));
    s3::get_options go;
    go.range = s3::byte_range{2, 4, std::nullopt};
    go.if_match = "\"etag\"";
    const auto g = c.get_object("b", "k", go).value();
    EXPECT_EQ(g.body, "cde");
    EXPECT_EQ(g.info.content_range, "bytes 2-4/10");
    EXPECT_EQ(server.requests().at(0).header("range"), "bytes=2-4");
    EXPECT_EQ(server.requests().at(0).header("if-match"), "\"etag\"");
    go.range = s3::byte_range{0, std::nullopt, 3};
    (void)c.get_object("b", "k", go).value();
    EXPECT_EQ(server.requests().at(1).header("range"), "bytes=-3");
}

TEST(S3Client, CopySendsAnEncodedSource) {
    http_server_mock server([](const recorded_request&) {
        return xml(
            200,
            "<CopyObjectResult><ETag>\"c\"</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></"
            "CopyObjectResult>"
        );
    });
    s3::client c(options_for(server.url()));
    const auto r = c.copy_object("src", "a b/ü", "dst", "copy").value();
    EXPECT_EQ(r.etag, "\"c\"");
    EXPECT_EQ(server.requests().at(0).header("x-amz-copy-source"), "src/a%20b/%C3%BC");
}

TEST(S3Client, NotificationConfigurationIsValidatedBeforeSending) {
    http_server_mock server([](const recorded_request& r) {
        if (r.method == "GET") {
            return xml(
                200,
                "<NotificationConfiguration><CloudFunctionConfiguration><Id>x</Id>"
                "<CloudFunction>arn:aws:lambda:us-east-1:1:function:f</CloudFunction>"
                "<Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration></NotificationConfiguration>"
            );
        }
        return mock_response{200, {}, "", false};
    });
    s3::client c(options_for(server.url()));
    s3::notification_config bad;
    bad.lambda.push_back({"a", "arn:aws:lambda:us-east-1:1:function:f", {"s3:Nope"}, "", ""});
    const auto refused = c.put_bucket_notification("b", bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "InvalidArgument");
    EXPECT_EQ(server.request_count(), 0u);
    s3::notification_config good;
    good.lambda.push_back({"a", "arn:aws:lambda:us-east-1:1:function:f", {"s3:ObjectCreated:*"}, "in/", ""});
    ASSERT_TRUE(c.put_bucket_notification("b", good));
    EXPECT_EQ(query_of(server.requests().at(0)), "notification=");
    EXPECT_EQ(server.requests().at(0).body, s3::to_xml(good));
    const auto got = c.get_bucket_notification("b").value();
    ASSERT_EQ(got.lambda.size(), 1u);
    EXPECT_EQ(got.lambda[0].id, "x");
}

TEST(S3Client, PresignedUrlsCarryTheSignatureInTheQuery) {
    auto o = options_for("http://127.0.0.1:9000");
    scar::manual_clock clock{scar::clock::time_point{} + std::chrono::seconds(1'700'000'000)};
    o.time = &clock;
    s3::client c(o);
    const auto url = c.presign_get("b", "a b.txt", 3600s).value();
    EXPECT_TRUE(url.starts_with("http://127.0.0.1:9000/b/a%20b.txt?")) << url;
    EXPECT_NE(url.find("X-Amz-Expires=3600"), std::string::npos);
    EXPECT_NE(url.find("X-Amz-Date=20231114T221320Z"), std::string::npos) << url;
    EXPECT_NE(url.find("X-Amz-Signature="), std::string::npos);
    const auto put = c.presign_put("b", "k", 60s, "text/plain").value();
    EXPECT_NE(put.find("content-type"), std::string::npos) << put;
    EXPECT_FALSE(c.presign_get("b", "k", std::chrono::seconds(8 * 24 * 3600)));
}

TEST(S3Client, FromEnvironmentUsesPathStyleForACustomEndpoint) {
    const auto src = scar::aws::config_sources::from_map(
        {{"AWS_ACCESS_KEY_ID", "id"},
         {"AWS_SECRET_ACCESS_KEY", "secret"},
         {"AWS_REGION", "eu-west-1"},
         {"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"}}
    );
    const auto c = s3::client::from_environment(src).value();
    EXPECT_EQ(c.options().region, "eu-west-1");
    EXPECT_EQ(c.url_for("bucket", "k"), "http://127.0.0.1:4566/bucket/k");
    const auto missing = s3::client::from_environment(scar::aws::config_sources::from_map({}));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "MissingCredentials");
}

}  // namespace
