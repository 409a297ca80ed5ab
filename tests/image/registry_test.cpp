// The registry client against a scripted registry (scar::testing::http_server_mock):
// the Bearer token flow, Basic, credentials from Docker's config and from the ECR hook,
// redirects to blob storage, and registries that lie about digests and sizes.

#include "scar/image/registry.hpp"

#include <scar/core/encoding.hpp>
#include <scar/image/pull.hpp>
#include <scar/testing/http_server_mock.hpp>
#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "layer_builder.hpp"

namespace {

namespace fs = std::filesystem;
namespace img = scar::image;
using scar::testing::http_server_mock;
using scar::testing::mock_response;
using scar::testing::recorded_request;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A one-image registry. Blobs are served from "/storage/<hex>" after a redirect, as
/// registries backed by S3 do; the auth mode decides what the /v2/ endpoints demand.
struct fake_registry {
    enum class auth { none, bearer, basic };
    auth mode = auth::bearer;
    std::string user = "alice";
    std::string password = "s3cret";
    std::string token = "tok-123";
    std::map<std::string, std::string> blobs;  // digest -> bytes
    std::map<std::string, std::string> lies;   // digest -> bytes served instead
    std::string manifest;
    std::string manifest_digest;
    std::string index;
    std::atomic<int> token_requests{0};
    std::unique_ptr<http_server_mock> server;

    explicit fake_registry(const fs::path& work) {
        const auto layer = work / "layer.tar.gz";
        img::testing::write_layer(
            layer,
            {img::testing::dir("etc"), img::testing::file("etc/motd", "hello from the mock\n")}
        );
        const std::string layer_bytes = slurp(layer);
        const std::string layer_digest = img::sha256_digest_of(layer_bytes).str();
        const std::string config =
            R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"]},"rootfs":{"type":"layers","diff_ids":[]}})";
        const std::string config_digest = img::sha256_digest_of(config).str();
        blobs[layer_digest] = layer_bytes;
        blobs[config_digest] = config;
        img::manifest m;
        m.media_type = img::media_type::oci_manifest;
        m.config = {std::string(img::media_type::oci_config), config_digest, config.size(), {}, {}, {}};
        m.layers.push_back(
            {std::string(img::media_type::oci_layer_gzip), layer_digest, layer_bytes.size(), {}, {}, {}}
        );
        manifest = img::serialize(m);
        manifest_digest = img::sha256_digest_of(manifest).str();
        img::index idx;
        idx.media_type = img::media_type::oci_index;
        idx.manifests.push_back(
            {std::string(img::media_type::oci_manifest),
             "sha256:" + std::string(64, 'e'),
             10,
             {},
             {},
             img::platform{"linux", "arm64", "", ""}}
        );
        idx.manifests.push_back(
            {std::string(img::media_type::oci_manifest),
             manifest_digest,
             manifest.size(),
             {},
             {},
             img::platform{}}
        );
        index = img::serialize(idx);
        server = std::make_unique<http_server_mock>([this](const recorded_request& r) { return handle(r); });
    }

    [[nodiscard]] std::string host() const { return "127.0.0.1:" + std::to_string(server->port()); }
    [[nodiscard]] std::string layer_digest() const {
        return img::parse_manifest_document(manifest).value().index() == 0
                   ? std::get<img::manifest>(img::parse_manifest_document(manifest).value()).layers[0].digest
                   : std::string();
    }

    mock_response handle(const recorded_request& r) {
        const std::string& t = r.target;
        if (t.starts_with("/token")) {
            ++token_requests;
            const auto a = r.header("Authorization");
            if (!a || *a != "Basic " + scar::encoding::base64_encode(user + ":" + password))
                return {401, {}, "{}", false};
            return {
                200,
                {{"Content-Type", "application/json"}},
                R"({"token":")" + token + R"(","expires_in":300})",
                false};
        }
        if (t.starts_with("/storage/")) {
            if (r.header("Authorization")) return {400, {}, "credentials leaked to blob storage", false};
            const std::string d = "sha256:" + t.substr(9);
            if (const auto lie = lies.find(d); lie != lies.end()) return {200, {}, lie->second, false};
            const auto it = blobs.find(d);
            return it == blobs.end() ? mock_response{404, {}, "", false}
                                     : mock_response{200, {}, it->second, false};
        }
        if (!authorized(r)) {
            std::string challenge =
                mode == auth::basic
                    ? std::string(R"(Basic realm="mock")")
                    : R"(Bearer realm=")" + server->url() +
                          R"(/token",service="mock-registry",scope="repository:team/app:pull")";
            return {
                401,
                {{"WWW-Authenticate", challenge}},
                R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                false};
        }
        const std::string prefix = "/v2/team/app/";
        if (!t.starts_with(prefix))
            return {
                404,
                {},
                R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})",
                false};
        const std::string rest = t.substr(prefix.size());
        if (rest == "manifests/multi")
            return {200, {{"Content-Type", std::string(img::media_type::oci_index)}}, index, false};
        if (rest == "manifests/v1" || rest == "manifests/" + manifest_digest)
            return {200, {{"Content-Type", std::string(img::media_type::oci_manifest)}}, manifest, false};
        if (rest.starts_with("manifests/"))
            return {
                404,
                {},
                R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})",
                false};
        // Another host name for the same server, as S3 or a CDN would be.
        if (rest.starts_with("blobs/sha256:"))
            return {
                307,
                {{"Location",
                  "http://localhost:" + std::to_string(server->port()) + "/storage/" + rest.substr(13)}},
                "",
                false};
        return {404, {}, "", false};
    }

    [[nodiscard]] bool authorized(const recorded_request& r) const {
        const auto a = r.header("Authorization");
        switch (mode) {
            case auth::none:
                return true;
            case auth::basic:
                return a && *a == "Basic " + scar::encoding::base64_encode(user + ":" + password);
            case auth::bearer:
                return a && *a == "Bearer " + token;
        }
        return false;
    }
};

