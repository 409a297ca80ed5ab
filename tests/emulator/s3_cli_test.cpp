// The aws CLI v2 (botocore, an independent client) against scar-emulator's S3: the
// high-level `aws s3` commands and the `aws s3api` operations users script with.

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using scar::testing::aws;
using scar::testing::run_result;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const fs::path& p, std::string_view data) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// Bytes that differ from one position to the next and from run to run of a pattern.
std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761U + 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

scar::testing::process_options curl(std::vector<std::string> args) {
    scar::testing::process_options o;
    o.argv = {"curl"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    return o;
}

class S3Cli : public ::testing::Test {
protected:
    void SetUp() override {
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
        emu_ = std::make_unique<scar::testing::emulator_process>();
    }

    run_result cli(std::vector<std::string> args) { return aws(emu_->url(), std::move(args)); }

    /// Runs the CLI and expects success; returns its stdout.
    std::string ok(std::vector<std::string> args) {
        std::string shown;
        for (const auto& a : args) shown += a + " ";
        auto r = cli(std::move(args));
        EXPECT_EQ(r.exit_code, 0) << "aws " << shown << "\n" << r.out << r.err;
        return r.out;
    }

    json::value ok_json(std::vector<std::string> args) {
        const auto out = ok(std::move(args));
        if (out.empty()) return nullptr;
        return json::parse(out);
    }

    scar::testing::temp_dir work_{"scar-cli"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
};

TEST_F(S3Cli, TrickyKeysRoundTripByteExact) {
    ok({"s3", "mb", "s3://keys"});
    const std::vector<std::string> keys = {
        "a b.txt",
        "ünïcødé/ファイル.txt",
        "plus+sign",
        "100%done",
        "what?.txt",
        "hash#tag",
        "double//slash",
        "/leading",
        "dir/",
        "dir",
        "trailing space ",
        "tab\there",
        "~tilde*star(paren)'quote\"dq&amp=eq;semi,comma"};
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto src = work_.path() / ("in" + std::to_string(i));
        spit(src, pattern(1000 + i, static_cast<unsigned>(i)));
        ok({"s3api", "put-object", "--bucket", "keys", "--key", keys[i], "--body", src.string()});
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto dst = work_.path() / ("out" + std::to_string(i));
        ok({"s3api", "get-object", "--bucket", "keys", "--key", keys[i], dst.string()});
        EXPECT_EQ(slurp(dst), pattern(1000 + i, static_cast<unsigned>(i))) << keys[i];
    }
    const auto listed = ok_json({"s3api", "list-objects-v2", "--bucket", "keys"});
    std::set<std::string> got;
    for (const auto& o : listed.at("Contents").as_array()) got.insert(std::string(o.at("Key").as_string()));
    EXPECT_EQ(got, std::set<std::string>(keys.begin(), keys.end()));
    // Listing is lexicographic by UTF-8 bytes.
    std::vector<std::string> order;
    for (const auto& o : listed.at("Contents").as_array()) order.emplace_back(o.at("Key").as_string());
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

TEST_F(S3Cli, HighLevelCommands) {
    ok({"s3", "mb", "s3://high"});
    const auto dir = work_.path() / "tree";
    spit(dir / "a.txt", "alpha");
    spit(dir / "sub/b.txt", "beta");
    spit(dir / "sub/deeper/c.bin", pattern(70000, 3));
    ok({"s3", "sync", dir.string(), "s3://high/tree/"});
    const auto ls = ok({"s3", "ls", "--recursive", "s3://high/"});
    EXPECT_NE(ls.find("tree/a.txt"), std::string::npos) << ls;
    EXPECT_NE(ls.find("tree/sub/deeper/c.bin"), std::string::npos) << ls;
    const auto top = ok({"s3", "ls", "s3://high/tree/"});
    EXPECT_NE(top.find("PRE sub/"), std::string::npos) << top;
    // A second sync has nothing to do.
    EXPECT_EQ(ok({"s3", "sync", dir.string(), "s3://high/tree/"}), "");

    ok({"s3", "mv", "s3://high/tree/a.txt", "s3://high/moved.txt"});
    ok({"s3", "cp", "s3://high/moved.txt", (work_.path() / "moved.txt").string()});
    EXPECT_EQ(slurp(work_.path() / "moved.txt"), "alpha");
    EXPECT_NE(cli({"s3api", "head-object", "--bucket", "high", "--key", "tree/a.txt"}).exit_code, 0);

    const auto down = work_.path() / "down";
    ok({"s3", "sync", "s3://high/tree/", down.string()});
    EXPECT_EQ(slurp(down / "sub/deeper/c.bin"), pattern(70000, 3));

    const auto rb = cli({"s3", "rb", "s3://high"});
    EXPECT_NE(rb.exit_code, 0);
    EXPECT_NE(rb.err.find("BucketNotEmpty"), std::string::npos) << rb.err;
    ok({"s3", "rm", "--recursive", "s3://high/tree/"});
    ok({"s3", "rb", "--force", "s3://high"});
    EXPECT_EQ(ok({"s3", "ls"}).find("high"), std::string::npos);
}

TEST_F(S3Cli, HundredMegabyteMultipartUpload) {
    ok({"s3", "mb", "s3://big"});
    const std::size_t size = 100u << 20;
    const auto data = pattern(size, 7);
    spit(work_.path() / "big.bin", data);
    ok({"s3", "cp", "--only-show-errors", (work_.path() / "big.bin").string(), "s3://big/big.bin"});
    const auto head = ok_json({"s3api", "head-object", "--bucket", "big", "--key", "big.bin"});
    EXPECT_EQ(head.at("ContentLength").to_number<std::uint64_t>(), size);
    // The CLI sends 8 MiB parts; the ETag is MD5(concatenated part MD5s)-N.
    const std::size_t part = 8u << 20;
    scar::crypto::md5 of_parts;
    std::size_t n = 0;
    for (std::size_t off = 0; off < size; off += part, ++n) {
        of_parts.update(scar::crypto::md5_of(std::string_view(data).substr(off, part)));
    }
    const auto etag = "\"" + scar::encoding::to_hex(of_parts.finish()) + "-" + std::to_string(n) + "\"";
    EXPECT_EQ(std::string(head.at("ETag").as_string()), etag);
    ok({"s3", "cp", "--only-show-errors", "s3://big/big.bin", (work_.path() / "back.bin").string()});
    EXPECT_TRUE(slurp(work_.path() / "back.bin") == data);
    // Server-side copy of a multipart object goes through UploadPartCopy.
    ok({"s3", "cp", "--only-show-errors", "s3://big/big.bin", "s3://big/copy.bin"});
    ok({"s3", "cp", "--only-show-errors", "s3://big/copy.bin", (work_.path() / "copy.bin").string()});
    EXPECT_TRUE(slurp(work_.path() / "copy.bin") == data);
}

TEST_F(S3Cli, ApiOperations) {
    ok({"s3api", "create-bucket", "--bucket", "api"});
    spit(work_.path() / "f", "0123456789abcdef");
    ok({"s3api",
        "put-object",
        "--bucket",
        "api",
        "--key",
        "f.txt",
        "--body",
        (work_.path() / "f").string(),
        "--content-type",
        "text/plain",
        "--metadata",
        "origin=scar,Mixed=Case"});
    const auto head = ok_json({"s3api", "head-object", "--bucket", "api", "--key", "f.txt"});
    EXPECT_EQ(head.at("ContentType").as_string(), "text/plain");
    EXPECT_EQ(head.at("ContentLength").to_number<int>(), 16);
    EXPECT_EQ(head.at("Metadata").at("origin").as_string(), "scar");
    EXPECT_EQ(head.at("Metadata").at("mixed").as_string(), "Case");
    EXPECT_EQ(
        head.at("ETag").as_string(),
        "\"" + scar::encoding::to_hex(scar::crypto::md5_of("0123456789abcdef")) + "\""
    );

    const auto get_range = [this](std::string range) -> std::vector<std::string> {
        return {
            "s3api",
            "get-object",
            "--bucket",
            "api",
            "--key",
            "f.txt",
            "--range",
            std::move(range),
            (work_.path() / "r").string()};
    };
    const auto ranged = ok_json(get_range("bytes=4-9"));
    EXPECT_EQ(slurp(work_.path() / "r"), "456789");
    EXPECT_EQ(ranged.at("ContentRange").as_string(), "bytes 4-9/16");
    ok(get_range("bytes=-3"));
    EXPECT_EQ(slurp(work_.path() / "r"), "def");
    const auto bad_range = cli(get_range("bytes=100-"));
    EXPECT_NE(bad_range.err.find("InvalidRange"), std::string::npos) << bad_range.err;

    ok({"s3api", "copy-object", "--bucket", "api", "--key", "copy.txt", "--copy-source", "api/f.txt"});
    const auto copy_head = ok_json({"s3api", "head-object", "--bucket", "api", "--key", "copy.txt"});
    EXPECT_EQ(copy_head.at("ETag"), head.at("ETag"));
    EXPECT_EQ(copy_head.at("Metadata").at("origin").as_string(), "scar");
    const auto self =
        cli({"s3api", "copy-object", "--bucket", "api", "--key", "f.txt", "--copy-source", "api/f.txt"});
    EXPECT_NE(self.err.find("InvalidRequest"), std::string::npos) << self.err;

    for (int i = 0; i < 25; ++i) {  // through scar's signer: 25 CLI starts would take 20 s
        ASSERT_EQ(emu_->s3("PUT", "/api/many/" + std::to_string(100 + i), "0123456789abcdef").status, 200);
    }
    // Pagination: pages of 7 keys, all 25 in order, no duplicates.
    const auto all =
        ok_json({"s3api", "list-objects-v2", "--bucket", "api", "--prefix", "many/", "--page-size", "7"});
    const auto& contents = all.at("Contents").as_array();
    ASSERT_EQ(contents.size(), 25u);
    for (int i = 0; i < 25; ++i)
        EXPECT_EQ(
            contents[static_cast<std::size_t>(i)].at("Key").as_string(),
            "many/" + std::to_string(100 + i)
        );
    const auto first =
        ok_json({"s3api", "list-objects-v2", "--bucket", "api", "--prefix", "many/", "--max-items", "10"});
    EXPECT_EQ(first.at("Contents").as_array().size(), 10u);
    const std::string token(first.at("NextToken").as_string());
    const auto second = ok_json(
        {"s3api",
         "list-objects-v2",
         "--bucket",
         "api",
         "--prefix",
         "many/",
         "--max-items",
         "10",
         "--starting-token",
         token}
    );
    EXPECT_EQ(second.at("Contents").as_array()[0].at("Key").as_string(), "many/110");
    const auto grouped = ok_json({"s3api", "list-objects-v2", "--bucket", "api", "--delimiter", "/"});
    ASSERT_EQ(grouped.at("CommonPrefixes").as_array().size(), 1u);
    EXPECT_EQ(grouped.at("CommonPrefixes").as_array()[0].at("Prefix").as_string(), "many/");
    EXPECT_EQ(grouped.at("Contents").as_array().size(), 2u);  // copy.txt, f.txt

    spit(
        work_.path() / "del.json",
        R"({"Objects":[{"Key":"many/100"},{"Key":"many/101"},{"Key":"absent"}]})"
    );
    const auto deleted = ok_json(
        {"s3api",
         "delete-objects",
         "--bucket",
         "api",
         "--delete",
         "file://" + (work_.path() / "del.json").string()}
    );
    EXPECT_EQ(deleted.at("Deleted").as_array().size(), 3u);
    const auto after = ok_json({"s3api", "list-objects-v2", "--bucket", "api", "--prefix", "many/"});
    EXPECT_EQ(after.at("Contents").as_array().size(), 23u);
}

TEST_F(S3Cli, NotificationConfigurationRoundTrip) {
    ok({"s3api", "create-bucket", "--bucket", "notified"});
    spit(
        work_.path() / "n.json",
        R"({"LambdaFunctionConfigurations":[{"Id":"to-grayify",
            "LambdaFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:grayify",
            "Events":["s3:ObjectCreated:*"],
            "Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"input/"},{"Name":"suffix","Value":".jpg"}]}}}]})"
    );
    ok({"s3api",
        "put-bucket-notification-configuration",
        "--bucket",
        "notified",
        "--notification-configuration",
        "file://" + (work_.path() / "n.json").string()});
    const auto got = ok_json({"s3api", "get-bucket-notification-configuration", "--bucket", "notified"});
    const auto& c = got.at("LambdaFunctionConfigurations").as_array().at(0);
    EXPECT_EQ(c.at("Id").as_string(), "to-grayify");
    EXPECT_EQ(
        c.at("LambdaFunctionArn").as_string(),
        "arn:aws:lambda:us-east-1:000000000000:function:grayify"
    );
    EXPECT_EQ(c.at("Events").as_array().at(0).as_string(), "s3:ObjectCreated:*");
    EXPECT_EQ(c.at("Filter").at("Key").at("FilterRules").as_array().size(), 2u);
}

TEST_F(S3Cli, PresignedUrlFetchedWithCurl) {
    ok({"s3", "mb", "s3://pre"});
    spit(work_.path() / "p", "presigned content");
    ok({"s3", "cp", (work_.path() / "p").string(), "s3://pre/dir/p q.txt"});
    std::string url = ok({"s3", "presign", "s3://pre/dir/p q.txt", "--expires-in", "120"});
    while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
    const auto got = scar::testing::run(curl({"-sS", "-f", url}));
    EXPECT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(got.out, "presigned content");
    // Tampering with the URL breaks the signature.
    const auto tampered = scar::testing::run(curl({"-sS", url.replace(url.find("p%20q"), 5, "p%20r")}));
    EXPECT_NE(tampered.out.find("SignatureDoesNotMatch"), std::string::npos) << tampered.out;
}

}  // namespace
