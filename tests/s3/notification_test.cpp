#include "scar/s3/notification.hpp"

#include <gtest/gtest.h>

namespace {

namespace s3 = scar::s3;

constexpr std::string_view lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:f";

std::string wrap(std::string_view inner) {
    return R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)" +
           std::string(inner) + "</NotificationConfiguration>";
}

std::string lambda_config(std::string_view id, std::string_view events, std::string_view filter = {}) {
    return "<LambdaFunctionConfiguration><Id>" + std::string(id) + "</Id><LambdaFunctionArn>" +
           std::string(lambda_arn) + "</LambdaFunctionArn>" + std::string(events) + std::string(filter) +
           "</LambdaFunctionConfiguration>";
}

std::string filter(std::string_view prefix, std::string_view suffix) {
    std::string f = "<Filter><S3Key>";
    if (!prefix.empty())
        f += "<FilterRule><Name>prefix</Name><Value>" + std::string(prefix) + "</Value></FilterRule>";
    if (!suffix.empty())
        f += "<FilterRule><Name>suffix</Name><Value>" + std::string(suffix) + "</Value></FilterRule>";
    return f + "</S3Key></Filter>";
}

scar::result<void> parse_and_validate(const std::string& xml) {
    auto c = s3::parse_notification_xml(xml);
    if (!c) return c.error();
    return s3::validate(*c);
}

TEST(NotificationXml, ParsesLambdaFunctionConfigurationWithFilters) {
    const auto c = s3::parse_notification_xml(wrap(lambda_config(
        "in",
        "<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:Delete</Event>",
        "<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>input/</Value></FilterRule>"
        "<FilterRule><Name>SUFFIX</Name><Value>.jpg</Value></FilterRule></S3Key></Filter>"
    )));
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_EQ(c->lambda.size(), 1u);
    const auto& r = c->lambda[0];
    EXPECT_EQ(r.id, "in");
    EXPECT_EQ(r.function_arn, lambda_arn);
    EXPECT_EQ(r.events, (std::vector<std::string>{"s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"}));
    EXPECT_EQ(r.prefix, "input/");
    EXPECT_EQ(r.suffix, ".jpg");
    EXPECT_TRUE(s3::validate(*c));
}

TEST(NotificationXml, ParsesTheOldCloudFunctionForms) {
    // CloudFunctionConfiguration with CloudFunction (what GET returns), and the new element
    // with the old ARN element, without a namespace.
    const auto c = s3::parse_notification_xml(
        "<NotificationConfiguration>"
        "<CloudFunctionConfiguration><Id>a</Id><CloudFunction>arn:aws:lambda:us-east-1:1:function:a</"
        "CloudFunction>"
        "<Event>s3:ObjectCreated:Put</Event></CloudFunctionConfiguration>"
        "<LambdaFunctionConfiguration><Id>b</Id><CloudFunction>arn:aws:lambda:us-east-1:1:function:b</"
        "CloudFunction>"
        "<Event>s3:ObjectRemoved:*</Event></LambdaFunctionConfiguration>"
        "</NotificationConfiguration>"
    );
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_EQ(c->lambda.size(), 2u);
    EXPECT_EQ(c->lambda[0].function_arn, "arn:aws:lambda:us-east-1:1:function:a");
    EXPECT_EQ(c->lambda[1].function_arn, "arn:aws:lambda:us-east-1:1:function:b");
    EXPECT_TRUE(s3::validate(*c));
}