class Registry : public ::testing::Test {
protected:
    img::pull_options options() const {
        img::pull_options o;
        o.registry.auth.use_docker_config = false;
        o.registry.http.retry.base_delay = std::chrono::milliseconds(1);
        return o;
    }
    scar::testing::temp_dir work{"scar-registry"};
    fake_registry reg{work.path()};
    img::store store{work.path() / "store"};
};

TEST_F(Registry, BearerTokenFlowWithCredentialsFromDockerConfig) {
    const auto cfg = work.path() / "config.json";
    std::ofstream(cfg) << R"({"auths":{"http://)" << reg.host() << R"(/v1/":{"auth":")"
                       << scar::encoding::base64_encode(reg.user + ":" + reg.password) << R"("}}})";
    auto o = options();
    o.registry.auth.use_docker_config = true;
    o.registry.auth.docker_config = cfg;
    auto pulled = img::pull(img::parse_reference(reg.host() + "/team/app:v1").value(), store, o);
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(slurp(pulled->rootfs / "etc/motd"), "hello from the mock\n");
    EXPECT_EQ(pulled->image.config.config.cmd, std::vector<std::string>{"/bin/true"});
    EXPECT_EQ(pulled->image.manifest_digest, reg.manifest_digest);
    EXPECT_EQ(reg.token_requests.load(), 1);  // one token, reused for every request of the scope
    bool saw_token_request = false;
    for (const auto& r : reg.server->requests()) {
        if (r.target.starts_with("/token")) {
            saw_token_request = true;
            EXPECT_NE(r.target.find("service=mock-registry"), std::string::npos) << r.target;
            EXPECT_NE(r.target.find("scope=repository%3Ateam%2Fapp%3Apull"), std::string::npos) << r.target;
        }
        if (r.target.starts_with("/storage/")) {
            EXPECT_FALSE(r.header("Authorization"));
        }
    }
    EXPECT_TRUE(saw_token_request);
    // Pulled again: the rootfs is cached and no blob is fetched.
    const auto before = reg.server->request_count();
    auto again = img::pull(img::parse_reference(reg.host() + "/team/app:v1").value(), store, o);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->rootfs_was_cached);
    EXPECT_LE(reg.server->request_count() - before, 3U);
    EXPECT_EQ(store.get_ref(img::parse_reference(reg.host() + "/team/app:v1").value()), reg.manifest_digest);
}

TEST_F(Registry, WrongCredentialsSayWhat) {
    auto o = options();
    o.registry.auth.explicit_credentials = img::credentials{"alice", "wrong", {}};
    auto pulled = img::pull(img::parse_reference(reg.host() + "/team/app:v1").value(), store, o);
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().code, "Unauthorized");
    EXPECT_NE(pulled.error().message.find("/token"), std::string::npos) << pulled.error().message;
}

TEST_F(Registry, BasicAuthAndIndexPlatformSelection) {
    reg.mode = fake_registry::auth::basic;
    auto o = options();
    o.registry.auth.explicit_credentials = img::credentials{reg.user, reg.password, {}};
    auto pulled = img::pull(img::parse_reference(reg.host() + "/team/app:multi").value(), store, o);
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->image.manifest_digest, reg.manifest_digest);  // the linux/amd64 entry
    o.platform = img::parse_platform("linux/s390x").value();
    auto none = img::pull(img::parse_reference(reg.host() + "/team/app:multi").value(), store, o);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "NoMatchingPlatform");
}

