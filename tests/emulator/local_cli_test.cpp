// `scar local up | status | down`: the emulator as a background process.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <scar/testing/emulator_process.hpp>
#include <signal.h>

namespace {

using namespace std::chrono_literals;

scar::testing::run_result scar_cli(const std::filesystem::path& home, std::vector<std::string> args) {
    scar::testing::process_options o;
    o.argv = {SCAR_CLI_BIN};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {{"SCAR_HOME", home.string()}};
    return scar::testing::run(std::move(o), 60s);
}

TEST(LocalCli, UpStatusDown) {
    scar::testing::temp_dir home("scar-home");
    EXPECT_EQ(scar_cli(home.path(), {"local", "status"}).exit_code, 3);
    const auto up = scar_cli(home.path(), {"local", "up", "--port", "0"});
    ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(up.out, m, std::regex("up at (http://127\\.0\\.0\\.1:[0-9]+) \\(pid ([0-9]+)"))
    );
    const std::string url = m[1].str();
    const pid_t pid = std::stoi(m[2].str());
    struct guard {  // ends the emulator by its pid even if an assertion fails
        pid_t pid;
        ~guard() {
            if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
        }
    } g{pid};

    const auto status = scar_cli(home.path(), {"local", "status"});
    EXPECT_EQ(status.exit_code, 0);
    EXPECT_NE(status.out.find(url), std::string::npos) << status.out;
    // A second `up` finds it running.
    EXPECT_NE(scar_cli(home.path(), {"local", "up"}).out.find("already running"), std::string::npos);

    if (scar::testing::have_aws_cli()) {
        EXPECT_EQ(scar::testing::aws(url, {"s3", "mb", "s3://from-local-up"}).exit_code, 0);
        EXPECT_NE(scar::testing::aws(url, {"s3", "ls"}).out.find("from-local-up"), std::string::npos);
    }
    const auto down = scar_cli(home.path(), {"local", "down"});
    EXPECT_EQ(down.exit_code, 0) << down.err;
    EXPECT_NE(::kill(pid, 0), 0) << "the emulator is still running";
    EXPECT_EQ(scar_cli(home.path(), {"local", "status"}).exit_code, 3);
}

}  // namespace
