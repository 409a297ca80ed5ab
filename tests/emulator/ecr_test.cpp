// The emulator's ECR: repositories through the aws CLI, images pushed and pulled through
// the registry API with scar's image module, authenticated with GetAuthorizationToken.

#include <scar/image/build.hpp>
#include <scar/image/pull.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace img = scar::image;
using scar::testing::aws;

class Ecr : public ::testing::Test {
protected:
    void SetUp() override {
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
        emu_ = std::make_unique<scar::testing::emulator_process>();
        host_ = emu_->url().substr(std::string("http://").size());
        fs::create_directories(src_ / "bin");
        std::ofstream(src_ / "bin" / "hello.sh") << "#!/bin/sh\necho hello from ecr\n";
        fs::permissions(
            src_ / "bin" / "hello.sh",
            fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read
        );
        opts_.auth.use_docker_config = false;
        // What scar does for an ECR registry: ask GetAuthorizationToken (here via the CLI).
        opts_.auth.ecr_registries = {host_};
        opts_.auth.ecr_token = [this](std::string_view) -> scar::result<std::string> {
            const auto r = aws(emu_->url(), {"ecr", "get-authorization-token"});
            if (r.exit_code != 0) return scar::make_error("TokenFailed", r.err);
            return std::string(
                json::parse(r.out).at("authorizationData").at(0).at("authorizationToken").as_string()
            );
        };
    }

    json::value cli(std::vector<std::string> args) {
        const auto r = aws(emu_->url(), std::move(args));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return r.out.empty() ? json::value() : json::parse(r.out);
    }

    scar::testing::temp_dir work_{"scar-ecr"};
    fs::path src_ = work_.path() / "src";
    std::unique_ptr<scar::testing::emulator_process> emu_;
    std::string host_;
    img::registry_options opts_;
};

TEST_F(Ecr, RepositoriesAndImagePushPullThroughTheRegistryApi) {
    const auto repo = cli({"ecr", "create-repository", "--repository-name", "scar/grayify"});
    const std::string uri(repo.at("repository").at("repositoryUri").as_string());
    EXPECT_EQ(uri, host_ + "/scar/grayify");
    const auto dup = aws(emu_->url(), {"ecr", "create-repository", "--repository-name", "scar/grayify"});
    EXPECT_NE(dup.err.find("RepositoryAlreadyExistsException"), std::string::npos) << dup.err;

    img::build_request req;
    req.layers = {src_};
    req.changes.entrypoint = std::vector<std::string>{"/bin/hello.sh"};
    req.target = img::parse_reference(uri + ":v1").value();
    img::store build_store(work_.path() / "build-store");
    const auto built = img::build_image(req, build_store, opts_);
    ASSERT_TRUE(built) << built.error().message;

    const auto images = cli({"ecr", "describe-images", "--repository-name", "scar/grayify"});
    ASSERT_EQ(images.at("imageDetails").as_array().size(), 1u);
    EXPECT_EQ(images.at("imageDetails").at(0).at("imageDigest").as_string(), built->manifest_digest);
    EXPECT_EQ(images.at("imageDetails").at(0).at("imageTags").at(0), "v1");

    img::store pull_store(work_.path() / "pull-store");
    img::pull_options po;
    po.registry = opts_;
    const auto pulled = img::pull(req.target, pull_store, po);
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->image.manifest_digest, built->manifest_digest);
    std::ifstream in(pulled->rootfs / "bin" / "hello.sh");
    const std::string script((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(script, "#!/bin/sh\necho hello from ecr\n");
    EXPECT_EQ(pulled->image.config.config.entrypoint, std::vector<std::string>{"/bin/hello.sh"});

    // Without credentials the registry refuses, as ECR does.
    img::registry_options anonymous;
    anonymous.auth.use_docker_config = false;
    img::store other(work_.path() / "other-store");
    img::pull_options po2;
    po2.registry = anonymous;
    EXPECT_FALSE(img::pull(req.target, other, po2));

    const auto del_nonempty =
        aws(emu_->url(), {"ecr", "delete-repository", "--repository-name", "scar/grayify"});
    EXPECT_NE(del_nonempty.err.find("RepositoryNotEmptyException"), std::string::npos) << del_nonempty.err;
    cli({"ecr", "batch-delete-image", "--repository-name", "scar/grayify", "--image-ids", "imageTag=v1"});
    EXPECT_TRUE(cli({"ecr", "describe-images", "--repository-name", "scar/grayify"})
                    .at("imageDetails")
                    .as_array()
                    .empty());
    cli({"ecr", "delete-repository", "--repository-name", "scar/grayify"});
    const auto gone =
        aws(emu_->url(), {"ecr", "describe-repositories", "--repository-names", "scar/grayify"});
    EXPECT_NE(gone.err.find("RepositoryNotFoundException"), std::string::npos) << gone.err;
}

}  // namespace
