// `scar image import | pull | ls | inspect | rm | prune` against the emulator's ECR.

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

TEST(ImageCli, ImportPullInspectRemovePrune) {
    if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
    scar::testing::emulator_process emu;
    scar::testing::temp_dir home("scar-image-cli");
    const std::string host = emu.url().substr(7);
    ASSERT_EQ(
        scar::testing::aws(emu.url(), {"ecr", "create-repository", "--repository-name", "tools"}).exit_code,
        0
    );
    const auto src = home.path() / "src";
    fs::create_directories(src / "bin");
    fs::copy_file("/usr/bin/busybox", src / "bin" / "busybox");
    const auto scar = [&](std::vector<std::string> args) {
        scar::testing::process_options o;
        o.argv = {SCAR_CLI_BIN, "image"};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        o.env = {
            {"SCAR_HOME", home.path().string()},
            {"AWS_ENDPOINT_URL", emu.url()},
            {"AWS_ACCESS_KEY_ID", "test"},
            {"AWS_SECRET_ACCESS_KEY", "test"},
            {"AWS_DEFAULT_REGION", "us-east-1"},
            {"AWS_CONFIG_FILE", "/dev/null"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
        return scar::testing::run(std::move(o));
    };
    const std::string ref = host + "/tools:1";
    const auto imported =
        scar({"import", src.string(), ref, "--entrypoint", "/bin/busybox", "--cmd", "echo", "--cmd", "hi"});
    ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
    const auto pulled = scar({"pull", ref});
    ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
    EXPECT_NE(pulled.out.find("rootfs"), std::string::npos);
    EXPECT_NE(scar({"ls"}).out.find(ref), std::string::npos);
    const auto inspected = scar({"inspect", ref});
    ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
    const auto doc = json::parse(inspected.out);
    EXPECT_EQ(doc.at("entrypoint").at(0), "/bin/busybox");
    EXPECT_EQ(doc.at("cmd").at(1), "hi");
    const fs::path rootfs(std::string(doc.at("rootfs").as_string()));
    EXPECT_TRUE(fs::exists(rootfs / "bin" / "busybox"));
    EXPECT_EQ(scar({"rm", ref}).exit_code, 0);
    EXPECT_FALSE(fs::exists(rootfs));
    EXPECT_NE(scar({"prune"}).out.find("blobs"), std::string::npos);
    EXPECT_EQ(scar({"ls"}).out.find(ref), std::string::npos);
    const auto missing = scar({"inspect", ref});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("ImageNotFound"), std::string::npos) << missing.err;
    const auto bad = scar({"pull", "Bad..Reference"});
    EXPECT_NE(bad.err.find("InvalidReference"), std::string::npos) << bad.err;
}

}  // namespace
