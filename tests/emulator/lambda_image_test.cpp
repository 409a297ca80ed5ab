// Image functions: an image built with scar's image module and pushed to the emulator's
// ECR, deployed with the aws CLI, run in sandboxed containers.

#include <scar/image/build.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/sandbox/container.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace img = scar::image;
using namespace std::chrono_literals;
using scar::testing::aws;

TEST(LambdaImage, ImageFunctionRunsInASandboxedContainer) {
    if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
    if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
    scar::testing::temp_dir work("scar-lambda-image");
    scar::testing::emulator_process emu(work.path() / "data");
    const std::string host = emu.url().substr(7);

    // The image: busybox, its applets, and the runtime script.
    const auto root = work.path() / "rootfs";
    fs::create_directories(root / "bin");
    fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
    for (const char* applet : {"sh", "wget", "grep", "sed", "tr", "cat", "touch", "echo", "wc", "pwd"}) {
        fs::create_symlink("busybox", root / "bin" / applet);
    }
    fs::copy_file(
        std::string(SCAR_SOURCE_DIR) + "/tests/emulator/data/busybox_bootstrap.sh",
        root / "bootstrap.sh"
    );
    ASSERT_EQ(aws(emu.url(), {"ecr", "create-repository", "--repository-name", "fn"}).exit_code, 0);
    img::build_request req;
    req.layers = {root};
    req.changes.entrypoint = std::vector<std::string>{"/bin/sh", "/bootstrap.sh"};
    req.changes.env = {"PATH=/bin", "GREETING=from-image"};
    req.changes.working_dir = "/tmp";
    req.target = img::parse_reference(host + "/fn:1").value();
    img::registry_options ro;
    ro.auth.use_docker_config = false;
    ro.auth.explicit_credentials = img::credentials{"test", "test", {}};
    ASSERT_TRUE(img::build_image(req, img::store(work.path() / "store"), ro));

    const auto created =
        aws(emu.url(),
            {"lambda",
             "create-function",
             "--function-name",
             "img",
             "--package-type",
             "Image",
             "--code",
             "ImageUri=" + host + "/fn:1",
             "--role",
             "arn:aws:iam::000000000000:role/r",
             "--timeout",
             "5",
             "--memory-size",
             "256"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    EXPECT_EQ(json::parse(created.out).at("State"), "Pending");
    const auto waited = aws(emu.url(), {"lambda", "wait", "function-active-v2", "--function-name", "img"});
    ASSERT_EQ(waited.exit_code, 0) << waited.err;

    const auto out = work.path() / "out.json";
    const auto invoke = [&](const std::string& payload) {
        const auto r =
            aws(emu.url(),
                {"lambda",
                 "invoke",
                 "--function-name",
                 "img",
                 "--cli-binary-format",
                 "raw-in-base64-out",
                 "--payload",
                 payload,
                 out.string()});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::ifstream in(out);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return json::parse(text);
    };
    const auto first = invoke(R"({"n":1})");
    EXPECT_EQ(first.at("echo").at("n").to_number<int>(), 1);
    EXPECT_EQ(first.at("root"), "read-only");
    EXPECT_EQ(first.at("task_root"), "/var/task");
    EXPECT_EQ(first.at("greeting"), "from-image");
    const auto second = invoke(R"({"n":2})");
    EXPECT_EQ(second.at("pid"), first.at("pid")) << "warm invoke reuses the container";
    EXPECT_EQ(second.at("seen").to_number<int>(), 2) << "/tmp persists between warm invokes";

    // The function's variables override the image's.
    ASSERT_EQ(
        aws(emu.url(),
            {"lambda",
             "update-function-configuration",
             "--function-name",
             "img",
             "--environment",
             "Variables={GREETING=from-function}"})
            .exit_code,
        0
    );
    EXPECT_EQ(invoke("{}").at("greeting"), "from-function");

    // A function whose image cannot be pulled fails to become active, with the reason.
    ASSERT_EQ(
        aws(emu.url(),
            {"lambda",
             "create-function",
             "--function-name",
             "broken",
             "--package-type",
             "Image",
             "--code",
             "ImageUri=" + host + "/fn:missing",
             "--role",
             "arn:aws:iam::000000000000:role/r"})
            .exit_code,
        0
    );
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::string state;
    while (std::chrono::steady_clock::now() < deadline && state != "Failed") {
        const auto r = aws(emu.url(), {"lambda", "get-function", "--function-name", "broken"});
        state = std::string(json::parse(r.out).at("Configuration").at("State").as_string());
    }
    EXPECT_EQ(state, "Failed");
}

}  // namespace
