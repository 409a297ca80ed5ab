// The S3 conformance suite (see conformance.hpp): scar::s3::client against real S3
// implementations on loopback.

#include "conformance.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/testing/process.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace scar::s3::testing {
namespace {

using namespace std::chrono_literals;

/// Backends started so far, one per factory; stopped when the test program ends.
std::map<std::string, std::unique_ptr<backend>>& running() {
    static std::map<std::string, std::unique_ptr<backend>> backends;
    return backends;
}

class stop_backends : public ::testing::Environment {
public:
    void TearDown() override { running().clear(); }
};
[[maybe_unused]] const auto* const registered = ::testing::AddGlobalTestEnvironment(new stop_backends);

std::string unique_bucket() {
    static std::atomic<int> n{0};
    return "conf-" + encoding::to_hex(crypto::bytes(crypto::random_bytes(4))) + "-" + std::to_string(++n);
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string md5_etag(std::string_view data) {
    return "\"" + encoding::to_hex(crypto::md5_of(data)) + "\"";
}

}  // namespace

void S3Conformance::SetUp() {
    const auto& factory = GetParam();
    auto& slot = running()[factory.name];
    if (!slot) {
        try {
            slot = factory.make();
        } catch (const std::exception& e) {
            FAIL() << "cannot start the " << factory.name << " backend: " << e.what();
        }
        if (!slot)
            GTEST_SKIP(
            ) << factory.name
              << " is not available (s3rver: run scripts/setup.sh; emulator: set SCAR_S3_EMULATOR_BIN)";
    }
    backend_ = slot.get();
    s3_ = std::make_unique<client>(backend_->options());
    bucket_ = unique_bucket();
    ASSERT_TRUE(s3_->create_bucket(bucket_)) << "cannot create bucket " << bucket_;
}

void S3Conformance::TearDown() {
    if (!s3_ || bucket_.empty()) return;
    if (auto all = s3_->list_all(bucket_)) {
        std::vector<std::string> keys;
        for (const auto& o : all->objects) keys.push_back(o.key);
        if (!keys.empty()) (void)s3_->delete_objects(bucket_, keys, true);
    }
    (void)s3_->delete_bucket(bucket_);
}

TEST_P(S3Conformance, BucketLifecycle) {
    ASSERT_TRUE(s3_->head_bucket(bucket_));
    const auto buckets = s3_->list_buckets().value();
    EXPECT_TRUE(std::any_of(buckets.begin(), buckets.end(), [&](const bucket_summary& b) {
        return b.name == bucket_;
    }));
    const auto missing = s3_->head_bucket("no-such-bucket-here");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "NoSuchBucket");
    ASSERT_TRUE(s3_->put_object(bucket_, "k", "v"));
    const auto not_empty = s3_->delete_bucket(bucket_);
    ASSERT_FALSE(not_empty);
    EXPECT_EQ(not_empty.error().code, "BucketNotEmpty");
    EXPECT_NE(not_empty.error().message.find("delete every object"), std::string::npos);
}

TEST_P(S3Conformance, PutGetHeadWithMetadata) {
    const std::string body = "hello, S3\n";
    put_options po;
    po.content_type = "text/plain";
    po.metadata["origin"] = "scar";
    const auto put = s3_->put_object(bucket_, "dir/file.txt", body, po).value();
    EXPECT_EQ(put.etag, md5_etag(body));
    const auto got = s3_->get_object(bucket_, "dir/file.txt").value();
    EXPECT_EQ(got.body, body);
    EXPECT_EQ(got.info.etag, md5_etag(body));
    EXPECT_EQ(got.info.content_type, "text/plain");
    EXPECT_EQ(got.info.metadata.at("origin"), "scar");
    const auto head = s3_->head_object(bucket_, "dir/file.txt").value();
    EXPECT_EQ(head.size, body.size());
    EXPECT_EQ(head.etag, md5_etag(body));
    EXPECT_NE(head.last_modified, clock::time_point{});
}

TEST_P(S3Conformance, MissingObjectsAndBucketsHaveAwsCodes) {
    auto g = s3_->get_object(bucket_, "missing");
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().code, "NoSuchKey");
    EXPECT_EQ(g.error().http_status, 404);
    auto h = s3_->head_object(bucket_, "missing");
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code, "NoSuchKey");
    g = s3_->get_object("no-such-bucket-here", "k");
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().code, "NoSuchBucket");
    EXPECT_TRUE(s3_->delete_object(bucket_, "missing"));  // deleting nothing succeeds
}

