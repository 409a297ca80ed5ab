// The emulator's CloudWatch Logs through the aws CLI: groups, streams, events, retention,
// filtering, and state that survives a restart.

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace json = boost::json;
using scar::testing::aws;

class Logs : public ::testing::Test {
protected:
    void SetUp() override {
        if (!scar::testing::have_aws_cli()) GTEST_SKIP() << "/usr/bin/aws missing: run scripts/setup.sh";
        emu_ = std::make_unique<scar::testing::emulator_process>(dir_.path());
    }

    json::value ok(std::vector<std::string> args) {
        args.insert(args.begin(), "logs");
        const auto r = aws(emu_->url(), args);
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return r.out.empty() ? json::value() : json::parse(r.out);
    }

    scar::testing::temp_dir dir_{"scar-logs"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
};

TEST_F(Logs, GroupsStreamsEventsAndFiltering) {
    const std::string g = "/aws/lambda/grayify";
    ok({"create-log-group", "--log-group-name", g});
    const auto dup = aws(emu_->url(), {"logs", "create-log-group", "--log-group-name", g});
    EXPECT_NE(dup.err.find("ResourceAlreadyExistsException"), std::string::npos) << dup.err;
    ok({"create-log-stream", "--log-group-name", g, "--log-stream-name", "2026/11/23/[$LATEST]abc"});
    const auto now = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch()
    )
                                        .count());
    ok({"put-log-events",
        "--log-group-name",
        g,
        "--log-stream-name",
        "2026/11/23/[$LATEST]abc",
        "--log-events",
        "timestamp=" + now + ",message=START RequestId: 1",
        "timestamp=" + now + ",message=converting cat.jpg",
        "timestamp=" + now + ",message=END RequestId: 1"});
    const auto got =
        ok({"get-log-events", "--log-group-name", g, "--log-stream-name", "2026/11/23/[$LATEST]abc"});
    ASSERT_EQ(got.at("events").as_array().size(), 3u);
    EXPECT_EQ(got.at("events").as_array()[1].at("message"), "converting cat.jpg");
    const auto filtered =
        ok({"filter-log-events", "--log-group-name", g, "--filter-pattern", "\"RequestId: 1\""});
    EXPECT_EQ(filtered.at("events").as_array().size(), 2u);
    const auto groups = ok({"describe-log-groups", "--log-group-name-prefix", "/aws/lambda/"});
    ASSERT_EQ(groups.at("logGroups").as_array().size(), 1u);
    ok({"put-retention-policy", "--log-group-name", g, "--retention-in-days", "7"});
    const auto bad =
        aws(emu_->url(), {"logs", "put-retention-policy", "--log-group-name", g, "--retention-in-days", "8"});
    EXPECT_NE(bad.err.find("InvalidParameterException"), std::string::npos) << bad.err;
    const auto streams =
        ok({"describe-log-streams", "--log-group-name", g, "--order-by", "LastEventTime", "--descending"});
    EXPECT_EQ(streams.at("logStreams").as_array()[0].at("logStreamName"), "2026/11/23/[$LATEST]abc");

    // Everything survives a restart.
    emu_.reset();
    emu_ = std::make_unique<scar::testing::emulator_process>(dir_.path());
    const auto again =
        ok({"get-log-events", "--log-group-name", g, "--log-stream-name", "2026/11/23/[$LATEST]abc"});
    EXPECT_EQ(again.at("events").as_array().size(), 3u);
    EXPECT_EQ(
        ok({"describe-log-groups"}).at("logGroups").as_array()[0].at("retentionInDays").to_number<int>(),
        7
    );

    ok({"delete-log-group", "--log-group-name", g});
    const auto gone =
        aws(emu_->url(), {"logs", "get-log-events", "--log-group-name", g, "--log-stream-name", "x"});
    EXPECT_NE(gone.err.find("ResourceNotFoundException"), std::string::npos) << gone.err;
}

}  // namespace
