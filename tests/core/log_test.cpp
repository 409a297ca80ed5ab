#include "scar/core/log.hpp"

#include <gtest/gtest.h>

namespace {

namespace log = scar::log;

TEST(Log, ParsesLevelNames) {
    EXPECT_EQ(log::parse_level("trace"), log::level::trace);
    EXPECT_EQ(log::parse_level("DEBUG"), log::level::debug);
    EXPECT_EQ(log::parse_level("Warning"), log::level::warn);
    EXPECT_EQ(log::parse_level("off"), log::level::off);
    EXPECT_FALSE(log::parse_level("loud").has_value());
}

TEST(Log, ThresholdDecidesWhatIsWritten) {
    const auto before = log::current_level();
    log::set_level(log::level::warn);
    EXPECT_FALSE(log::enabled(log::level::info));
    EXPECT_TRUE(log::enabled(log::level::error));
    testing::internal::CaptureStderr();
    log::warn("disk ", 93, "% full");
    log::info("not shown");
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("warn  disk 93% full\n"), std::string::npos);
    EXPECT_EQ(err.find("not shown"), std::string::npos);
    log::set_level(before);
}

}  // namespace
