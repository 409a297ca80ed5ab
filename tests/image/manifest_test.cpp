#include "scar/image/manifest.hpp"

#include <scar/image/reference.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace img = scar::image;

const std::string da = "sha256:" + std::string(64, 'a');
const std::string db = "sha256:" + std::string(64, 'b');
const std::string dc = "sha256:" + std::string(64, 'c');
const std::string dd = "sha256:" + std::string(64, 'd');

std::string entry(const std::string& digest, const std::string& plat) {
    return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest +
           R"(","size":500,"platform":)" + plat + "}";
}

const std::string index_json =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
    entry(da, R"({"os":"linux","architecture":"arm","variant":"v7"})") + "," +
    entry(db, R"({"os":"linux","architecture":"arm64"})") + "," +
    entry(dc, R"({"os":"linux","architecture":"amd64"})") + "," +
    entry(dd, R"({"os":"unknown","architecture":"unknown"})") + "]}";

TEST(Manifest, ParsesDockerSchema2) {
    const std::string body = R"({
      "schemaVersion": 2,
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469, "digest": ")" +
                             da + R"("},
      "layers": [
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2818413, "digest": ")" +
                             db + R"("},
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 12, "digest": ")" +
                             dc + R"("}
      ]})";
    auto doc = img::parse_manifest_document(body);
    ASSERT_TRUE(doc) << doc.error().message;
    const auto& m = std::get<img::manifest>(*doc);
    EXPECT_EQ(m.media_type, img::media_type::docker_manifest);
    EXPECT_EQ(m.config.digest, da);
    EXPECT_EQ(m.config.size, 1469U);
    ASSERT_EQ(m.layers.size(), 2U);
    EXPECT_EQ(m.layers[0].size, 2818413U);
    EXPECT_EQ(*img::layer_compression(m.layers[0].media_type), img::compression::gzip);
}

TEST(Manifest, ParsesOciManifestAndRoundTrips) {
    img::manifest m;
    m.media_type = img::media_type::oci_manifest;
    m.config = {std::string(img::media_type::oci_config), da, 10, {}, {}, {}};
    m.layers.push_back({std::string(img::media_type::oci_layer_zstd), db, 20, {}, {{"org.example", "x"}}, {}}
    );
    m.annotations["org.opencontainers.image.title"] = "t";
    const auto bytes = img::serialize(m);
    // Content type from the registry decides when the document has no mediaType.
    auto doc =
        img::parse_manifest_document(bytes, "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
    ASSERT_TRUE(doc) << doc.error().message;
    const auto& back = std::get<img::manifest>(*doc);
    EXPECT_EQ(img::serialize(back), bytes);
    EXPECT_EQ(back.layers[0].annotations.at("org.example"), "x");
    EXPECT_EQ(*img::layer_compression(back.layers[0].media_type), img::compression::zstd);
}

TEST(Manifest, IndexPlatformSelection) {
    auto doc = img::parse_manifest_document(index_json, "application/vnd.oci.image.index.v1+json");
    ASSERT_TRUE(doc) << doc.error().message;
    const auto& idx = std::get<img::index>(*doc);
    ASSERT_EQ(idx.manifests.size(), 4U);
    EXPECT_EQ(img::select_platform(idx, img::platform{})->digest, dc);  // default linux/amd64
    EXPECT_EQ(img::select_platform(idx, *img::parse_platform("linux/arm64/v8"))->digest, db);  // implied v8
    EXPECT_EQ(img::select_platform(idx, *img::parse_platform("arm64"))->digest, db);
    EXPECT_EQ(img::select_platform(idx, *img::parse_platform("linux/arm"))->digest, da);
    EXPECT_EQ(img::select_platform(idx, *img::parse_platform("linux/arm/v7"))->digest, da);
    auto none = img::select_platform(idx, *img::parse_platform("linux/s390x"));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "NoMatchingPlatform");
    EXPECT_NE(none.error().message.find("linux/arm/v7, linux/arm64, linux/amd64"), std::string::npos)
        << none.error().message;
    EXPECT_FALSE(img::select_platform(idx, *img::parse_platform("linux/arm/v6")));
}

