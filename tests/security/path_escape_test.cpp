// Names from requests never become paths outside their directories (issue 12): S3 object
// keys with "..", absolute paths, NUL and backslashes are stored and read back byte-exact
// under hashed file names; bucket names, function and layer names, the entries of function
// and layer zips, and registry upload ids that try to climb out are refused. After each
// attempt nothing exists outside the emulator's data directory, and no file inside it is
// named after a request. (Key round trips of ordinary odd keys are in
// tests/s3/conformance_test.cpp, image layer entries in tests/image/extract_test.cpp.)

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/testing/emulator_process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "load_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace load = scar::load;
using namespace std::chrono_literals;

/// The marker every escaping name carries, so a file it made is found by name.
constexpr const char* marker = "scar-escape-marker";

class PathEscape : public ::testing::Test {
protected:
    void SetUp() override {
        emu_ = std::make_unique<scar::testing::emulator_process>(
            work_.path() / "data",
            std::vector<std::string>{"--no-fsync"}
        );
        url_ = emu_->url();
        ASSERT_EQ(emu_->s3("PUT", "/keys").status, 200);
    }

    /// Everything under the test's directory (the data directory's parent) whose name holds
    /// the marker, and every file outside the data directory.
    [[nodiscard]] std::vector<std::string> escapes() const {
        std::vector<std::string> found;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(work_.path(), ec);
             it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            const auto p = it->path();
            const auto rel = p.lexically_relative(work_.path()).string();
            if (p.filename().string().find(marker) != std::string::npos) found.push_back(rel);
            if (!rel.starts_with("data")) found.push_back(rel);
        }
        // Where the classic escapes would land if a name became a path.
        for (const fs::path& p :
             {fs::path("/tmp") / marker, fs::path("/") / marker, fs::path("/etc") / marker})
            if (fs::exists(p)) found.push_back(p.string());
        return found;
    }

    scar::testing::temp_dir work_{"scar-escape"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
    std::string url_;
};

/// A key as it goes on the wire: every byte but '/' percent-encoded, so that the emulator,
/// not the client, decides what the key is.
std::string encoded(const std::string& key) {
    return scar::encoding::uri_encode(key, true);
}

TEST_F(PathEscape, HostileObjectKeysStayObjects) {
    const std::string m = marker;
    const std::vector<std::string> keys = {
        "../../../../../../../../tmp/" + m,
        "../" + m,
        "..",
        ".",
        "a/../../" + m,
        "/" + m,
        "//etc/" + m,
        "..\\..\\" + m,
        std::string("nul\0") + m,
        "../" + std::string(1000, 'x') + m,  // 1,021 bytes: still a key
    };
    for (const auto& key : keys) {
        const std::string body = "body of " + scar::encoding::to_hex(scar::crypto::sha256_of(key));
        // Raw dots on the wire too: PATH_AS_IS keeps them as written.
        const std::string target =
            "/keys/" +
            (key.find('\0') == std::string::npos && key.find('\\') == std::string::npos ? key : encoded(key));
        const auto put = emu_->s3("PUT", target, body);
        ASSERT_EQ(put.status, 200) << "PUT " << encoded(key) << ": " << put.body;
        const auto get = emu_->s3("GET", "/keys/" + encoded(key));
        EXPECT_EQ(get.status, 200) << encoded(key);
        EXPECT_TRUE(get.body == body) << encoded(key);
    }
    // The listing holds exactly these keys.
    const auto list = emu_->s3("GET", "/keys?list-type=2&encoding-type=url");
    ASSERT_EQ(list.status, 200);
    std::set<std::string> listed;
    for (std::size_t at = 0; (at = list.body.find("<Key>", at)) != std::string::npos;) {
        const auto end = list.body.find("</Key>", at);
        listed.insert(scar::encoding::uri_decode(list.body.substr(at + 5, end - at - 5)).value());
        at = end;
    }
    EXPECT_EQ(listed, std::set<std::string>(keys.begin(), keys.end()));
    EXPECT_EQ(emu_->s3("PUT", "/keys/" + std::string(1025, 'k'), "x").status, 400);  // KeyTooLongError

    // Deleting them touches nothing outside either.
    for (const auto& key : keys) EXPECT_EQ(emu_->s3("DELETE", "/keys/" + encoded(key)).status, 204);
    EXPECT_EQ(escapes(), std::vector<std::string>{});
}

TEST_F(PathEscape, HostileBucketNamesAreRefused) {
    for (const std::string& bucket : std::vector<std::string>{
             "..",
             ".",
             "%2e%2e",
             "a..b",
             "..%2f" + std::string(marker),
             "%2f" + std::string(marker)}) {
        const auto r = emu_->s3("PUT", "/" + bucket);
        EXPECT_GE(r.status, 400) << bucket << ": " << r.body;
        EXPECT_LT(r.status, 500) << bucket << ": " << r.body;
    }
    EXPECT_EQ(escapes(), std::vector<std::string>{});
    EXPECT_TRUE(fs::exists(emu_->data_dir() / "s3" / "buckets" / "keys"));
}

