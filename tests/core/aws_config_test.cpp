#include "scar/core/aws_config.hpp"

#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace {

namespace aws = scar::aws;

struct AwsConfig : ::testing::Test {
    scar::testing::temp_dir home{"scar-home"};

    void write(const std::string& rel, const std::string& text) const {
        std::filesystem::create_directories((home.path() / rel).parent_path());
        std::ofstream(home.path() / rel) << text;
    }
    [[nodiscard]] aws::config_sources with(std::map<std::string, std::string> env) const {
        return aws::config_sources::from_map(std::move(env), home.path());
    }
};

TEST_F(AwsConfig, EnvironmentWins) {
    write(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
    const auto c = aws::load_credentials(with(
                                             {{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                              {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                                              {"AWS_SESSION_TOKEN", "tok"}}
                                         )
    ).value();
    EXPECT_EQ(c.access_key_id, "ENVKEY");
    EXPECT_EQ(c.secret_access_key, "envsecret");
    EXPECT_EQ(c.session_token, "tok");
    EXPECT_EQ(c.source, "environment");
}

TEST_F(AwsConfig, HalfSetEnvironmentIsAnError) {
    const auto r = aws::load_credentials(with({{"AWS_ACCESS_KEY_ID", "ENVKEY"}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "MissingCredentials");
    EXPECT_NE(r.error().message.find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos);
}

TEST_F(AwsConfig, ProfilesFromCredentialsAndConfigFiles) {
    write(
        ".aws/credentials",
        "# comment\n[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = defsecret\n\n"
        "[dev]\naws_access_key_id=DEVKEY\naws_secret_access_key=devsecret\naws_session_token = devtoken\n"
    );
    write(
        ".aws/config",
        "[default]\nregion = eu-west-1\n[profile dev]\nregion = us-west-2\n"
        "[profile cfgonly]\naws_access_key_id = CFGKEY\naws_secret_access_key = cfgsecret\n"
        "s3 =\n  addressing_style = path\n"
    );
    EXPECT_EQ(aws::load_credentials(with({})).value().access_key_id, "DEFKEY");
    EXPECT_EQ(aws::load_region(with({})).value(), "eu-west-1");

    const auto dev = aws::load_credentials(with({{"AWS_PROFILE", "dev"}})).value();
    EXPECT_EQ(dev.access_key_id, "DEVKEY");
    EXPECT_EQ(dev.session_token, "devtoken");
    EXPECT_NE(dev.source.find("[dev]"), std::string::npos);
    EXPECT_EQ(aws::load_region(with({{"AWS_PROFILE", "dev"}})).value(), "us-west-2");

    auto flag = with({{"AWS_PROFILE", "dev"}});
    flag.profile = "cfgonly";  // --profile beats AWS_PROFILE
    EXPECT_EQ(aws::load_credentials(flag).value().access_key_id, "CFGKEY");

    const auto ini = aws::read_ini(home.path() / ".aws/config").value();
    EXPECT_EQ(ini.at("profile cfgonly").at("s3.addressing_style"), "path");
}

TEST_F(AwsConfig, FilesFromVariables) {
    write("elsewhere/creds", "[default]\naws_access_key_id = ELSEKEY\naws_secret_access_key = s\n");
    write("elsewhere/conf", "[default]\nregion = ap-south-1\n");
    const auto src = with(
        {{"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "elsewhere/creds").string()},
         {"AWS_CONFIG_FILE", (home.path() / "elsewhere/conf").string()}}
    );
    EXPECT_EQ(aws::load_credentials(src).value().access_key_id, "ELSEKEY");
    EXPECT_EQ(aws::load_region(src).value(), "ap-south-1");
}

TEST_F(AwsConfig, MissingCredentialsNameEveryPlace) {
    const auto r = aws::load_credentials(with({}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "MissingCredentials");
    EXPECT_NE(r.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
    EXPECT_NE(r.error().message.find(".aws/credentials"), std::string::npos);
    EXPECT_NE(r.error().message.find(".aws/config"), std::string::npos);

    const auto unknown = aws::load_credentials(with({{"AWS_PROFILE", "nope"}}));
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, "ProfileNotFound");
    EXPECT_NE(unknown.error().message.find("'nope'"), std::string::npos);
}

TEST_F(AwsConfig, RegionOrder) {
    write(".aws/config", "[default]\nregion = from-file\n");
    EXPECT_EQ(aws::load_region(with({{"AWS_DEFAULT_REGION", "default-var"}})).value(), "default-var");
    EXPECT_EQ(
        aws::load_region(with({{"AWS_DEFAULT_REGION", "d"}, {"AWS_REGION", "region-var"}})).value(),
        "region-var"
    );
    auto flag = with({{"AWS_REGION", "region-var"}});
    flag.region = "flag";
    EXPECT_EQ(aws::load_region(flag).value(), "flag");
    std::filesystem::remove(home.path() / ".aws/config");
    const auto none = aws::load_region(with({}));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "MissingRegion");
    EXPECT_NE(none.error().message.find("AWS_REGION"), std::string::npos);
}

TEST_F(AwsConfig, MalformedFileNamesFileAndLine) {
    write(".aws/credentials", "[default]\naws_access_key_id = K\nthis line is wrong\n");
    const auto r = aws::load_credentials(with({}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "ConfigInvalid");
    EXPECT_NE(r.error().message.find("credentials:3"), std::string::npos);
}

TEST_F(AwsConfig, Endpoints) {
    EXPECT_EQ(
        aws::endpoint_url(with({}), "Lambda", "eu-west-1").value(),
        "https://lambda.eu-west-1.amazonaws.com"
    );
    EXPECT_EQ(aws::endpoint_url(with({}), "S3", "us-east-1").value(), "https://s3.us-east-1.amazonaws.com");
    EXPECT_FALSE(aws::has_custom_endpoint(with({}), "S3"));

    const auto all = with({{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566/"}});
    EXPECT_EQ(aws::endpoint_url(all, "API Gateway", "x").value(), "http://127.0.0.1:4566");
    EXPECT_TRUE(aws::has_custom_endpoint(all, "S3"));

    const auto per_service = with(
        {{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
         {"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:9999"}}
    );
    EXPECT_EQ(aws::endpoint_url(per_service, "CloudWatch Logs", "x").value(), "http://127.0.0.1:9999");
    EXPECT_EQ(aws::endpoint_url(per_service, "S3", "x").value(), "http://127.0.0.1:4566");

    write(".aws/config", "[default]\nendpoint_url = http://localhost:4566\n");
    EXPECT_EQ(aws::endpoint_url(with({}), "S3", "x").value(), "http://localhost:4566");
    EXPECT_FALSE(aws::has_custom_endpoint(with({{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}}), "S3"));

    const auto bad = aws::endpoint_url(with({{"AWS_ENDPOINT_URL", "127.0.0.1:4566"}}), "S3", "x");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "ConfigInvalid");
}

}  // namespace
