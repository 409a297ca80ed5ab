#include "scar/s3/event.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

namespace {

namespace s3 = scar::s3;
using namespace std::chrono_literals;

// The sample put event of the AWS Lambda console ("s3-put" template; AWS docs, "Using AWS
// Lambda with Amazon S3"), whitespace as published.
constexpr std::string_view lambda_console_put = R"({
  "Records": [
    {
      "eventVersion": "2.0",
      "eventSource": "aws:s3",
      "awsRegion": "us-east-1",
      "eventTime": "1970-01-01T00:00:00.000Z",
      "eventName": "ObjectCreated:Put",
      "userIdentity": {
        "principalId": "EXAMPLE"
      },
      "requestParameters": {
        "sourceIPAddress": "127.0.0.1"
      },
      "responseElements": {
        "x-amz-request-id": "EXAMPLE123456789",
        "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH"
      },
      "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "testConfigRule",
        "bucket": {
          "name": "example-bucket",
          "ownerIdentity": {
            "principalId": "EXAMPLE"
          },
          "arn": "arn:aws:s3:::example-bucket"
        },
        "object": {
          "key": "test%2Fkey",
          "size": 1024,
          "eTag": "0123456789abcdef0123456789abcdef",
          "sequencer": "0A1B2C3D4E5F678901"
        }
      }
    }
  ]
})";

std::string compact(std::string_view json) {
    std::string out;
    bool in_string = false;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '"' && (i == 0 || json[i - 1] != '\\')) in_string = !in_string;
        if (!in_string && (c == ' ' || c == '\n')) continue;
        out.push_back(c);
    }
    return out;
}

TEST(EventJson, ReadsTheLambdaConsoleSample) {
    const auto b = s3::parse_event_json(lambda_console_put);
    ASSERT_TRUE(b) << b.error().what();
    ASSERT_EQ(b->records.size(), 1u);
    const auto& r = b->records[0];
    EXPECT_EQ(r.event_version, "2.0");
    EXPECT_EQ(r.event_source, "aws:s3");
    EXPECT_EQ(r.aws_region, "us-east-1");
    EXPECT_EQ(r.event_time, scar::clock::time_point{});
    EXPECT_EQ(r.event_name, "ObjectCreated:Put");
    EXPECT_EQ(r.principal_id, "EXAMPLE");
    EXPECT_EQ(r.source_ip, "127.0.0.1");
    EXPECT_EQ(r.request_id, "EXAMPLE123456789");
    EXPECT_EQ(r.id2, "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH");
    EXPECT_EQ(r.s3_schema_version, "1.0");
    EXPECT_EQ(r.configuration_id, "testConfigRule");
    EXPECT_EQ(r.bucket_name, "example-bucket");
    EXPECT_EQ(r.bucket_owner, "EXAMPLE");
    EXPECT_EQ(r.bucket_arn, "arn:aws:s3:::example-bucket");
    EXPECT_EQ(r.key, "test/key");  // decoded
    EXPECT_EQ(r.size, 1024u);
    EXPECT_EQ(r.etag, "0123456789abcdef0123456789abcdef");
    EXPECT_TRUE(r.version_id.empty());
    EXPECT_EQ(r.sequencer, "0A1B2C3D4E5F678901");
}