TEST_P(S3Conformance, KeysRoundTripByteExact) {
    std::vector<std::string> keys = {
        "a b c.txt",
        "\xC3\xBCn\xC3\xAF"
        "code/\xE6\x97\xA5\xE6\x9C\xAC.txt",
        "plus+sign",
        "100%",
        "%41 not an escape",
        "what?query=1",
        "hash#tag",
        "(parens) [brackets] {braces}",
        "tilde~and'quote",
        "=&;:,@$!*",
        "trailing/",
        "deep/er/path.bin",
    };
    if (backend_->limits().dot_segment_keys) {
        keys.emplace_back("dots/./x");
        keys.emplace_back("dots/../y");
    }
    if (backend_->limits().double_slash_keys) {
        keys.emplace_back("a//b");
        keys.emplace_back("//leading");
    }
    for (const auto& k : keys) ASSERT_TRUE(s3_->put_object(bucket_, k, "body of " + k)) << k;
    for (const auto& k : keys) {
        const auto g = s3_->get_object(bucket_, k);
        ASSERT_TRUE(g) << k << ": " << g.error().what();
        EXPECT_EQ(g->body, "body of " + k);
    }
    const auto listed = s3_->list_all(bucket_).value();
    std::set<std::string> got;
    for (const auto& o : listed.objects) got.insert(o.key);
    EXPECT_EQ(got, std::set<std::string>(keys.begin(), keys.end()));
}

TEST_P(S3Conformance, FilesUpAndDownWithProgress) {
    scar::testing::temp_dir dir;
    std::string data(1 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 % 251);
    const auto src = dir.path() / "src.bin";
    std::ofstream(src, std::ios::binary) << data;
    std::uint64_t up = 0;
    put_options po;
    po.on_progress = [&](std::uint64_t done, std::uint64_t) {
        up = done;
        return true;
    };
    const auto put = s3_->upload_file(bucket_, "files/src.bin", src, po).value();
    EXPECT_EQ(put.etag, md5_etag(data));
    EXPECT_EQ(up, data.size());
    const auto dest = dir.path() / "dest.bin";
    const auto info = s3_->get_object_to_file(bucket_, "files/src.bin", dest).value();
    EXPECT_EQ(slurp(dest), data);
    EXPECT_EQ(info.etag, md5_etag(data));
}

TEST_P(S3Conformance, RangedReads) {
    ASSERT_TRUE(s3_->put_object(bucket_, "r", "0123456789"));
    get_options go;
    go.range = byte_range{2, 5, std::nullopt};
    auto g = s3_->get_object(bucket_, "r", go).value();
    EXPECT_EQ(g.body, "2345");
    EXPECT_EQ(g.info.content_range, "bytes 2-5/10");
    go.range = byte_range{7, std::nullopt, std::nullopt};
    EXPECT_EQ(s3_->get_object(bucket_, "r", go).value().body, "789");
    if (backend_->limits().suffix_ranges) {
        go.range = byte_range{0, std::nullopt, 3};
        EXPECT_EQ(s3_->get_object(bucket_, "r", go).value().body, "789");
    }
    go.range = byte_range{20, std::nullopt, std::nullopt};
    const auto bad = s3_->get_object(bucket_, "r", go);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "InvalidRange");
}

TEST_P(S3Conformance, ListingPagesAndDelimiters) {
    for (const auto* k : {"a/1", "a/2", "a/3", "b/1", "b/x/2", "c"})
        ASSERT_TRUE(s3_->put_object(bucket_, k, k));
    const auto dirs = s3_->list_all(bucket_, "", "/").value();
    EXPECT_EQ(dirs.common_prefixes, (std::vector<std::string>{"a/", "b/"}));
    ASSERT_EQ(dirs.objects.size(), 1u);
    EXPECT_EQ(dirs.objects[0].key, "c");
    const auto under_b = s3_->list_all(bucket_, "b/").value();
    EXPECT_EQ(under_b.objects.size(), 2u);
    if (!backend_->limits().continuation_tokens) return;
    list_options lo;
    lo.max_keys = 2;
    const auto first = s3_->list_objects_v2(bucket_, lo).value();
    ASSERT_EQ(first.objects.size(), 2u);
    EXPECT_TRUE(first.truncated);
    EXPECT_EQ(first.objects[0].key, "a/1");
    lo.continuation_token = first.next_continuation_token;
    const auto second = s3_->list_objects_v2(bucket_, lo).value();
    ASSERT_EQ(second.objects.size(), 2u);
    EXPECT_EQ(second.objects[0].key, "a/3");
    EXPECT_EQ(s3_->list_all(bucket_).value().objects.size(), 6u);
}

TEST_P(S3Conformance, DeleteObjectsInBatches) {
    std::vector<std::string> keys;
    for (int i = 0; i < 12; ++i) {
        keys.push_back("del/" + std::to_string(i) + " x");
        ASSERT_TRUE(s3_->put_object(bucket_, keys.back(), "x"));
    }
    const std::vector<std::string> first(keys.begin(), keys.begin() + 6);
    const auto d = s3_->delete_objects(bucket_, first).value();
    EXPECT_EQ(
        std::set<std::string>(d.deleted.begin(), d.deleted.end()),
        std::set<std::string>(first.begin(), first.end())
    );
    EXPECT_TRUE(d.errors.empty());
    const std::vector<std::string> rest(keys.begin() + 6, keys.end());
    const auto quiet = s3_->delete_objects(bucket_, rest, true).value();
    if (backend_->limits().quiet_delete) {
        EXPECT_TRUE(quiet.deleted.empty());
    }
    EXPECT_TRUE(quiet.errors.empty());
    EXPECT_TRUE(s3_->list_all(bucket_, "del/").value().objects.empty());
}

