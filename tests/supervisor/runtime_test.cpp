// The program's command line and where its configuration comes from.

#include "scar/supervisor/runtime.hpp"

#include <scar/core/encoding.hpp>
#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <map>

namespace {

namespace sv = scar::supervisor;

sv::env_reader env_of(std::map<std::string, std::string> m) {
    return [m = std::move(m)](std::string_view name) -> std::optional<std::string> {
        const auto it = m.find(std::string(name));
        if (it == m.end()) return std::nullopt;
        return it->second;
    };
}

scar::config::function_definition sample_function() {
    scar::config::function_definition fn;
    fn.name = "grayify";
    fn.image = "busybox:latest";
    fn.timeout_threshold_s = 7;
    fn.container_environment = {{"MODE", "gray"}};
    scar::config::storage_path in;
    in.bucket = "photos";
    in.folder = "in";
    scar::config::storage_path out;
    out.bucket = "photos";
    out.folder = "out";
    out.suffixes = {".png"};
    fn.inputs = {in};
    fn.outputs = {out};
    return fn;
}

TEST(CommandLine, CommandAfterDashDashAndEntrypointWords) {
    const auto cl =
        sv::parse_command_line({"--entrypoint-words", "1", "--", "/usr/bin/fortune", "-s"}).value();
    EXPECT_EQ(cl.command, (std::vector<std::string>{"/usr/bin/fortune", "-s"}));
    EXPECT_EQ(cl.entrypoint_words, 1U);
    const auto eq = sv::parse_command_line({"--entrypoint-words=0", "--", "cowsay"}).value();
    EXPECT_EQ(eq.entrypoint_words, 0U);
    const auto bare = sv::parse_command_line({"/bin/app", "--flag"}).value();
    EXPECT_EQ(bare.command, (std::vector<std::string>{"/bin/app", "--flag"}));
    EXPECT_FALSE(bare.entrypoint_words);
    EXPECT_TRUE(sv::parse_command_line({}).value().command.empty());
    EXPECT_TRUE(sv::parse_command_line({"--help"}).value().help);

    const auto unknown = sv::parse_command_line({"--verbose"});
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("unknown option '--verbose'"), std::string::npos);
    const auto nan = sv::parse_command_line({"--entrypoint-words", "two", "--", "a"});
    ASSERT_FALSE(nan);
    EXPECT_NE(nan.error().message.find("takes a number"), std::string::npos);
    const auto many = sv::parse_command_line({"--entrypoint-words", "3", "--", "a"});
    ASSERT_FALSE(many);
    EXPECT_NE(many.error().message.find("more than the 1 word(s)"), std::string::npos);
}

TEST(Settings, WithoutConfigurationScriptsStillRun) {
    scar::testing::temp_dir task("scar-sv-task");
    const auto s = sv::load_settings(
                       env_of(
                           {{"LAMBDA_TASK_ROOT", task.path().string()},
                            {"AWS_LAMBDA_FUNCTION_NAME", "fn"},
                            {"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"},
                            {"AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/fn"},
                            {"TMPDIR", "/var/tmp"}}
                       ),
                       sv::parse_command_line({"--", "/bin/true"}).value()
    )
                       .value();
    EXPECT_EQ(s.where, sv::platform::lambda);
    EXPECT_EQ(s.function.name, "fn");
    EXPECT_TRUE(s.function.outputs.empty());
    EXPECT_TRUE(s.config_source.empty());
    EXPECT_EQ(s.command, (std::vector<std::string>{"/bin/true"}));
    EXPECT_EQ(s.entrypoint_words, 1U);
    EXPECT_EQ(s.temp_root, "/var/tmp");
    EXPECT_EQ(s.log_group, "/aws/lambda/fn");
    const auto binary = sv::load_settings(env_of({{"LAMBDA_TASK_ROOT", task.path().string()}}), {}).value();
    EXPECT_EQ(binary.where, sv::platform::binary);
    EXPECT_EQ(binary.temp_root, "/tmp");
}