TEST(Manifest, DockerManifestListRoundTrip) {
    img::index idx;
    idx.media_type = img::media_type::docker_manifest_list;
    idx.manifests.push_back(
        {std::string(img::media_type::docker_manifest),
         da,
         7,
         {},
         {},
         img::platform{"linux", "amd64", "", ""}}
    );
    auto doc = img::parse_manifest_document(img::serialize(idx));
    ASSERT_TRUE(doc);
    const auto& back = std::get<img::index>(*doc);
    EXPECT_EQ(back.media_type, img::media_type::docker_manifest_list);
    EXPECT_EQ(back.manifests.at(0).platform->str(), "linux/amd64");
}

TEST(Manifest, RefusesBrokenDocuments) {
    const std::pair<std::string, std::string> cases[] = {
        {"not json", "ManifestInvalid"},
        {"[]", "ManifestInvalid"},
        {R"({"schemaVersion":1,"name":"x","fsLayers":[]})", "ManifestUnsupported"},
        {R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]})", "ManifestInvalid"},
        {R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:short","size":1},"layers":[]})",
         "ManifestInvalid"},
        {R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":")" + da +
             R"(","size":-1},"layers":[]})",
         "ManifestInvalid"},
        {R"({"mediaType":"application/vnd.oci.image.index.v1+json"})", "ManifestInvalid"},
        {R"({"mediaType":"application/vnd.example.artifact"})", "ManifestUnsupported"},
    };
    for (const auto& [body, code] : cases) {
        auto doc = img::parse_manifest_document(body);
        ASSERT_FALSE(doc) << body;
        EXPECT_EQ(doc.error().code, code) << body << ": " << doc.error().message;
    }
    EXPECT_EQ(
        img::layer_compression(img::media_type::docker_foreign_layer).error().code,
        "ManifestUnsupported"
    );
    EXPECT_EQ(img::layer_compression("application/x-unknown").error().code, "ManifestUnsupported");
}

TEST(Manifest, PlatformParsing) {
    EXPECT_EQ(img::parse_platform("linux/amd64")->str(), "linux/amd64");
    EXPECT_EQ(img::parse_platform("x86_64")->str(), "linux/amd64");
    EXPECT_EQ(img::parse_platform("linux/arm/v7")->variant, "v7");
    EXPECT_EQ(img::parse_platform("a/b/c/d").error().code, "InvalidParameterValue");
    EXPECT_FALSE(img::parse_platform(""));
    EXPECT_FALSE(img::parse_platform("linux/"));
}

TEST(ImageConfig, ParsesTheRuntimeFields) {
    const std::string body = R"({
      "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
      "config": {"User": "1000:1000", "Env": ["PATH=/usr/bin", "A=b=c"], "Entrypoint": ["/bin/sh", "-c"],
                 "Cmd": ["echo hi"], "WorkingDir": "/work", "Labels": {"k": "v"},
                 "ExposedPorts": {"8080/tcp": {}}, "StopSignal": "SIGTERM"},
      "rootfs": {"type": "layers", "diff_ids": [")" +
                             da + R"("]},
      "history": [{"created_by": "x"}]})";
    auto c = img::parse_image_config(body);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->config.user, "1000:1000");
    EXPECT_EQ(c->config.env, (std::vector<std::string>{"PATH=/usr/bin", "A=b=c"}));
    EXPECT_EQ(c->config.entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
    EXPECT_EQ(c->config.cmd, (std::vector<std::string>{"echo hi"}));
    EXPECT_EQ(c->config.working_dir, "/work");
    EXPECT_EQ(c->config.labels.at("k"), "v");
    EXPECT_EQ(c->config.exposed_ports, (std::vector<std::string>{"8080/tcp"}));
    EXPECT_EQ(c->diff_ids, (std::vector<std::string>{da}));
    // Null fields are unset; a wrong type is an error naming the field.
    auto nulls = img::parse_image_config(R"({"config":{"Entrypoint":null,"Cmd":null}})");
    ASSERT_TRUE(nulls);
    EXPECT_TRUE(nulls->config.entrypoint.empty());
    auto bad = img::parse_image_config(R"({"config":{"Env":[1]}})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "ConfigInvalid");
    EXPECT_NE(bad.error().message.find("Env"), std::string::npos);
}

}  // namespace