TEST_F(PathEscape, HostileFunctionLayerAndZipEntryNamesAreRefused) {
    const std::string m = marker;
    const auto create = [&](const std::string& name, const std::string& zip) {
        return load::send(load::signed_request(
            url_,
            "lambda",
            "POST",
            "/2015-03-31/functions",
            json::serialize(json::object{
                {"FunctionName", name},
                {"Runtime", "provided.al2023"},
                {"Handler", "h"},
                {"Role", "arn:aws:iam::000000000000:role/escape"},
                {"Code", {{"ZipFile", zip}}}})
        ));
    };
    const auto publish = [&](const std::string& layer_path, const std::string& zip) {
        return load::send(load::signed_request(
            url_,
            "lambda",
            "POST",
            "/2018-10-31/layers/" + layer_path + "/versions",
            json::serialize(json::object{{"Content", {{"ZipFile", zip}}}})
        ));
    };
    const std::string fine = load::zip_base64({{"bootstrap", "#!/bin/sh\n", ""}});
    for (const std::string& name : std::vector<std::string>{"../" + m, "..", "a/../" + m, "%2e%2e"}) {
        const auto r = create(name, fine);
        EXPECT_EQ(r.status, 400) << name << ": " << r.body;
    }
    for (const std::string& layer : std::vector<std::string>{"%2e%2e", "..", "%2e%2e%2f" + m}) {
        const auto r = publish(layer, fine);
        EXPECT_GE(r.status, 400) << layer << ": " << r.body;
        EXPECT_LT(r.status, 500) << layer << ": " << r.body;
    }
    // Zip entries that climb out, or are absolute, are refused for code and layers alike.
    int n = 0;
    for (const std::string& entry :
         {"../" + m, "../../../../../../tmp/" + m, "/tmp/" + m, "a/../../" + m, "./../" + m}) {
        const std::string zip = load::zip_base64({{"bootstrap", "#!/bin/sh\n", ""}, {entry, "escaped", ""}});
        const auto c = create("zip-" + std::to_string(n), zip);
        EXPECT_EQ(c.status, 400) << entry << ": " << c.body;
        EXPECT_EQ(c.header("x-amzn-errortype").value_or(""), "InvalidParameterValueException") << c.body;
        const auto l = publish("zip-layer-" + std::to_string(n), zip);
        EXPECT_EQ(l.status, 400) << entry << ": " << l.body;
        ++n;
    }
    // A symbolic link entry is not extracted (Lambda packages hold files), so it cannot
    // point the function's code at a host file.
    const auto linked = create("linked", load::zip_base64({{"bootstrap", "", "/etc/shadow"}}));
    EXPECT_EQ(linked.status, 201) << linked.body;
    for (const auto& e : fs::recursive_directory_iterator(emu_->data_dir()))
        EXPECT_FALSE(e.is_symlink()) << e.path() << " is a link made from a zip";
    EXPECT_EQ(escapes(), std::vector<std::string>{});
}

TEST_F(PathEscape, RegistryUploadIdsCannotNameOtherFiles) {
    ASSERT_EQ(
        load::send(load::signed_request(
                       url_,
                       "ecr",
                       "POST",
                       "/",
                       R"({"repositoryName":"escape"})",
                       load::json11_headers("AmazonEC2ContainerRegistry_V20150921.CreateRepository")
                   ))
            .status,
        200
    );
    const std::string auth = "Basic " + scar::encoding::base64_encode("test:test");
    const std::string data = "blob";
    const std::string digest = "sha256:" + scar::encoding::to_hex(scar::crypto::sha256_of(data));
    for (const std::string& id :
         std::vector<std::string>{"..", ".", "%2e%2e", "..%2f..%2f" + std::string(marker)}) {
        for (const std::string method : {"GET", "PATCH", "PUT", "DELETE"}) {
            const std::string target =
                "/v2/escape/blobs/uploads/" + id + (method == "PUT" ? "?digest=" + digest : std::string());
            auto req =
                load::make_request(url_, method, target, method == "GET" || method == "DELETE" ? "" : data);
            req.headers.emplace_back("Authorization", auth);
            const auto r = load::send(req);
            EXPECT_EQ(r.status, 404) << method << " " << target << ": " << r.body;
            EXPECT_NE(r.body.find("BLOB_UPLOAD_UNKNOWN"), std::string::npos)
                << method << " " << target << ": " << r.body;
        }
    }
    // The registry still works, and its files are where they were.
    auto get = load::make_request(url_, "GET", "/v2/");
    get.headers.emplace_back("Authorization", auth);
    EXPECT_EQ(load::send(get).status, 200);
    EXPECT_TRUE(fs::exists(emu_->data_dir() / "ecr" / "repositories.json"));
    EXPECT_EQ(escapes(), std::vector<std::string>{});
}

}  // namespace
