// `scar invoke` end to end: `scar init` of a definition with [function.api_gateway] makes the
// endpoint (ls shows it), invoke sends a binary file and gets the function's output byte for
// byte, JSON with query parameters (CONT_VAR_*), asynchronous (-a); `scar rm` deletes the API.

#include <scar/apigw/client.hpp>
#include <scar/image/build.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/sandbox/container.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace img = scar::image;
using scar::testing::aws;

void write(const fs::path& p, std::string_view text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

class Invoke : public ::testing::Test {
protected:
    void SetUp() override {
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
        if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
        emu_ = std::make_unique<scar::testing::emulator_process>(work_.path() / "data");
        host_ = emu_->url().substr(7);
        write(work_.path() / "home" / "emulator.pid", std::to_string(emu_->process().pid()));
        write(work_.path() / "home" / "emulator.endpoint", emu_->url());
        // The user's image: busybox with the applets the script uses.
        const auto root = work_.path() / "rootfs";
        fs::create_directories(root / "bin");
        fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
        for (const char* a : {"sh", "cat", "cp", "echo"}) fs::create_symlink("busybox", root / "bin" / a);
        ASSERT_EQ(aws(emu_->url(), {"ecr", "create-repository", "--repository-name", "base"}).exit_code, 0);
        img::build_request req;
        req.layers = {root};
        req.changes.env = {"PATH=/bin"};
        req.changes.cmd = std::vector<std::string>{"/bin/sh"};
        req.target = img::parse_reference(host_ + "/base:1").value();
        img::registry_options ro;
        ro.auth.use_docker_config = false;
        ro.auth.explicit_credentials = img::credentials{"test", "test", {}};
        ASSERT_TRUE(img::build_image(req, img::store(work_.path() / "home" / "images"), ro));
    }

    scar::testing::run_result scar(std::vector<std::string> args) {
        scar::testing::process_options o;
        o.argv = {SCAR_CLI_BIN};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        o.env = {
            {"SCAR_HOME", (work_.path() / "home").string()},
            {"HOME", work_.path().string()},
            {"AWS_CONFIG_FILE", "/dev/null"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
        o.cwd = work_.path();
        return scar::testing::run(std::move(o));
    }

    scar::testing::temp_dir work_{"scar-invoke"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
    std::string host_;
};

TEST_F(Invoke, BinaryJsonParametersAsyncThroughTheEndpoint) {
    // With a `mode` parameter the script prints it and its input; otherwise its output is a
    // copy of the input file (a function without outputs answers with that file).
    write(work_.path() / "fn" / "copy.sh", R"(#!/bin/sh
if [ -n "$CONT_VAR_mode" ]; then echo "mode=$CONT_VAR_mode"; cat "$INPUT_FILE_PATH"; exit 0; fi
cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/out.bin"
)");
    write(work_.path() / "fn" / "copy.toml", R"(
[[function]]
name = "copy"
image = ")" + host_ + R"(/base:1"
timeout = 30
init_script = "copy.sh"

[function.api_gateway]
name = "copy-api"
)");
    const auto init = scar(
        {"init", "-f", (work_.path() / "fn" / "copy.toml").string(), "--supervisor", SCAR_SUPERVISOR_BUNDLE}
    );
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    const auto ls = json::parse(scar({"ls", "--json"}).out);
    const std::string url(ls.at(0).at("api_url").as_string());
    EXPECT_TRUE(url.starts_with(emu_->url() + "/restapis/")) << url;
    EXPECT_TRUE(url.ends_with("/scar/_user_request_/launch")) << url;

    std::string bytes(300'000, '\0');
    std::mt19937 gen(11);
    for (auto& c : bytes) c = static_cast<char>(gen() & 0xff);
    write(work_.path() / "in.bin", bytes);
    const auto out = work_.path() / "out.bin";
    const auto bin =
        scar({"invoke", "-n", "copy", "-db", (work_.path() / "in.bin").string(), "-o", out.string()});
    ASSERT_EQ(bin.exit_code, 0) << bin.out << bin.err;
    EXPECT_TRUE(read(out) == bytes) << "the output differs from the input (" << read(out).size() << " bytes)";

    const auto text = scar({"invoke", "-n", "copy", "-jd", R"({"k":"v"})", "-p", "mode=text"});
    ASSERT_EQ(text.exit_code, 0) << text.out << text.err;
    EXPECT_EQ(text.out, "mode=text\n{\"k\":\"v\"}");

    const auto async = scar({"invoke", "-n", "copy", "-jd", "{}", "-p", "mode=async", "-a"});
    ASSERT_EQ(async.exit_code, 0) << async.out << async.err;
    EXPECT_NE(async.out.find("launched asynchronously"), std::string::npos) << async.out;

    const auto bad = scar({"invoke", "-n", "copy", "-p", "novalue"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("name=value"), std::string::npos) << bad.err;

    const auto rm = scar({"rm", "-n", "copy", "--json"});
    ASSERT_EQ(rm.exit_code, 0) << rm.out << rm.err;
    EXPECT_NE(rm.out.find("REST API"), std::string::npos) << rm.out;
    scar::apigw::client api({emu_->url(), "us-east-1", {"test", "test", "", "test"}});
    EXPECT_TRUE(api.list_rest_apis().value().empty());
}

TEST_F(Invoke, AFunctionWithoutAnEndpointSaysHowToGetOne) {
    write(work_.path() / "fn" / "plain.toml", R"(
[[function]]
name = "plain"
image = ")" + host_ + R"(/base:1"
init_script = "plain.sh"
)");
    write(work_.path() / "fn" / "plain.sh", "#!/bin/sh\necho hi\n");
    ASSERT_EQ(
        scar({"init",
              "-f",
              (work_.path() / "fn" / "plain.toml").string(),
              "--supervisor",
              SCAR_SUPERVISOR_BUNDLE})
            .exit_code,
        0
    );
    const auto r = scar({"invoke", "-n", "plain"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("NoApiEndpoint"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("[function.api_gateway]"), std::string::npos) << r.err;
}

}  // namespace
