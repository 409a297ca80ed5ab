#include "scar/config/function.hpp"

#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace {

namespace cfg = scar::config;
namespace fs = std::filesystem;

/// Sets an environment variable for the life of the guard, then restores it.
class env_guard {
public:
    env_guard(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) {
            ::setenv(name, value->c_str(), 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~env_guard() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    env_guard(const env_guard&) = delete;
    env_guard& operator=(const env_guard&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

class Config : public ::testing::Test {
protected:
    fs::path write(const std::string& name, std::string_view text) {
        const fs::path p = dir_.path() / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    /// An empty user file, so that the tester's own ~/.config/scar/config.toml plays no part.
    fs::path no_user() { return write("empty-user.toml", ""); }
    [[nodiscard]] const fs::path& dir() const { return dir_.path(); }

private:
    scar::testing::temp_dir dir_{"scar-config"};
};

cfg::definitions ok(const scar::result<cfg::definitions>& r) {
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : cfg::definitions{};
}

TEST_F(Config, MinimalFunctionTakesEveryDefaultOfTheHeader) {
    // conf/defaults.toml and the member initialisers of function.hpp say the same.
    const auto defs = ok(cfg::parse("[[function]]\nname = \"f\"\nimage = \"busybox\"\n", "t.toml"));
    ASSERT_EQ(defs.functions.size(), 1u);
    cfg::function_definition expected;
    expected.name = "f";
    expected.image = "busybox";
    EXPECT_EQ(defs.functions[0], expected);

    ASSERT_EQ(defs.storage.size(), 1u);
    const cfg::storage_provider s3 = defs.storage.at("s3.default");
    EXPECT_EQ(s3, cfg::storage_provider{});
}

TEST_F(Config, EveryKeyReachesTheModel) {
    write("scripts/init.sh", "echo init\n");
    write("scripts/run.sh", "echo run\n");
    const auto file = write("grayify.toml", R"([[function]]
name = "grayify"
image = "grycap/imagemagick:7"
description = "gray images"
memory = 1024
timeout = 120
timeout_threshold = 20
ephemeral_storage = 2048
execution_mode = "lambda-batch"
log_level = "debug"
architecture = "arm64"
role = "arn:aws:iam::123456789012:role/scar"
layers = ["arn:aws:lambda:eu-west-1:123456789012:layer:tools:3"]
init_script = "scripts/init.sh"
run_script = "scripts/run.sh"
file_stage_in = true

[function.environment]
LAMBDA_VAR = "1"

[function.container.environment]
SCRIPT_VAR = "2"

[[function.input]]
storage = "minio.mine"
path = "scar-in/images/"

[[function.output]]
path = "scar-out/gray"
prefix = ["img-"]
suffix = [".png", ".jpg"]

[[function.output]]
storage = "s3.other"
path = "archive"

[function.api_gateway]
name = "grayify-api"
stage = "prod"
path = "run"
binary_media_types = ["image/png"]

[function.cloudwatch]
log_retention_days = 7

[function.batch]
vcpus = 2
memory = 4096
gpu = true
max_vcpus = 8
attempts = 3
timeout = 600
compute_type = "spot"
instance_types = ["m5.large"]
subnets = ["subnet-0abc"]
security_groups = ["sg-12ef"]

[function.batch.environment]
BATCH_VAR = "3"

[function.deployment]
target = "aws"
region = "eu-west-1"
endpoint = "http://127.0.0.1:4566"

[storage.minio.mine]
endpoint = "https://minio.example.org:9000"
region = "eu-central-1"
access_key = "AK"
secret_key = "SK"
verify_tls = false

[storage.s3.other]
access_key = "AK2"
secret_key = "SK2"
session_token = "TOKEN"
path_style = true
)");
    const auto defs = ok(cfg::load({.files = {file}, .user_file = no_user()}));
    ASSERT_EQ(defs.functions.size(), 1u);
    const auto& fn = defs.functions[0];
    EXPECT_EQ(fn.name, "grayify");
    EXPECT_EQ(fn.image, "grycap/imagemagick:7");
    EXPECT_EQ(fn.description, "gray images");
    EXPECT_EQ(fn.memory_mb, 1024);
    EXPECT_EQ(fn.timeout_s, 120);
    EXPECT_EQ(fn.timeout_threshold_s, 20);
    EXPECT_EQ(fn.ephemeral_storage_mb, 2048);
    EXPECT_EQ(fn.mode, cfg::execution_mode::lambda_batch);
    EXPECT_EQ(fn.log_level, "debug");
    EXPECT_EQ(fn.architecture, "arm64");
    EXPECT_EQ(fn.role, "arn:aws:iam::123456789012:role/scar");
    EXPECT_EQ(fn.layers, std::vector<std::string>{"arn:aws:lambda:eu-west-1:123456789012:layer:tools:3"});
    EXPECT_EQ(fn.init_script, dir() / "scripts/init.sh");
    EXPECT_EQ(fn.run_script, dir() / "scripts/run.sh");
    EXPECT_TRUE(fn.file_stage_in);
    EXPECT_EQ(fn.environment, (std::map<std::string, std::string>{{"LAMBDA_VAR", "1"}}));
    EXPECT_EQ(fn.container_environment, (std::map<std::string, std::string>{{"SCRIPT_VAR", "2"}}));

    ASSERT_EQ(fn.inputs.size(), 1u);
    EXPECT_EQ(fn.inputs[0].provider, "minio.mine");
    EXPECT_EQ(fn.inputs[0].bucket, "scar-in");
    EXPECT_EQ(fn.inputs[0].folder, "images");  // the trailing '/' is dropped
    ASSERT_EQ(fn.outputs.size(), 2u);
    EXPECT_EQ(fn.outputs[0].provider, "s3.default");
    EXPECT_EQ(fn.outputs[0].path(), "scar-out/gray");
    EXPECT_EQ(fn.outputs[0].prefixes, std::vector<std::string>{"img-"});
    EXPECT_EQ(fn.outputs[0].suffixes, (std::vector<std::string>{".png", ".jpg"}));
    EXPECT_EQ(fn.outputs[1].provider, "s3.other");
    EXPECT_EQ(fn.outputs[1].bucket, "archive");
    EXPECT_EQ(fn.outputs[1].folder, "");

    ASSERT_TRUE(fn.api_gateway);
    EXPECT_EQ(fn.api_gateway->name, "grayify-api");
    EXPECT_EQ(fn.api_gateway->stage, "prod");
    EXPECT_EQ(fn.api_gateway->path, "run");
    EXPECT_EQ(fn.api_gateway->binary_media_types, std::vector<std::string>{"image/png"});
    EXPECT_EQ(fn.log_retention_days, 7);

    EXPECT_EQ(fn.batch.vcpus, 2);
    EXPECT_EQ(fn.batch.memory_mb, 4096);
    EXPECT_TRUE(fn.batch.gpu);
    EXPECT_EQ(fn.batch.max_vcpus, 8);
    EXPECT_EQ(fn.batch.attempts, 3);
    EXPECT_EQ(fn.batch.timeout_s, 600);
    EXPECT_EQ(fn.batch.compute, cfg::batch_compute::spot);
    EXPECT_EQ(fn.batch.instance_types, std::vector<std::string>{"m5.large"});
    EXPECT_EQ(fn.batch.subnets, std::vector<std::string>{"subnet-0abc"});
    EXPECT_EQ(fn.batch.security_groups, std::vector<std::string>{"sg-12ef"});
    EXPECT_EQ(fn.batch.environment, (std::map<std::string, std::string>{{"BATCH_VAR", "3"}}));

    EXPECT_EQ(fn.target, cfg::target_kind::aws);
    EXPECT_EQ(fn.region, "eu-west-1");
    EXPECT_EQ(fn.endpoint, "http://127.0.0.1:4566");

    const auto* mine = defs.provider_of(fn.inputs[0]);
    ASSERT_NE(mine, nullptr);
    EXPECT_EQ(mine->endpoint, "https://minio.example.org:9000");
    EXPECT_EQ(mine->region, "eu-central-1");
    EXPECT_EQ(mine->access_key, "AK");
    EXPECT_EQ(mine->secret_key, "SK");
    EXPECT_FALSE(mine->verify_tls);
    EXPECT_TRUE(mine->path_style);  // the default of minio providers
    const auto* other = defs.provider_of(fn.outputs[1]);
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(other->session_token, "TOKEN");
    EXPECT_TRUE(other->verify_tls);
    EXPECT_TRUE(other->path_style);
    EXPECT_EQ(defs.provider_of(cfg::storage_path{.provider = "minio.none"}), nullptr);
}

TEST_F(Config, SeveralFunctionsShareTheFileDefaultsAndDeployment) {
    const auto defs = ok(cfg::parse(
        R"([deployment]
target = "aws"
region = "eu-west-1"

[defaults.function]
role = "arn:aws:iam::123456789012:role/scar"
memory = 2048

[[function]]
name = "first"
image = "busybox"

[[function]]
name = "second"
image = "alpine"
memory = 1024
[function.deployment]
region = "eu-west-3"
)",
        "t.toml"
    ));
    ASSERT_EQ(defs.functions.size(), 2u);
    const auto& a = defs.functions[0];
    const auto& b = defs.functions[1];
    EXPECT_EQ(a.name, "first");
    EXPECT_EQ(a.memory_mb, 2048);
    EXPECT_EQ(a.target, cfg::target_kind::aws);
    EXPECT_EQ(a.region, "eu-west-1");
    EXPECT_EQ(a.role, "arn:aws:iam::123456789012:role/scar");
    EXPECT_EQ(b.name, "second");
    EXPECT_EQ(b.memory_mb, 1024);
    EXPECT_EQ(b.target, cfg::target_kind::aws);
    EXPECT_EQ(b.region, "eu-west-3");
    EXPECT_EQ(b.role, a.role);
}

TEST_F(Config, PrecedenceIsDefaultsUserFileDefinitionFileOverrides) {
    const auto user = write("user/config.toml", R"([deployment]
region = "eu-west-1"

[defaults.function]
memory = 1024
timeout = 100
log_level = "debug"
layers = ["arn:aws:lambda:us-east-1:123456789012:layer:user:1"]

[defaults.function.environment]
FROM_USER = "user"
BOTH = "user"
)");
    const auto file = write("fn.toml", R"([[function]]
name = "f"
image = "busybox"
memory = 2048
layers = ["arn:aws:lambda:us-east-1:123456789012:layer:file:1"]

[function.environment]
BOTH = "file"
)");
    const auto defs = ok(cfg::load(
        {.files = {file}, .user_file = user, .overrides = {"memory=4096", "container.environment.PORT=8080"}}
    ));
    ASSERT_EQ(defs.functions.size(), 1u);
    const auto& fn = defs.functions[0];
    EXPECT_EQ(fn.memory_mb, 4096);          // override > file > user
    EXPECT_EQ(fn.timeout_s, 100);           // user > defaults
    EXPECT_EQ(fn.timeout_threshold_s, 10);  // defaults
    EXPECT_EQ(fn.log_level, "debug");
    EXPECT_EQ(fn.region, "eu-west-1");
    // Lists are replaced, not concatenated (SCAR concatenated them); tables merge key by key.
    EXPECT_EQ(fn.layers, std::vector<std::string>{"arn:aws:lambda:us-east-1:123456789012:layer:file:1"});
    EXPECT_EQ(fn.environment, (std::map<std::string, std::string>{{"FROM_USER", "user"}, {"BOTH", "file"}}));
    EXPECT_EQ(fn.container_environment, (std::map<std::string, std::string>{{"PORT", "8080"}}));
}

TEST_F(Config, DefaultsAndDeploymentOfADefinitionFileStayInThatFile) {
    const auto a = write("a.toml", R"([deployment]
region = "eu-west-1"
[defaults.function]
memory = 2048
[[function]]
name = "a"
image = "busybox"
)");
    const auto b = write("b.toml", "[[function]]\nname = \"b\"\nimage = \"busybox\"\n");
    const auto defs = ok(cfg::load({.files = {a, b}, .user_file = no_user()}));
    ASSERT_EQ(defs.functions.size(), 2u);
    EXPECT_EQ(defs.functions[0].memory_mb, 2048);
    EXPECT_EQ(defs.functions[0].region, "eu-west-1");
    EXPECT_EQ(defs.functions[1].memory_mb, 512);
    EXPECT_EQ(defs.functions[1].region, "us-east-1");
}

TEST_F(Config, ProvidersOfTheUserFileServeEveryDefinitionFile) {
    const auto user = write("config.toml", R"([defaults.storage.minio]
verify_tls = false
[storage.minio.mine]
endpoint = "http://127.0.0.1:9000"
access_key = "minio"
secret_key = "minio123"
)");
    const auto file = write("fn.toml", R"([[function]]
name = "f"
image = "busybox"
[[function.input]]
storage = "minio.mine"
path = "in-bucket"
)");
    const auto defs = ok(cfg::load({.files = {file}, .user_file = user}));
    ASSERT_EQ(defs.functions.size(), 1u);
    const auto* p = defs.provider_of(defs.functions[0].inputs.at(0));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->name(), "minio.mine");
    EXPECT_EQ(p->endpoint, "http://127.0.0.1:9000");
    EXPECT_EQ(p->access_key, "minio");
    EXPECT_FALSE(p->verify_tls);  // from [defaults.storage.minio] of the user file
    EXPECT_TRUE(p->path_style);   // from the built-in [defaults.storage.minio]
}

TEST_F(Config, UserFileComesFromScarConfigThenXdgThenHome) {
    const auto file = write("fn.toml", "[[function]]\nname = \"f\"\nimage = \"busybox\"\n");
    const auto named = write("named.toml", "[defaults.function]\nmemory = 1111\n");
    write("xdg/scar/config.toml", "[defaults.function]\nmemory = 2222\n");
    write("home/.config/scar/config.toml", "[defaults.function]\nmemory = 3333\n");
    env_guard home("HOME", (dir() / "home").string());
    {
        env_guard scar_config("SCAR_CONFIG", named.string());
        env_guard xdg("XDG_CONFIG_HOME", (dir() / "xdg").string());
        EXPECT_EQ(ok(cfg::load({.files = {file}})).functions.at(0).memory_mb, 1111);
    }
    {
        env_guard scar_config("SCAR_CONFIG", std::nullopt);
        env_guard xdg("XDG_CONFIG_HOME", (dir() / "xdg").string());
        EXPECT_EQ(ok(cfg::load({.files = {file}})).functions.at(0).memory_mb, 2222);
    }
    {
        env_guard scar_config("SCAR_CONFIG", std::nullopt);
        env_guard xdg("XDG_CONFIG_HOME", std::nullopt);
        EXPECT_EQ(ok(cfg::load({.files = {file}})).functions.at(0).memory_mb, 3333);
    }
    {
        // No user file at all is fine.
        env_guard scar_config("SCAR_CONFIG", std::nullopt);
        env_guard xdg("XDG_CONFIG_HOME", (dir() / "nothing-here").string());
        EXPECT_EQ(ok(cfg::load({.files = {file}})).functions.at(0).memory_mb, 512);
    }
}

TEST_F(Config, OverridesAloneDefineOneFunction) {
    const auto defs = ok(
        cfg::load({.user_file = no_user(), .overrides = {"name=from-flags", "image=busybox", "memory=1024"}})
    );
    ASSERT_EQ(defs.functions.size(), 1u);
    EXPECT_EQ(defs.functions[0].name, "from-flags");
    EXPECT_EQ(defs.functions[0].memory_mb, 1024);
    EXPECT_TRUE(ok(cfg::load({.user_file = no_user()})).functions.empty());
}

TEST_F(Config, OverrideValuesFollowTheTypeOfTheKey) {
    const auto file = write("fn.toml", "[[function]]\nname = \"f\"\nimage = \"busybox\"\n");
    const auto defs = ok(cfg::load(
        {.files = {file},
         .user_file = no_user(),
         .overrides =
             {
                 "description=1024",                 // a string key keeps the text
                 "container.environment.PORT=8080",  // so does a table of strings
                 " environment.QUOTED = \"a b\"",    // a quoted value is TOML
                 "file_stage_in=true",               // booleans, integers, arrays, tables: TOML
                 "layers=[\"arn:aws:lambda:us-east-1:123456789012:layer:l:1\"]",
                 "output=[{path = \"out-bucket/x\", suffix = [\".png\"]}]",
                 "api_gateway.name=my-api",
                 "deployment.region=eu-west-3",
             }}
    ));
    const auto& fn = defs.functions.at(0);
    EXPECT_EQ(fn.description, "1024");
    EXPECT_EQ(fn.container_environment.at("PORT"), "8080");
    EXPECT_EQ(fn.environment.at("QUOTED"), "a b");
    EXPECT_TRUE(fn.file_stage_in);
    EXPECT_EQ(fn.layers.size(), 1u);
    ASSERT_EQ(fn.outputs.size(), 1u);
    EXPECT_EQ(fn.outputs[0].path(), "out-bucket/x");
    EXPECT_EQ(fn.outputs[0].suffixes, std::vector<std::string>{".png"});
    ASSERT_TRUE(fn.api_gateway);
    EXPECT_EQ(fn.api_gateway->name, "my-api");
    EXPECT_EQ(fn.region, "eu-west-3");
}

TEST_F(Config, ToTomlReadsBackToAnEqualDefinition) {
    write("pkg/grayify.sh", "convert \"$INPUT_FILE_PATH\" -type Grayscale out.png\n");
    write("pkg/run.sh", "echo run\n");
    const auto file = write("pkg/fn.toml", R"([[function]]
name = "grayify"
image = "grycap/imagemagick"
description = "quotes \" backslash \\ tab \t newline \n bell \u0007 accent é"
memory = 3008
timeout = 600
execution_mode = "batch"
init_script = "grayify.sh"
run_script = "run.sh"
layers = ["arn:aws:lambda:us-east-1:123456789012:layer:a:1", "arn:aws:lambda:us-east-1:123456789012:layer:b:2"]
[function.environment]
"WITH_QUOTE" = "say \"hi\""
[function.container.environment]
EMPTY = ""
[[function.input]]
storage = "minio.mine"
path = "in-bucket/a/b"
[[function.output]]
path = "out-bucket"
prefix = ["x/", "y/"]
suffix = [".png"]
[[function.output]]
storage = "minio.mine"
path = "in-bucket/results"
[function.api_gateway]
name = "api"
[function.batch]
vcpus = 4
max_vcpus = 16
[function.batch.environment]
K = "v"
[function.deployment]
endpoint = "http://127.0.0.1:4566"
[storage.minio.mine]
endpoint = "http://127.0.0.1:9000"
access_key = "a"
secret_key = "s"
session_token = "t"
region = "eu-west-1"
verify_tls = false
[storage.minio.unused]
endpoint = "http://127.0.0.1:9001"
)");
    const auto defs = ok(cfg::load({.files = {file}, .user_file = no_user()}));
    ASSERT_EQ(defs.functions.size(), 1u);
    const auto& fn = defs.functions[0];

    const std::string text = cfg::to_toml(fn, defs);
    EXPECT_NE(text.find("init_script = \"grayify.sh\""), std::string::npos) << text;
    EXPECT_EQ(text.find(dir().string()), std::string::npos) << "scripts are named by file name only\n"
                                                            << text;
    EXPECT_EQ(text.find("minio.unused"), std::string::npos) << "only the providers it uses\n" << text;

    const auto back = ok(cfg::parse(text, "function.toml", dir() / "pkg"));
    ASSERT_EQ(back.functions.size(), 1u);
    EXPECT_EQ(back.functions[0], fn) << text;
    EXPECT_EQ(back.storage.at("minio.mine"), defs.storage.at("minio.mine"));
    EXPECT_EQ(cfg::to_toml(back.functions[0], back), text);
}

TEST_F(Config, ScriptsNeedNotExistWhenChecksAreOff) {
    const std::string text = "[[function]]\nname = \"f\"\nimage = \"busybox\"\ninit_script = \"script.sh\"\n";
    EXPECT_FALSE(cfg::parse(text, "t.toml", dir()));
    const auto defs =
        ok(cfg::parse(text, "t.toml", cfg::parse_options{.base_dir = dir(), .check_scripts = false}));
    EXPECT_EQ(defs.functions.at(0).init_script, dir() / "script.sh");
}

TEST_F(Config, NamesOfTheEnumerations) {
    EXPECT_EQ(cfg::to_string(cfg::execution_mode::lambda), "lambda");
    EXPECT_EQ(cfg::to_string(cfg::execution_mode::batch), "batch");
    EXPECT_EQ(cfg::to_string(cfg::execution_mode::lambda_batch), "lambda-batch");
    EXPECT_EQ(cfg::to_string(cfg::target_kind::local), "local");
    EXPECT_EQ(cfg::to_string(cfg::target_kind::aws), "aws");
    EXPECT_EQ(cfg::to_string(cfg::batch_compute::ec2), "ec2");
    EXPECT_EQ(cfg::to_string(cfg::batch_compute::spot), "spot");
}

// Every example of conf/examples/features/ loads cleanly (and so stays true).
TEST_F(Config, FeatureExamplesLoad) {
    const fs::path examples = fs::path(SCAR_SOURCE_DIR) / "conf" / "examples" / "features";
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(examples)) {
        if (e.path().extension() != ".toml") continue;
        ++files;
        const auto defs = cfg::load({.files = {e.path()}, .user_file = no_user()});
        ASSERT_TRUE(defs) << e.path() << ":\n" << defs.error().message;
        EXPECT_FALSE(defs->functions.empty()) << e.path();
        for (const auto& fn : defs->functions) {
            // As deployed: the scripts sit next to the configuration.
            const fs::path package =
                fn.init_script.empty() ? e.path().parent_path() : fn.init_script.parent_path();
            const auto back = cfg::parse(cfg::to_toml(fn, *defs), "function.toml", package);
            ASSERT_TRUE(back) << e.path() << ": " << back.error().message;
            EXPECT_EQ(back->functions.at(0), fn) << e.path();
        }
    }
    EXPECT_GE(files, 8u);
}

}  // namespace
