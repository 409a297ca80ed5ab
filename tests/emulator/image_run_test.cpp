// `scar image run`: an image's command in a sandboxed container, like `docker run`.

#include <scar/sandbox/container.hpp>

#include <gtest/gtest.h>

#include <fstream>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;

TEST(ImageRun, RunsTheImageLikeDockerRun) {
    if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
    if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
    scar::testing::emulator_process emu;
    scar::testing::temp_dir home("scar-image-run");
    const std::string ref = emu.url().substr(7) + "/bb:1";
    const auto root = home.path() / "rootfs";
    fs::create_directories(root / "bin");
    fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
    for (const char* a : {"sh", "echo", "cat", "touch", "sleep", "hostname"})
        fs::create_symlink("busybox", root / "bin" / a);
    fs::create_directories(home.path() / "vol");
    std::ofstream(home.path() / "vol" / "in.txt") << "from the host\n";
    ASSERT_EQ(
        scar::testing::aws(emu.url(), {"ecr", "create-repository", "--repository-name", "bb"}).exit_code,
        0
    );
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
            {"AWS_CONFIG_FILE", "/dev/null"}};
        return scar::testing::run(std::move(o));
    };
    ASSERT_EQ(
        scar({"import", root.string(), ref, "--entrypoint", "/bin/sh", "--cmd", "-c", "--cmd", "echo default"}
        )
            .exit_code,
        0
    );

    const auto dflt = scar({"run", ref});  // pulled on first use
    EXPECT_EQ(dflt.exit_code, 0) << dflt.err;
    EXPECT_EQ(dflt.out, "default\n");
    const auto code = scar({"run", ref, "--", "-c", "touch /x 2>/dev/null || echo read-only; exit 7"});
    EXPECT_EQ(code.exit_code, 7);
    EXPECT_EQ(code.out, "read-only\n");
    const auto vol = scar(
        {"run",
         "-v",
         (home.path() / "vol").string() + ":/data",
         "-e",
         "WHO=scar",
         ref,
         "--",
         "-c",
         "cat /data/in.txt; echo $WHO > /data/out.txt"}
    );
    EXPECT_EQ(vol.exit_code, 0) << vol.err;
    EXPECT_EQ(vol.out, "from the host\n");
    std::ifstream back(home.path() / "vol" / "out.txt");
    std::string line;
    std::getline(back, line);
    EXPECT_EQ(line, "scar");
    const auto slow = scar({"run", "--timeout", "1s", ref, "--", "-c", "sleep 30"});
    EXPECT_EQ(slow.exit_code, 124);
    EXPECT_NE(slow.err.find("ran out of time"), std::string::npos) << slow.err;
    const auto bad = scar({"run", "--memory", "lots", ref});
    EXPECT_NE(bad.err.find("--memory takes a size"), std::string::npos) << bad.err;
}

}  // namespace