TEST(NotificationXml, QueueTopicAndEventBridgeSurviveARoundTrip) {
    const auto c = s3::parse_notification_xml(wrap(
        "<QueueConfiguration><Id>q</Id><QueueArn>arn:aws:sqs:us-east-1:1:q</QueueArn>"
        "<Event>s3:ObjectCreated:Put</Event>" +
        filter("q/", "") +
        "</QueueConfiguration>"
        "<TopicConfiguration><Id>t</Id><TopicArn>arn:aws:sns:us-east-1:1:t</TopicArn>"
        "<Event>s3:ObjectCreated:Put</Event>" +
        filter("t/", "") + "</TopicConfiguration>" +
        lambda_config("l", "<Event>s3:ObjectCreated:Put</Event>", filter("l/", ".txt &amp; &lt;more&gt;")) +
        "<EventBridgeConfiguration/>"
    ));
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->queues.size(), 1u);
    EXPECT_EQ(c->topics.size(), 1u);
    EXPECT_TRUE(c->event_bridge);
    EXPECT_TRUE(s3::validate(*c)) << s3::validate(*c).error().what();
    const std::string xml = s3::to_xml(*c);
    const auto again = s3::parse_notification_xml(xml);
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_EQ(*again, *c);
    EXPECT_EQ(s3::to_xml(*again), xml);
}

TEST(NotificationXml, WritesWhatGetBucketNotificationConfigurationReturns) {
    s3::notification_config c;
    c.lambda.push_back({"id1", std::string(lambda_arn), {"s3:ObjectCreated:*"}, "in/", ".csv"});
    EXPECT_EQ(
        s3::to_xml(c),
        R"(<?xml version="1.0" encoding="UTF-8"?>)"
        R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        "<CloudFunctionConfiguration><Id>id1</Id>"
        "<CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:f</CloudFunction>"
        "<Event>s3:ObjectCreated:*</Event>"
        "<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>in/</Value></FilterRule>"
        "<FilterRule><Name>Suffix</Name><Value>.csv</Value></FilterRule></S3Key></Filter>"
        "</CloudFunctionConfiguration></NotificationConfiguration>"
    );
    EXPECT_EQ(
        s3::to_xml(s3::notification_config{}),
        R"(<?xml version="1.0" encoding="UTF-8"?><NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></NotificationConfiguration>)"
    );
}

TEST(NotificationXml, EmptyConfigurationTurnsNotificationsOff) {
    const auto c = s3::parse_notification_xml("<NotificationConfiguration/>");
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->empty());
    EXPECT_TRUE(s3::validate(*c));
}

TEST(NotificationXml, MalformedDocumentsAreMalformedXml) {
    for (const std::string bad : {"", "<NotificationConfiguration>", "<Other/>", "not xml"}) {
        const auto c = s3::parse_notification_xml(bad);
        ASSERT_FALSE(c) << bad;
        EXPECT_EQ(c.error().code, "MalformedXML") << bad;
        EXPECT_EQ(c.error().http_status, 400);
    }
    const auto c = s3::parse_notification_xml(wrap("<Unknown/>"));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, "MalformedXML");
    EXPECT_NE(c.error().message.find("Unknown"), std::string::npos);
}

TEST(NotificationValidate, UnknownEventIsUnsupported) {
    const auto r = parse_and_validate(wrap(lambda_config("a", "<Event>s3:ObjectCreated:Upload</Event>")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "InvalidArgument");
    EXPECT_NE(r.error().message.find("The event is not supported for notifications"), std::string::npos);
    EXPECT_NE(r.error().message.find("s3:ObjectCreated:Upload"), std::string::npos);
    // Event names are case-sensitive, and the "s3:" prefix is required.
    EXPECT_FALSE(parse_and_validate(wrap(lambda_config("a", "<Event>s3:objectcreated:*</Event>"))));
    EXPECT_FALSE(parse_and_validate(wrap(lambda_config("a", "<Event>ObjectCreated:*</Event>"))));
}

TEST(NotificationValidate, EventsAndArnAreRequired) {
    auto r = parse_and_validate(wrap(lambda_config("a", "")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "InvalidArgument");
    r = parse_and_validate(
        wrap("<LambdaFunctionConfiguration><LambdaFunctionArn>myfunction</LambdaFunctionArn>"
             "<Event>s3:ObjectCreated:*</Event></LambdaFunctionConfiguration>")
    );
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("ARN"), std::string::npos);
}

TEST(NotificationValidate, BadAndDuplicateFilterRuleNames) {
    auto r = parse_and_validate(wrap(lambda_config(
        "a",
        "<Event>s3:ObjectCreated:*</Event>",
        "<Filter><S3Key><FilterRule><Name>middle</Name><Value>x</Value></FilterRule></S3Key></Filter>"
    )));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "InvalidArgument");
    EXPECT_NE(r.error().message.find("filter rule name must be either prefix or suffix"), std::string::npos);
    r = parse_and_validate(wrap(lambda_config(
        "a",
        "<Event>s3:ObjectCreated:*</Event>",
        "<Filter><S3Key><FilterRule><Name>prefix</Name><Value>x</Value></FilterRule>"
        "<FilterRule><Name>Prefix</Name><Value>y</Value></FilterRule></S3Key></Filter>"
    )));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "InvalidArgument");
    EXPECT_NE(
        r.error().message.find("Cannot specify more than one prefix rule in a filter."),
        std::string::npos
    );
}

