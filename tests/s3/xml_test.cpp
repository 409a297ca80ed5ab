// The request bodies: what the client writes, the emulator reads back the same.

#include <scar/s3/xml.hpp>

#include <gtest/gtest.h>

namespace {

namespace xml = scar::s3::xml;

TEST(S3Xml, CompleteMultipartUploadRoundTrips) {
    const std::vector<scar::s3::completed_part> parts = {{1, "\"a1\""}, {2, "\"b&<2\""}, {10000, "\"z\""}};
    const auto body = xml::complete_multipart_upload(parts);
    auto back = xml::parse_complete_multipart_upload(body);
    ASSERT_TRUE(back) << back.error().what();
    EXPECT_EQ(*back, parts);
}

TEST(S3Xml, CompleteMultipartUploadRefusesBadPartNumbers) {
    for (const char* number : {"0", "10001", "-1", "1x", "", "99999999999999999999"}) {
        const std::string body = std::string("<CompleteMultipartUpload><Part><PartNumber>") + number +
                                 "</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>";
        auto parsed = xml::parse_complete_multipart_upload(body);
        ASSERT_FALSE(parsed) << number;
        EXPECT_EQ(parsed.error().code, "MalformedXML");
        EXPECT_EQ(parsed.error().http_status, 400);
        EXPECT_NE(parsed.error().message.find("PartNumber '" + std::string(number) + "'"), std::string::npos)
            << parsed.error().message;
    }
}

TEST(S3Xml, WrongRootOrNotXmlIsMalformedAndSaysWhy) {
    auto wrong = xml::parse_complete_multipart_upload("<Delete/>");
    ASSERT_FALSE(wrong);
    EXPECT_NE(
        wrong.error().message.find("must be a <CompleteMultipartUpload> element, not <Delete>"),
        std::string::npos
    );
    auto broken = xml::parse_delete_objects("<Delete><Object>");
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().code, "MalformedXML");
    EXPECT_NE(broken.error().message.find("not XML"), std::string::npos);
    EXPECT_FALSE(xml::parse_tagging(""));
}

TEST(S3Xml, DeleteObjectsRoundTripsKeysWithControlCharactersAndQuiet) {
    const xml::delete_request want{{"a", "dir/b c", "new\nline\r\ttab", "&<>\"'"}, true};
    auto back = xml::parse_delete_objects(xml::delete_objects(want));
    ASSERT_TRUE(back) << back.error().what();
    EXPECT_EQ(*back, want);
    auto loud = xml::parse_delete_objects(xml::delete_objects({{"k"}, false}));
    ASSERT_TRUE(loud);
    EXPECT_FALSE(loud->quiet);
}

TEST(S3Xml, DeleteObjectsRefusesMoreThanAThousandKeys) {
    xml::delete_request many;
    for (int i = 0; i < 1001; ++i) many.keys.push_back("k" + std::to_string(i));
    auto parsed = xml::parse_delete_objects(xml::delete_objects(many));
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message.find("at most 1000"), std::string::npos);
    many.keys.pop_back();
    EXPECT_TRUE(xml::parse_delete_objects(xml::delete_objects(many)));
}

TEST(S3Xml, TaggingInDocumentOrder) {
    auto tags = xml::parse_tagging(
        "<Tagging><TagSet><Tag><Key>b</Key><Value>2</Value></Tag><Tag><Key>a</Key><Value></Value></Tag>"
        "</TagSet></Tagging>"
    );
    ASSERT_TRUE(tags);
    ASSERT_EQ(tags->size(), 2u);
    EXPECT_EQ((*tags)[0], (std::pair<std::string, std::string>{"b", "2"}));
    EXPECT_EQ((*tags)[1], (std::pair<std::string, std::string>{"a", ""}));
}

TEST(S3Xml, CreateBucketConfiguration) {
    auto region = xml::parse_create_bucket_configuration(xml::create_bucket_configuration("eu-west-1"));
    ASSERT_TRUE(region);
    EXPECT_EQ(region->value_or(""), "eu-west-1");
    auto none = xml::parse_create_bucket_configuration(" \n");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    auto empty = xml::parse_create_bucket_configuration("<CreateBucketConfiguration/>");
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->has_value());
    EXPECT_FALSE(xml::parse_create_bucket_configuration("junk"));
}

}  // namespace