TEST(EventJson, WritesTheDocumentedStructureFieldForField) {
    // The structure of "Event message structure" (S3 user guide), version 2.1, in its order.
    s3::event_record r;
    r.aws_region = "us-west-2";
    r.event_time = s3::parse_event_time("2024-05-01T12:34:56.789Z").value();
    r.event_name = "ObjectCreated:Put";
    r.principal_id = "AWS:AIDAJDPLRKLG7UEXAMPLE";
    r.source_ip = "127.0.0.1";
    r.request_id = "C3D13FE58DE4C810";
    r.id2 = "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD";
    r.configuration_id = "testConfigRule";
    r.bucket_name = "amzn-s3-demo-bucket";
    r.bucket_owner = "A3NL1KOZZKExample";
    r.bucket_arn = "arn:aws:s3:::amzn-s3-demo-bucket";
    r.key = "HappyFace.jpg";
    r.size = 1024;
    r.etag = "d41d8cd98f00b204e9800998ecf8427e";
    r.version_id = "096fKKXTRTtl3on89fVO.nfljtsv6qko";
    r.sequencer = "0055AED6DCD90281E5";
    const std::string expected = compact(R"({"Records":[{
        "eventVersion":"2.1",
        "eventSource":"aws:s3",
        "awsRegion":"us-west-2",
        "eventTime":"2024-05-01T12:34:56.789Z",
        "eventName":"ObjectCreated:Put",
        "userIdentity":{"principalId":"AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters":{"sourceIPAddress":"127.0.0.1"},
        "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810",
            "x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3":{"s3SchemaVersion":"1.0","configurationId":"testConfigRule",
            "bucket":{"name":"amzn-s3-demo-bucket","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},
                      "arn":"arn:aws:s3:::amzn-s3-demo-bucket"},
            "object":{"key":"HappyFace.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e",
                      "versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko","sequencer":"0055AED6DCD90281E5"}}}]})");
    const s3::event_batch batch{{r}};
    EXPECT_EQ(s3::to_json(batch), expected);
    const auto back = s3::parse_event_json(s3::to_json(batch));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, batch);
}

TEST(EventJson, RemovedEventsHaveNoSizeOrETag) {
    s3::event_record r;
    r.event_name = "ObjectRemoved:Delete";
    r.key = "gone.txt";
    r.sequencer = "0055AED6DCD90281E6";
    const std::string json = s3::to_json(r);
    EXPECT_NE(json.find(R"("object":{"key":"gone.txt","sequencer":"0055AED6DCD90281E6"})"), std::string::npos)
        << json;
}

TEST(EventJson, KeysRoundTripThroughTheirEventForm) {
    for (const std::string key :
         {"a b/c+d.txt", "ünïcode/日本.txt", "100%/x?y#z", "a//b", "tab\tand\nnewline", "plain/key-1_2.3*"}) {
        s3::event_record r;
        r.key = key;
        const auto back = s3::parse_event_json(s3::to_json(s3::event_batch{{r}}));
        ASSERT_TRUE(back) << key;
        EXPECT_EQ(back->records.at(0).key, key);
    }
}

TEST(EventKey, EncodesAsS3Does) {
    EXPECT_EQ(s3::encode_event_key("images/my photo.jpg"), "images/my+photo.jpg");
    EXPECT_EQ(s3::encode_event_key("a+b"), "a%2Bb");
    EXPECT_EQ(s3::encode_event_key("ü"), "%C3%BC");
    EXPECT_EQ(s3::encode_event_key("x=1&y(2)"), "x%3D1%26y%282%29");
    EXPECT_EQ(s3::encode_event_key("a-b_c.d*e/f"), "a-b_c.d*e/f");
    EXPECT_EQ(s3::decode_event_key("images/my+photo.jpg"), "images/my photo.jpg");
    EXPECT_EQ(s3::decode_event_key("test%2Fkey"), "test/key");
    EXPECT_EQ(s3::decode_event_key("bad%zzescape%4"), "bad%zzescape%4");
}

TEST(EventJson, TolerantOfWhatOthersSend) {
    // eventVersion 2.3 extras, size as a string, time without milliseconds, "s3:" in the name.
    const auto b =
        s3::parse_event_json(R"({"Records":[{"eventVersion":"2.3","eventName":"s3:ObjectRestore:Delete",
        "eventTime":"2024-01-02T03:04:05Z","glacierEventData":{"restoreEventData":{}},
        "s3":{"object":{"key":"k","size":"42"}}}]})");
    ASSERT_TRUE(b) << b.error().what();
    const auto& r = b->records.at(0);
    EXPECT_EQ(r.event_name, "ObjectRestore:Delete");
    EXPECT_EQ(r.size, 42u);
    EXPECT_EQ(s3::format_event_time(r.event_time), "2024-01-02T03:04:05.000Z");
    EXPECT_TRUE(r.aws_region.empty());
    // S3's test message when a configuration is saved.
    const auto test = s3::parse_event_json(
        R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-01-01T00:00:00.000Z","Bucket":"b"})"
    );
    ASSERT_TRUE(test);
    EXPECT_TRUE(test->records.empty());
}