struct overlap_case {
    const char* events_a;
    const char* prefix_a;
    const char* suffix_a;
    const char* events_b;
    const char* prefix_b;
    const char* suffix_b;
    bool ambiguous;
};

class NotificationOverlap : public ::testing::TestWithParam<overlap_case> {};

TEST_P(NotificationOverlap, AsS3Decides) {
    const auto& p = GetParam();
    const auto r = parse_and_validate(wrap(
        lambda_config("a", p.events_a, filter(p.prefix_a, p.suffix_a)) +
        lambda_config("b", p.events_b, filter(p.prefix_b, p.suffix_b))
    ));
    if (p.ambiguous) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, "InvalidArgument");
        EXPECT_NE(
            r.error().message.find(
                "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the "
                "prefixes are overlapping for the same event type."
            ),
            std::string::npos
        );
    } else {
        EXPECT_TRUE(r) << r.error().what();
    }
}

constexpr const char* put = "<Event>s3:ObjectCreated:Put</Event>";
constexpr const char* created = "<Event>s3:ObjectCreated:*</Event>";
constexpr const char* removed = "<Event>s3:ObjectRemoved:*</Event>";

INSTANTIATE_TEST_SUITE_P(
    Cases,
    NotificationOverlap,
    ::testing::Values(
        overlap_case{put, "", "", put, "", "", true},                     // no filters at all
        overlap_case{put, "images/", "", put, "images/", "", true},       // same prefix
        overlap_case{put, "images/", "", put, "images/cats/", "", true},  // nested prefixes
        overlap_case{created, "a/", "", put, "a/", "", true},             // wildcard covers Put
        overlap_case{put, "images/", ".jpg", put, "", ".jpg", true},      // empty prefix overlaps all
        overlap_case{put, "a/", ".jpg", put, "a/", "photo.jpg", true},    // nested suffixes
        overlap_case{put, "images/", "", put, "logs/", "", false},        // disjoint prefixes
        overlap_case{put, "a/", ".jpg", put, "a/", ".png", false},        // disjoint suffixes
        overlap_case{put, "a/", "", removed, "a/", "", false},            // different event types
        overlap_case{
            "<Event>s3:ObjectCreated:Put</Event>",
            "",
            "",
            "<Event>s3:ObjectCreated:Copy</Event>",
            "",
            "",
            false}  // different Created types
    ),
    [](const ::testing::TestParamInfo<overlap_case>& p) { return "case" + std::to_string(p.index); }
);

TEST(NotificationValidate, OverlapAcrossDestinationKinds) {
    const auto r = parse_and_validate(wrap(
        lambda_config("l", put) + "<QueueConfiguration><Id>q</Id><Queue>arn:aws:sqs:us-east-1:1:q</Queue>" +
        put + "</QueueConfiguration>"
    ));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "InvalidArgument");
}

TEST(NotificationValidate, DuplicateIdsAreRefused) {
    const auto r = parse_and_validate(
        wrap(lambda_config("x", put, filter("a/", "")) + lambda_config("x", put, filter("b/", "")))
    );
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "InvalidArgument");
}