TEST(Settings, ConfigurationFromTheTaskRootOrTheEnvironment) {
    scar::testing::temp_dir task("scar-sv-task");
    const auto fn = sample_function();
    scar::config::definitions defs;
    defs.functions = {fn};
    const std::string toml = scar::config::to_toml(fn, defs);

    for (const std::string& value : {toml, scar::encoding::base64_encode(toml)}) {
        const auto s = sv::load_settings(
            env_of({{"LAMBDA_TASK_ROOT", task.path().string()}, {"FUNCTION_CONFIG", value}}),
            {}
        );
        ASSERT_TRUE(s) << s.error().message;
        EXPECT_EQ(s->function.name, "grayify");
        EXPECT_EQ(s->config_source, "FUNCTION_CONFIG");
        EXPECT_EQ(s->function.timeout_threshold_s, 7);
        EXPECT_EQ(s->function.container_environment.at("MODE"), "gray");
        ASSERT_EQ(s->function.outputs.size(), 1U);
        EXPECT_EQ(s->function.outputs[0].folder, "out");
        EXPECT_EQ(s->function.outputs[0].suffixes, (std::vector<std::string>{".png"}));
    }

    std::ofstream(task.path() / "function.toml") << toml;
    const auto from_file = sv::load_settings(
        env_of(
            {{"LAMBDA_TASK_ROOT", task.path().string()},
             {"FUNCTION_CONFIG", "ignored when the file exists"},
             {"TIMEOUT_THRESHOLD", "3"},
             {"LOG_LEVEL", "debug"},
             {"SCRIPT", scar::encoding::base64_encode("echo batch\n")}}
        ),
        {}
    );
    ASSERT_TRUE(from_file) << from_file.error().message;
    EXPECT_EQ(from_file->config_source, (task.path() / "function.toml").string());
    EXPECT_EQ(from_file->function.inputs.at(0).bucket, "photos");
    EXPECT_EQ(from_file->function.timeout_threshold_s, 3);
    EXPECT_EQ(from_file->function.log_level, "debug");
    EXPECT_EQ(from_file->init_script_text, "echo batch\n");
}

TEST(Settings, BadConfigurationIsNamed) {
    scar::testing::temp_dir task("scar-sv-task");
    const auto root = task.path().string();
    const auto bad_toml =
        sv::load_settings(env_of({{"LAMBDA_TASK_ROOT", root}, {"FUNCTION_CONFIG", "[[function]\n"}}), {});
    ASSERT_FALSE(bad_toml);
    EXPECT_EQ(bad_toml.error().code, "ConfigInvalid");
    EXPECT_NE(bad_toml.error().message.find("FUNCTION_CONFIG"), std::string::npos)
        << bad_toml.error().message;

    const auto script = sv::load_settings(env_of({{"LAMBDA_TASK_ROOT", root}, {"SCRIPT", "#!/bin/sh"}}), {});
    ASSERT_FALSE(script);
    EXPECT_NE(script.error().message.find("SCRIPT must be the init script in base64"), std::string::npos);

    const auto threshold =
        sv::load_settings(env_of({{"LAMBDA_TASK_ROOT", root}, {"TIMEOUT_THRESHOLD", "10s"}}), {});
    ASSERT_FALSE(threshold);
    EXPECT_NE(threshold.error().message.find("whole number of seconds, not '10s'"), std::string::npos);

    auto a = sample_function();
    auto b = sample_function();
    b.name = "other";
    scar::config::definitions defs;
    defs.functions = {a, b};
    const std::string two = scar::config::to_toml(a, defs) + "\n" + scar::config::to_toml(b, defs);
    const auto ambiguous = sv::load_settings(
        env_of({{"LAMBDA_TASK_ROOT", root}, {"FUNCTION_CONFIG", two}, {"AWS_LAMBDA_FUNCTION_NAME", "third"}}),
        {}
    );
    ASSERT_FALSE(ambiguous);
    EXPECT_EQ(ambiguous.error().code, "ConfigInvalid");
}

}  // namespace