TEST_P(S3Conformance, CopyObject) {
    put_options po;
    po.content_type = "text/plain";
    ASSERT_TRUE(s3_->put_object(bucket_, "src dir/ü.txt", "copy me", po));
    const auto c = s3_->copy_object(bucket_, "src dir/ü.txt", bucket_, "dst/copy.txt").value();
    EXPECT_EQ(c.etag, md5_etag("copy me"));
    const auto g = s3_->get_object(bucket_, "dst/copy.txt").value();
    EXPECT_EQ(g.body, "copy me");
    const auto missing = s3_->copy_object(bucket_, "nope", bucket_, "x");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "NoSuchKey");
}

TEST_P(S3Conformance, MultipartUploadInParallel) {
    auto o = backend_->options();
    o.multipart_threshold = 6ULL << 20U;
    o.part_size = 5ULL << 20U;
    o.max_parallel = 3;
    client s3(o);
    scar::testing::temp_dir dir;
    std::string data((5U << 20U) * 2 + 777, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131 + i / 7919) % 256);
    const auto src = dir.path() / "big.bin";
    std::ofstream(src, std::ios::binary) << data;
    const auto put = s3.upload_file(bucket_, "multi part.bin", src);
    ASSERT_TRUE(put) << put.error().what();
    if (backend_->limits().multipart_etags) {
        EXPECT_TRUE(put->etag.ends_with("-3\"")) << put->etag;  // AWS's multipart ETag rule
    }
    const auto back = s3.get_object(bucket_, "multi part.bin").value();
    EXPECT_EQ(back.body.size(), data.size());
    EXPECT_TRUE(back.body == data);
}

TEST_P(S3Conformance, ExplicitMultipartCallsAndAbort) {
    const auto id = s3_->create_multipart_upload(bucket_, "m").value();
    const std::string part1(5U << 20U, 'a');
    const auto e1 = s3_->upload_part(bucket_, "m", id, 1, part1).value();
    const auto e2 = s3_->upload_part(bucket_, "m", id, 2, "tail").value();
    const std::vector<completed_part> parts{{1, e1}, {2, e2}};
    ASSERT_TRUE(s3_->complete_multipart_upload(bucket_, "m", id, parts));
    EXPECT_EQ(s3_->get_object(bucket_, "m").value().body, part1 + "tail");
    if (!backend_->limits().abort_multipart) return;
    const auto id2 = s3_->create_multipart_upload(bucket_, "aborted").value();
    ASSERT_TRUE(s3_->upload_part(bucket_, "aborted", id2, 1, "x"));
    ASSERT_TRUE(s3_->abort_multipart_upload(bucket_, "aborted", id2));
    EXPECT_FALSE(s3_->head_object(bucket_, "aborted"));
}

TEST_P(S3Conformance, PresignedGetAndPut) {
    // Anyone's HTTP client; for virtual-hosted names it needs the same CONNECT_TO as ours.
    http::options plain_options;
    if (s3_->uses_virtual_host(bucket_)) {
        std::string authority = backend_->options().endpoint;
        authority.erase(0, authority.find("://") + 3);
        plain_options.connect_to = {"::" + authority};
    }
    http::client plain(plain_options);
    const auto put_url = s3_->presign_put(bucket_, "pre signed/ü.txt", 300s).value();
    http::request put;
    put.method = "PUT";
    put.url = put_url;
    put.body = "via presigned PUT";
    const auto p = plain.send(put).value();
    ASSERT_EQ(p.status, 200) << p.body;
    http::request get;
    get.url = s3_->presign_get(bucket_, "pre signed/ü.txt", 300s).value();
    const auto g = plain.send(get).value();
    EXPECT_EQ(g.status, 200);
    EXPECT_EQ(g.body, "via presigned PUT");
}

TEST_P(S3Conformance, BucketNotificationConfiguration) {
    if (!backend_->limits().notifications) {
        GTEST_SKIP() << GetParam().name << " does not implement bucket notification configurations";
    }
    notification_config c;
    c.lambda.push_back(
        {"on-input",
         "arn:aws:lambda:us-east-1:000000000000:function:f",
         {"s3:ObjectCreated:*"},
         "in/",
         ".csv"}
    );
    ASSERT_TRUE(s3_->put_bucket_notification(bucket_, c));
    const auto got = s3_->get_bucket_notification(bucket_).value();
    EXPECT_EQ(got, c);
    ASSERT_TRUE(s3_->put_bucket_notification(bucket_, {}));
    EXPECT_TRUE(s3_->get_bucket_notification(bucket_).value().empty());
}

}  // namespace scar::s3::testing