TEST(NotificationIds, MissingIdsAreAssignedAndUnique) {
    auto c = s3::parse_notification_xml(wrap(
        "<LambdaFunctionConfiguration><LambdaFunctionArn>arn:aws:lambda:us-east-1:1:function:f</"
        "LambdaFunctionArn>" +
        std::string(put) + filter("a/", "") +
        "</LambdaFunctionConfiguration>"
        "<LambdaFunctionConfiguration><LambdaFunctionArn>arn:aws:lambda:us-east-1:1:function:f</"
        "LambdaFunctionArn>" +
        put + filter("b/", "") + "</LambdaFunctionConfiguration>"
    ));
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->lambda[0].id.empty());
    s3::assign_missing_ids(*c);
    EXPECT_FALSE(c->lambda[0].id.empty());
    EXPECT_NE(c->lambda[0].id, c->lambda[1].id);
    EXPECT_TRUE(s3::validate(*c));
}

TEST(NotificationMatch, EventWildcards) {
    EXPECT_TRUE(s3::event_matches("s3:ObjectCreated:*", "ObjectCreated:Put"));
    EXPECT_TRUE(s3::event_matches("s3:ObjectCreated:*", "s3:ObjectCreated:CompleteMultipartUpload"));
    EXPECT_TRUE(s3::event_matches("s3:ObjectCreated:Put", "ObjectCreated:Put"));
    EXPECT_FALSE(s3::event_matches("s3:ObjectCreated:Put", "ObjectCreated:Copy"));
    EXPECT_FALSE(s3::event_matches("s3:ObjectCreated:*", "ObjectRemoved:Delete"));
    EXPECT_TRUE(s3::event_matches("s3:ObjectRemoved:*", "ObjectRemoved:DeleteMarkerCreated"));
}

TEST(NotificationMatch, PrefixAndSuffixSelectExactlyTheRightKeys) {
    const s3::notification_rule r{"r", std::string(lambda_arn), {"s3:ObjectCreated:*"}, "input/", ".jpg"};
    EXPECT_TRUE(s3::matches(r, "ObjectCreated:Put", "input/cat.jpg"));
    EXPECT_TRUE(s3::matches(r, "ObjectCreated:CompleteMultipartUpload", "input/deep/dir/x.jpg"));
    EXPECT_FALSE(s3::matches(r, "ObjectRemoved:Delete", "input/cat.jpg"));
    EXPECT_FALSE(s3::matches(r, "ObjectCreated:Put", "output/cat.jpg"));
    EXPECT_FALSE(s3::matches(r, "ObjectCreated:Put", "input/cat.jpeg"));
    EXPECT_FALSE(s3::matches(r, "ObjectCreated:Put", "Input/cat.jpg"));  // case matters
    EXPECT_FALSE(s3::matches(r, "ObjectCreated:Put", "x/input/cat.jpg"));
    const s3::notification_rule all{"all", std::string(lambda_arn), {"s3:ObjectCreated:Put"}, "", ""};
    EXPECT_TRUE(s3::matches(all, "ObjectCreated:Put", "anything at all"));
}

TEST(NotificationMatch, FiltersCompareTheEventFormOfTheKey) {
    // S3 documents that a space in a filter value is written '+' and other special
    // characters percent-encoded: filters apply to the key as events carry it.
    const s3::notification_rule spaced{"s", std::string(lambda_arn), {"s3:ObjectCreated:*"}, "my+dir/", ""};
    EXPECT_TRUE(s3::matches(spaced, "ObjectCreated:Put", "my dir/file"));
    const s3::notification_rule unicode{
        "u",
        std::string(lambda_arn),
        {"s3:ObjectCreated:*"},
        "",
        "%C3%BC.txt"};
    EXPECT_TRUE(s3::matches(unicode, "ObjectCreated:Put", "a/\xC3\xBC.txt"));
    const s3::destination_rule q{"q", "arn:aws:sqs:us-east-1:1:q", {"s3:ObjectCreated:*"}, "a/", ""};
    EXPECT_TRUE(s3::matches(q, "ObjectCreated:Put", "a/b"));
    EXPECT_FALSE(s3::matches(q, "ObjectCreated:Put", "b/a"));
}

}  // namespace