TEST(EventJson, MalformedEventsAreErrors) {
    for (const std::string bad :
         {"",
          "[]",
          "{\"Records\":{}}",
          "{\"Records\":[1]}",
          "{\"x\":1}",
          R"({"Records":[{"eventTime":"yesterday"}]})"}) {
        const auto b = s3::parse_event_json(bad);
        ASSERT_FALSE(b) << bad;
        EXPECT_EQ(b.error().code, "MalformedEvent") << bad;
    }
}

TEST(EventTime, FormatsAndParsesMilliseconds) {
    const auto t = s3::parse_event_time("2023-12-31T23:59:59.999Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(s3::format_event_time(*t), "2023-12-31T23:59:59.999Z");
    EXPECT_EQ(s3::format_event_time(*t + 1ms), "2024-01-01T00:00:00.000Z");
    EXPECT_EQ(s3::format_event_time(scar::clock::time_point{}), "1970-01-01T00:00:00.000Z");
    EXPECT_FALSE(s3::parse_event_time("2023-02-30T00:00:00Z"));
    EXPECT_FALSE(s3::parse_event_time("2023-01-01 00:00:00Z"));
    EXPECT_FALSE(s3::parse_event_time("2023-01-01T00:00:00"));
    EXPECT_TRUE(s3::parse_event_time("2023-01-01T00:00:00+00:00"));
    // A time_point holds nanoseconds in 64 bits, up to April 2262 (found by fuzzing:
    // later years overflowed).
    EXPECT_TRUE(s3::parse_event_time("2261-12-31T23:59:59Z"));
    EXPECT_FALSE(s3::parse_event_time("2262-01-01T00:00:00Z"));
    EXPECT_FALSE(s3::parse_event_time("9999-12-31T23:59:59Z"));
    EXPECT_FALSE(s3::parse_event_time("0000-01-01T00:00:00Z"));
    EXPECT_FALSE(s3::parse_event_time("1969-12-31T23:59:59Z"));
}

TEST(Sequencer, IncreasesEvenWhenTheClockStandsStill) {
    scar::manual_clock clock{scar::clock::time_point{} + 1'700'000'000s};
    s3::sequencer_source seq(clock);
    std::string prev = seq.next();
    EXPECT_EQ(prev.size(), 16u);
    EXPECT_TRUE(std::all_of(prev.begin(), prev.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    }));
    for (int i = 0; i < 100; ++i) {
        if (i == 50) clock.advance(-1h);  // the wall clock goes back
        const std::string next = seq.next();
        EXPECT_LT(s3::compare_sequencers(prev, next), 0) << prev << " " << next;
        prev = next;
    }
}

TEST(Sequencer, UniqueAcrossThreads) {
    s3::sequencer_source seq;
    std::vector<std::vector<std::string>> made(4);
    std::vector<std::thread> threads;
    for (auto& m : made) {
        threads.emplace_back([&seq, &m] {
            for (int i = 0; i < 1000; ++i) m.push_back(seq.next());
        });
    }
    for (auto& t : threads) t.join();
    std::set<std::string> all;
    for (const auto& m : made) {
        EXPECT_TRUE(std::is_sorted(m.begin(), m.end()));
        all.insert(m.begin(), m.end());
    }
    EXPECT_EQ(all.size(), 4000u);
}

TEST(Sequencer, ComparesAsAwsDocuments) {
    EXPECT_EQ(s3::compare_sequencers("0A1B", "0A1B00"), 0);  // right-padded with zeros
    EXPECT_LT(s3::compare_sequencers("0A1B", "0A1B01"), 0);
    EXPECT_GT(s3::compare_sequencers("0B", "0A1B2C"), 0);
}

}  // namespace
