// scar cost: REPORT lines parsed, invocations priced against a hand computation, and the
// price table's errors.

#include <scar/config/prices.hpp>
#include <scar/deploy/cost.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace {

using scar::deploy::estimate;
using scar::deploy::invocation_report;
using scar::deploy::parse_report;

TEST(Cost, ParsesTheReportLineOfTheEmulatorAndOfAws) {
    const auto r = parse_report(
        "REPORT RequestId: 62c6d38c-f4ab\tDuration: 117.25 ms\tBilled Duration: 118 ms\tMemory Size: 256 MB\t"
        "Max Memory Used: 8 MB\tInit Duration: 65.00 ms\t"
    );
    ASSERT_TRUE(r);
    EXPECT_EQ(r->request_id, "62c6d38c-f4ab");
    EXPECT_DOUBLE_EQ(r->duration_ms, 117.25);
    EXPECT_EQ(r->billed_ms, 118);
    EXPECT_EQ(r->memory_mb, 256);
    ASSERT_TRUE(r->init_ms);
    EXPECT_DOUBLE_EQ(*r->init_ms, 65.0);
    const auto warm = parse_report(
        "REPORT RequestId: a\tDuration: 1.50 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory "
        "Used: 9 MB"
    );
    ASSERT_TRUE(warm);
    EXPECT_FALSE(warm->init_ms);
    EXPECT_FALSE(parse_report("START RequestId: a Version: $LATEST"));
    EXPECT_FALSE(parse_report("REPORT RequestId: a\tDuration: x ms"));
}

