// Recorded events (tests/supervisor/data) through parse_event.

#include "scar/supervisor/event.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace {

namespace sv = scar::supervisor;

std::string data(const std::string& name) {
    std::ifstream in(std::string(SCAR_SOURCE_DIR) + "/tests/supervisor/data/" + name, std::ios::binary);
    EXPECT_TRUE(in) << name;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Event, S3NotificationNamesTheDecodedObject) {
    const auto ev = sv::parse_event(data("s3_put.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::storage);
    ASSERT_TRUE(ev.object);
    EXPECT_EQ(ev.object->bucket, "in-bucket");
    EXPECT_EQ(ev.object->key, "photos/my cat\xC3\xBC.jpg");
    EXPECT_EQ(ev.object->region, "us-east-1");
    EXPECT_EQ(ev.object->size, 1024U);
    EXPECT_EQ(ev.object->source, "aws:s3");
    EXPECT_TRUE(ev.object->provider.empty());
    EXPECT_EQ(ev.time, "2024-05-01T12:00:00.123Z");
    EXPECT_FALSE(ev.body);
}

TEST(Event, MinioNotificationIsAStorageEvent) {
    const auto ev = sv::parse_event(data("minio_put.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::storage);
    EXPECT_EQ(ev.object->source, "minio:s3");
    EXPECT_EQ(ev.object->bucket, "in");
    EXPECT_EQ(ev.object->key, "a.txt");
}

TEST(Event, DelegatedEventUsesItsProvider) {
    const auto ev = sv::parse_event(data("delegated.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::storage);
    EXPECT_EQ(ev.object->provider, "minio.oscar");
    EXPECT_EQ(ev.object->key, "a.txt");
}

TEST(Event, ApiGatewayV1QueryParametersAndNoBody) {
    const auto ev = sv::parse_event(data("apigw_v1_get.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::api_gateway);
    EXPECT_EQ(ev.api_version, 1);
    ASSERT_EQ(ev.query.size(), 3U);
    EXPECT_EQ(ev.query[0], (std::pair<std::string, std::string>{"size", "200"}));
    EXPECT_EQ(ev.query[1], (std::pair<std::string, std::string>{"color", "red"}));
    EXPECT_EQ(ev.query[2].first, "bad-name.x");
    EXPECT_FALSE(ev.body);
    EXPECT_FALSE(ev.object);
    EXPECT_EQ(ev.time, "2024-05-01T12:00:00.000Z");
}

TEST(Event, ApiGatewayTimeOutsideWhatAClockHoldsIsLeftOut) {
    // Found by fuzzing: a requestTimeEpoch past 2262 overflowed.
    for (const char* epoch : {"1e300", "-5", "17145614800000000", "\"x\""}) {
        const auto ev =
            sv::parse_event(
                std::string(R"({"httpMethod":"GET","path":"/","requestContext":{"requestTimeEpoch":)") +
                epoch + "}}"
            )
                .value();
        EXPECT_EQ(ev.kind, sv::event_kind::api_gateway) << epoch;
        EXPECT_EQ(ev.time, "") << epoch;
    }
}

TEST(Event, ApiGatewayV1BinaryBodyIsDecoded) {
    const auto ev = sv::parse_event(data("apigw_v1_binary.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::api_gateway);
    ASSERT_TRUE(ev.body);
    EXPECT_EQ(*ev.body, std::string("\x00\x01\x02\xfd\xfe\xff", 6));
    EXPECT_TRUE(ev.query.empty());
}

TEST(Event, ApiGatewayV2TextBodyAndJoinedQuery) {
    const auto ev = sv::parse_event(data("apigw_v2_post.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::api_gateway);
    EXPECT_EQ(ev.api_version, 2);
    ASSERT_EQ(ev.query.size(), 2U);
    EXPECT_EQ(ev.query[0].second, "1,2");
    EXPECT_EQ(*ev.body, "hello text body");
    EXPECT_EQ(ev.time, "2024-05-01T12:00:00.500Z");
}

TEST(Event, ApiGatewayBodyHoldingAStorageEvent) {
    const auto ev = sv::parse_event(data("apigw_v1_storage_body.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::api_gateway);
    ASSERT_TRUE(ev.object);
    EXPECT_EQ(ev.object->bucket, "b");
    EXPECT_EQ(ev.object->key, "dir/x.txt");
    EXPECT_FALSE(ev.body);
}

TEST(Event, ApiGatewayBodyScriptIsNotRun) {
    const auto ev = sv::parse_event(data("apigw_v1_script_body.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::api_gateway);
    EXPECT_TRUE(ev.script.empty());
    ASSERT_TRUE(ev.body);
    EXPECT_EQ(*ev.body, R"({"script":"ZWNobyBwd25lZAo="})");
}

TEST(Event, DirectScriptIsDecoded) {
    const auto ev = sv::parse_event(data("direct_script.json")).value();
    EXPECT_EQ(ev.kind, sv::event_kind::script);
    EXPECT_EQ(ev.script, "echo \"hello from script\"\n");
    EXPECT_FALSE(ev.body);
}

TEST(Event, CmdArgsAsJsonStringOrList) {
    const auto s = sv::parse_event(data("direct_cmd_args_string.json")).value();
    EXPECT_EQ(s.kind, sv::event_kind::command);
    EXPECT_EQ(s.cmd_args, (std::vector<std::string>{"-c", "echo from cmd_args"}));
    const auto l = sv::parse_event(data("direct_cmd_args_list.json")).value();
    EXPECT_EQ(l.cmd_args, (std::vector<std::string>{"lambda", "list-functions"}));
}

TEST(Event, AnythingElseIsAPayloadFile) {
    const auto obj = sv::parse_event(R"({"n": 1})").value();
    EXPECT_EQ(obj.kind, sv::event_kind::payload);
    EXPECT_EQ(*obj.body, R"({"n": 1})");
    const auto text = sv::parse_event("not json at all").value();
    EXPECT_EQ(*text.body, "not json at all");
    const auto empty = sv::parse_event("  \n").value();
    EXPECT_EQ(empty.kind, sv::event_kind::payload);
    EXPECT_FALSE(empty.body);
    // S3's test message is not an object to fetch.
    const auto test = sv::parse_event(R"({"Service":"Amazon S3","Event":"s3:TestEvent"})").value();
    EXPECT_EQ(test.kind, sv::event_kind::payload);
}

TEST(Event, BadFieldsAreNamed) {
    const auto bad_script = sv::parse_event(R"({"script":"not base64!"})");
    ASSERT_FALSE(bad_script);
    EXPECT_EQ(bad_script.error().code, "InvalidEvent");
    EXPECT_NE(bad_script.error().message.find("'script' is not valid base64"), std::string::npos);
    const auto bad_args = sv::parse_event(R"({"cmd_args":[1,2]})");
    ASSERT_FALSE(bad_args);
    EXPECT_NE(bad_args.error().message.find("not a string"), std::string::npos);
    const auto both = sv::parse_event(R"({"script":"ZQ==","cmd_args":[]})");
    ASSERT_FALSE(both);
    EXPECT_NE(both.error().message.find("both 'script' and 'cmd_args'"), std::string::npos);
    const auto body = sv::parse_event(R"({"httpMethod":"POST","body":"%%%","isBase64Encoded":true})");
    ASSERT_FALSE(body);
    EXPECT_NE(body.error().message.find("binaryMediaTypes"), std::string::npos);
    const auto records = sv::parse_event(R"({"Records":[{"eventSource":"aws:s3","eventTime":"yesterday"}]})");
    ASSERT_FALSE(records);
    EXPECT_EQ(records.error().code, "InvalidEvent");
}

}  // namespace