TEST_F(Registry, EcrTokenHook) {
    reg.mode = fake_registry::auth::basic;
    reg.user = "AWS";
    reg.password = "ecr-password";
    auto o = options();
    std::string asked;
    o.registry.auth.ecr_registries = {reg.host()};
    o.registry.auth.ecr_token = [&](std::string_view host) -> scar::result<std::string> {
        asked = std::string(host);
        return scar::encoding::base64_encode("AWS:ecr-password");
    };
    auto pulled = img::pull(img::parse_reference(reg.host() + "/team/app:v1").value(), store, o);
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(asked, reg.host());
    EXPECT_TRUE(img::is_ecr_registry("123456789012.dkr.ecr.eu-west-1.amazonaws.com"));
    EXPECT_FALSE(img::is_ecr_registry("dkr.ecr.eu-west-1.amazonaws.com"));
    EXPECT_FALSE(img::is_ecr_registry("ghcr.io"));
}

TEST_F(Registry, LyingRegistryStoresNothing) {
    reg.mode = fake_registry::auth::none;
    const auto layer = reg.layer_digest();
    auto o = options();
    reg.lies[layer] = reg.blobs[layer] + "extra";  // longer than promised
    auto r = img::pull(img::parse_reference(reg.host() + "/team/app:v1").value(), store, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "BlobSizeMismatch") << r.error().message;
    std::string same_size = reg.blobs[layer];
    same_size[same_size.size() / 2] ^= 1;
    reg.lies[layer] = same_size;  // right size, wrong content
    r = img::pull(img::parse_reference(reg.host() + "/team/app:v1").value(), store, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "BlobDigestMismatch") << r.error().message;
    reg.lies[layer] = reg.blobs[layer].substr(0, 10);  // short
    r = img::pull(img::parse_reference(reg.host() + "/team/app:v1").value(), store, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "BlobSizeMismatch") << r.error().message;
    EXPECT_FALSE(store.has_blob(layer));
    EXPECT_TRUE(fs::is_empty(store.root() / "tmp"));
    EXPECT_FALSE(fs::exists(store.rootfs_path(reg.manifest_digest)));
}

TEST_F(Registry, NotFoundErrorsCarryTheRegistrysWords) {
    reg.mode = fake_registry::auth::none;
    auto r = img::pull(img::parse_reference(reg.host() + "/team/app:nope").value(), store, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "ManifestUnknown");
    EXPECT_NE(r.error().message.find("manifest unknown"), std::string::npos) << r.error().message;
    r = img::pull(img::parse_reference(reg.host() + "/other/app:v1").value(), store, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "NameUnknown");
}

TEST(Auth, ChallengeParsing) {
    auto c = img::parse_challenge(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull")"
    );
    ASSERT_TRUE(c);
    EXPECT_EQ(c->scheme, "bearer");
    EXPECT_EQ(c->params["realm"], "https://auth.docker.io/token");
    EXPECT_EQ(c->params["service"], "registry.docker.io");
    EXPECT_EQ(c->params["scope"], "repository:library/ubuntu:pull");
    c = img::parse_challenge(R"(Basic realm="a \"quoted\" realm", charset=UTF-8)");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->scheme, "basic");
    EXPECT_EQ(c->params["realm"], R"(a "quoted" realm)");
    EXPECT_EQ(c->params["charset"], "UTF-8");
    EXPECT_FALSE(img::parse_challenge(""));
}

TEST(Auth, DockerConfigLookup) {
    scar::testing::temp_dir dir("scar-auth");
    const auto cfg = dir.path() / "config.json";
    std::ofstream(cfg) << R"({"auths":{
        "https://index.docker.io/v1/":{"auth":")"
                       << scar::encoding::base64_encode("hub:pw:with:colons") << R"("},
        "ghcr.io":{"username":"u","password":"p"},
        "quay.io":{"identitytoken":"refresh"},
        "broken.example":{"auth":"bm9jb2xvbg=="}}})";
    auto hub = img::docker_config_credentials("docker.io", cfg);
    ASSERT_TRUE(hub && *hub);
    EXPECT_EQ((*hub)->username, "hub");
    EXPECT_EQ((*hub)->password, "pw:with:colons");
    EXPECT_EQ(img::docker_config_credentials("ghcr.io", cfg).value()->password, "p");
    EXPECT_EQ(img::docker_config_credentials("quay.io", cfg).value()->identity_token, "refresh");
    EXPECT_FALSE(img::docker_config_credentials("other.io", cfg).value());
    EXPECT_EQ(img::docker_config_credentials("broken.example", cfg).error().code, "ConfigInvalid");
    EXPECT_FALSE(img::docker_config_credentials("docker.io", dir.path() / "missing.json").value());
    EXPECT_EQ(img::ecr_credentials(scar::encoding::base64_encode("AWS:pw")).value().password, "pw");
    EXPECT_EQ(img::ecr_credentials("!!").error().code, "InvalidToken");
}

}  // namespace