TEST(Cost, PricesInvocationsAsAHandComputation) {
    const auto prices = scar::config::load_prices().value();  // conf/prices.toml
    std::vector<invocation_report> runs(3);
    runs[0] = {"a", 99.5, 100, 1024, 250.0, 10'000};
    runs[1] = {"b", 199.0, 200, 1024, std::nullopt, 10'300};
    runs[2] = {"c", 999.0, 1000, 1024, std::nullopt, 11'400};
    const auto c = estimate("fn", runs, "x86_64", 1024, prices);
    // 1.3 s at 1 GB; 3 requests; 512 MB of /tmp above the included 512 MB for 1.3 s.
    EXPECT_EQ(c.invocations, 3U);
    EXPECT_EQ(c.cold_starts, 1U);
    EXPECT_EQ(c.billed_ms, 1300);
    EXPECT_DOUBLE_EQ(c.gb_seconds, 1.3);
    EXPECT_NEAR(c.compute_cost, 1.3 * 0.0000166667, 1e-15);
    EXPECT_NEAR(c.request_cost, 3 * 0.20 / 1e6, 1e-15);
    EXPECT_NEAR(c.ephemeral_cost, 0.5 * 1.3 * 0.0000000309, 1e-18);
    EXPECT_NEAR(c.total, 1.3 * 0.0000166667 + 3 * 0.20 / 1e6 + 0.5 * 1.3 * 0.0000000309, 1e-15);
    // From the first start (10000 − 99.5 − 250) to the last end (11400).
    EXPECT_NEAR(c.wall_seconds, (11'400 - (10'000 - 349)) / 1000.0, 1e-9);
    EXPECT_DOUBLE_EQ(c.p50_ms, 199.0);
    EXPECT_DOUBLE_EQ(c.max_ms, 999.0);

    const auto arm = estimate("fn", runs, "arm64", 512, prices);
    EXPECT_NEAR(arm.compute_cost, 1.3 * 0.0000133334, 1e-15);
    EXPECT_EQ(arm.ephemeral_cost, 0.0);
    EXPECT_EQ(estimate("idle", {}, "x86_64", 512, prices).total, 0.0);
}

TEST(Cost, PricesBatchJobsAsFargateWithItsMinimum) {
    const auto prices = scar::config::load_prices().value();  // conf/prices.toml
    std::vector<invocation_report> dispatch(1);
    dispatch[0] = {"d", 20.0, 20, 256, std::nullopt, 5'000};
    auto c = estimate("render", dispatch, "x86_64", 512, prices);
    const double lambda_only = c.total;
    // A 3.2 s job on 1 vCPU and 1 GB is billed the 60 s minimum; a 90.4 s job on 2 vCPUs and
    // 4 GB is billed 91 s.
    add_jobs(c, {{6'000, 9'200, 1, 1024, true}, {10'000, 100'400, 2, 4096, true}}, prices);
    EXPECT_EQ(c.jobs, 2U);
    EXPECT_DOUBLE_EQ(c.job_seconds, 151.0);
    const double want =
        60.0 / 3600 * (1 * 0.04048 + 1 * 0.004445) + 91.0 / 3600 * (2 * 0.04048 + 4 * 0.004445);
    EXPECT_NEAR(c.job_cost, want, 1e-12);
    EXPECT_NEAR(c.total, lambda_only + want, 1e-12);
    // The workflow's span now runs from the dispatch's start to the last job's end.
    EXPECT_NEAR(c.wall_seconds, (100'400 - (5'000 - 20)) / 1000.0, 1e-9);

    scar::deploy::function_cost jobs_only;
    scar::deploy::add_jobs(jobs_only, {{1'000, 2'000, 1, 2048, true}}, prices);
    EXPECT_NEAR(jobs_only.wall_seconds, 1.0, 1e-9);
}

TEST(Cost, PricesBatchJobsOnEc2AsTheirShareOfTheInstances) {
    const auto prices = scar::config::load_prices().value();
    // 90.4 s on 2 vCPUs: 91 s × 2 vCPUs at the m5 price of a vCPU-hour, no minimum; 3.2 s on
    // 1 vCPU: 4 s.
    scar::deploy::function_cost c;
    scar::deploy::add_jobs(c, {{10'000, 100'400, 2, 4096, false}, {0, 3'200, 1, 1024, false}}, prices);
    EXPECT_DOUBLE_EQ(prices.batch.ec2_vcpu_hour, 0.048);
    EXPECT_DOUBLE_EQ(c.job_seconds, 95.0);
    EXPECT_NEAR(c.job_cost, 91.0 / 3600 * 2 * 0.048 + 4.0 / 3600 * 1 * 0.048, 1e-12);
}

TEST(Cost, PriceTableErrorsNameTheFileLineAndKey) {
    const auto path = std::filesystem::temp_directory_path() / "scar-prices-test.toml";
    std::ofstream(path
    ) << "region = \"eu-west-1\"\ncurrency = \"EUR\"\n[lambda]\nrequests_per_million = -1\n"
         "gb_second_x86_64 = \"cheap\"\ngb_second_arm64 = 0.00001\nephemeral_gb_second = 0\n"
         "ephemeral_included_mb = 512\nspot = 1\n";
    const auto p = scar::config::load_prices(path);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, "ConfigInvalid");
    const auto& m = p.error().message;
    const auto file = path.string();
    EXPECT_NE(m.find(file + ":4:24: lambda.requests_per_million: is negative"), std::string::npos) << m;
    EXPECT_NE(
        m.find(file + ":5:20: lambda.gb_second_x86_64: is a string (\"cheap\"); write a number"),
        std::string::npos
    ) << m;
    EXPECT_NE(m.find(file + ":9:1: lambda.spot: is not a key of the price table"), std::string::npos) << m;
    EXPECT_NE(m.find("misses the [batch] table"), std::string::npos) << m;
    std::filesystem::remove(path);

    const auto missing = scar::config::load_prices("/nonexistent/prices.toml");
    ASSERT_FALSE(missing);
    EXPECT_NE(
        missing.error().message.find("cannot read the price table '/nonexistent/prices.toml'"),
        std::string::npos
    );
}

}  // namespace
