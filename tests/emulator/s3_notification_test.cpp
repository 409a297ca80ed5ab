// Bucket notifications: configurations validated as S3 does, and one eventVersion 2.1
// record per matching change, field for field. The emulator runs in-process so the test
// observes its notification sink directly.

#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/emulator/server.hpp>
#include <scar/testing/emulator_process.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <mutex>
#include <regex>

namespace {

namespace http = scar::http;
namespace json = boost::json;

constexpr std::string_view arn = "arn:aws:lambda:us-east-1:000000000000:function:grayify";

class S3Notifications : public ::testing::Test {
protected:
    void SetUp() override {
        scar::emulator::options o;
        o.port = 0;
        o.data_dir = dir_.path();
        o.fsync = false;
        server_ = std::make_unique<scar::emulator::server>(o);
        server_->on_s3_notification([this](const scar::emulator::s3_notification& n) {
            const std::lock_guard lock(mutex_);
            got_.push_back(n);
        });
        server_->start().value();
        ASSERT_EQ(send("PUT", "/photos").status, 200);
    }

    http::response send(std::string method, const std::string& path, std::string body = {}) {
        http::request req;
        req.method = std::move(method);
        req.url = server_->endpoint() + path;
        req.body = std::move(body);
        scar::testing::sign_for_emulator(req, "s3");
        return client_.send(req).value();
    }

    std::string configure(const std::string& rules) {
        const auto r = send(
            "PUT",
            "/photos?notification",
            R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)" + rules +
                "</NotificationConfiguration>"
        );
        return r.status == 200 ? "" : r.body;
    }

    static std::string rule(std::string id, std::string events, std::string filter = {}) {
        return "<CloudFunctionConfiguration><Id>" + id + "</Id><CloudFunction>" + std::string(arn) +
               "</CloudFunction>" + events +
               (filter.empty() ? "" : "<Filter><S3Key>" + filter + "</S3Key></Filter>") +
               "</CloudFunctionConfiguration>";
    }

    std::vector<scar::emulator::s3_notification> take() {
        const std::lock_guard lock(mutex_);
        return std::exchange(got_, {});
    }

    scar::testing::temp_dir dir_{"scar-notify"};
    std::unique_ptr<scar::emulator::server> server_;
    http::client client_;
    std::mutex mutex_;
    std::vector<scar::emulator::s3_notification> got_;
};

TEST_F(S3Notifications, FiltersSelectExactlyTheRightKeysOneEventPerChange) {
    ASSERT_EQ(
        configure(rule(
            "to-grayify",
            "<Event>s3:ObjectCreated:*</Event>",
            "<FilterRule><Name>prefix</Name><Value>input/</Value></FilterRule>"
            "<FilterRule><Name>Suffix</Name><Value>.jpg</Value></FilterRule>"
        )),
        ""
    );
    for (const std::string key :
         {"input/a.jpg",
          "input/b.png",
          "output/c.jpg",
          "input/sub/d.jpg",
          "input.jpg",
          "input/my photo.jpg"}) {
        ASSERT_EQ(send("PUT", "/photos/" + scar::encoding::uri_encode(key, true), "x").status, 200);
    }
    ASSERT_EQ(send("DELETE", "/photos/input/a.jpg").status, 204);  // not an ObjectCreated event
    const auto got = take();
    std::vector<std::string> keys;
    for (const auto& n : got) keys.push_back(n.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"input/a.jpg", "input/sub/d.jpg", "input/my photo.jpg"}));
    for (const auto& n : got) {
        EXPECT_EQ(n.destination, arn);
        EXPECT_EQ(n.event_name, "ObjectCreated:Put");
    }
}

TEST_F(S3Notifications, RecordMatchesTheAwsFormatFieldForField) {
    ASSERT_EQ(
        configure(rule("cfg-1", "<Event>s3:ObjectCreated:Put</Event><Event>s3:ObjectRemoved:*</Event>")),
        ""
    );
    const auto put = send("PUT", "/photos/dir/red%20flower%2Bx@y.jpg", "hello");
    ASSERT_EQ(put.status, 200) << put.body;
    ASSERT_EQ(send("DELETE", "/photos/dir/red%20flower%2Bx@y.jpg").status, 204);
    const auto got = take();
    ASSERT_EQ(got.size(), 2u);

    const auto doc = json::parse(got[0].payload);
    const auto& records = doc.at("Records").as_array();
    ASSERT_EQ(records.size(), 1u);
    const auto& r = records[0].as_object();
    EXPECT_EQ(r.at("eventVersion"), "2.1");
    EXPECT_EQ(r.at("eventSource"), "aws:s3");
    EXPECT_EQ(r.at("awsRegion"), "us-east-1");
    EXPECT_TRUE(std::regex_match(
        std::string(r.at("eventTime").as_string()),
        std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")
    ));
    EXPECT_EQ(r.at("eventName"), "ObjectCreated:Put");
    EXPECT_EQ(r.at("userIdentity").at("principalId"), "AWS:test");
    EXPECT_EQ(r.at("requestParameters").at("sourceIPAddress"), "127.0.0.1");
    EXPECT_EQ(r.at("responseElements").at("x-amz-request-id").as_string(), *put.header("x-amz-request-id"));
    EXPECT_EQ(r.at("responseElements").at("x-amz-id-2").as_string(), *put.header("x-amz-id-2"));
    const auto& s3 = r.at("s3").as_object();
    EXPECT_EQ(s3.at("s3SchemaVersion"), "1.0");
    EXPECT_EQ(s3.at("configurationId"), "cfg-1");
    EXPECT_EQ(s3.at("bucket").at("name"), "photos");
    EXPECT_EQ(s3.at("bucket").at("arn"), "arn:aws:s3:::photos");
    EXPECT_TRUE(s3.at("bucket").at("ownerIdentity").as_object().contains("principalId"));
    const auto& object = s3.at("object").as_object();
    EXPECT_EQ(object.at("key"), "dir/red+flower%2Bx%40y.jpg");  // form-encoded, '/' kept
    EXPECT_EQ(object.at("size").to_number<int>(), 5);
    EXPECT_EQ(object.at("eTag"), "5d41402abc4b2a76b9719d911017c592");  // md5("hello"), no quotes
    EXPECT_FALSE(object.contains("versionId"));
    const std::string created_seq(object.at("sequencer").as_string());

    const auto removed = json::parse(got[1].payload).at("Records").at(0).at("s3").at("object").as_object();
    EXPECT_EQ(got[1].event_name, "ObjectRemoved:Delete");
    EXPECT_FALSE(removed.contains("size"));
    EXPECT_FALSE(removed.contains("eTag"));
    EXPECT_GT(std::string(removed.at("sequencer").as_string()), created_seq);
}

TEST_F(S3Notifications, CopyMultipartAndDeleteObjectsEmitTheirEvents) {
    ASSERT_EQ(
        configure(rule("all", "<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:Delete</Event>")),
        ""
    );
    ASSERT_EQ(send("PUT", "/photos/src", "data").status, 200);
    http::request copy;
    copy.method = "PUT";
    copy.url = server_->endpoint() + "/photos/dst";
    copy.headers = {{"x-amz-copy-source", "/photos/src"}};
    scar::testing::sign_for_emulator(copy, "s3");
    ASSERT_EQ(client_.send(copy).value().status, 200);
    const auto init = send("POST", "/photos/mp?uploads");
    const auto id = init.body.substr(
        init.body.find("<UploadId>") + 10,
        init.body.find("</UploadId>") - init.body.find("<UploadId>") - 10
    );
    const auto part = send("PUT", "/photos/mp?partNumber=1&uploadId=" + id, "part one");
    ASSERT_EQ(part.status, 200);
    ASSERT_EQ(
        send(
            "POST",
            "/photos/mp?uploadId=" + id,
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" +
                std::string(*part.header("etag")) + "</ETag></Part></CompleteMultipartUpload>"
        )
            .status,
        200
    );
    ASSERT_EQ(
        send(
            "POST",
            "/photos?delete",
            "<Delete><Object><Key>src</Key></Object><Object><Key>none</Key></Object></Delete>"
        )
            .status,
        200
    );
    std::vector<std::string> events;
    for (const auto& n : take()) events.push_back(n.event_name + " " + n.key);
    EXPECT_EQ(
        events,
        (std::vector<std::string>{
            "ObjectCreated:Put src",
            "ObjectCreated:Copy dst",
            "ObjectCreated:CompleteMultipartUpload mp",
            "ObjectRemoved:Delete src"})
    );
}

TEST_F(S3Notifications, InvalidConfigurationsAreRefusedAsAwsDoes) {
    const auto overlapping = configure(
        rule(
            "a",
            "<Event>s3:ObjectCreated:*</Event>",
            "<FilterRule><Name>prefix</Name><Value>in/</Value></FilterRule>"
        ) +
        rule(
            "b",
            "<Event>s3:ObjectCreated:Put</Event>",
            "<FilterRule><Name>prefix</Name><Value>in/sub/</Value></FilterRule>"
        )
    );
    EXPECT_NE(overlapping.find("Configuration is ambiguously defined"), std::string::npos) << overlapping;
    // Same events on disjoint prefixes, or different events on the same prefix, are fine.
    EXPECT_EQ(
        configure(
            rule(
                "a",
                "<Event>s3:ObjectCreated:*</Event>",
                "<FilterRule><Name>prefix</Name><Value>in/</Value></FilterRule>"
            ) +
            rule(
                "b",
                "<Event>s3:ObjectCreated:*</Event>",
                "<FilterRule><Name>prefix</Name><Value>out/</Value></FilterRule>"
            ) +
            rule(
                "c",
                "<Event>s3:ObjectRemoved:*</Event>",
                "<FilterRule><Name>prefix</Name><Value>in/</Value></FilterRule>"
            )
        ),
        ""
    );
    EXPECT_NE(
        configure(rule("x", "<Event>s3:ObjectMunged:*</Event>")).find("InvalidArgument"),
        std::string::npos
    );
    EXPECT_NE(
        configure(rule(
                      "x",
                      "<Event>s3:ObjectCreated:*</Event>",
                      "<FilterRule><Name>middle</Name><Value>a</Value></FilterRule>"
                  ))
            .find("filter rule name must be either prefix or suffix"),
        std::string::npos
    );
    const auto bad_arn = configure(
        "<CloudFunctionConfiguration><CloudFunction>not-an-arn</CloudFunction><Event>s3:ObjectCreated:*</"
        "Event></CloudFunctionConfiguration>"
    );
    EXPECT_NE(bad_arn.find("The ARN could not be parsed"), std::string::npos) << bad_arn;
    EXPECT_NE(configure("<NotAConfig/>").find("MalformedXML"), std::string::npos);
    EXPECT_NE(send("PUT", "/photos?notification", "not xml").body.find("MalformedXML"), std::string::npos);
    // A refused configuration leaves the previous one in place; the stored form has
    // capitalised filter names and the generated ids.
    const auto stored = send("GET", "/photos?notification").body;
    EXPECT_NE(stored.find("<Id>c</Id>"), std::string::npos) << stored;
    EXPECT_NE(stored.find("<Name>Prefix</Name>"), std::string::npos) << stored;
    // An empty configuration removes notifications.
    EXPECT_EQ(configure(""), "");
    ASSERT_EQ(send("PUT", "/photos/in/x", "x").status, 200);
    EXPECT_TRUE(take().empty());
}

TEST_F(S3Notifications, ConfigurationSurvivesARestart) {
    ASSERT_EQ(configure(rule("keep", "<Event>s3:ObjectCreated:*</Event>")), "");
    server_->stop();
    scar::emulator::options o;
    o.port = 0;
    o.data_dir = dir_.path();
    server_ = std::make_unique<scar::emulator::server>(o);
    server_->on_s3_notification([this](const scar::emulator::s3_notification& n) {
        const std::lock_guard lock(mutex_);
        got_.push_back(n);
    });
    server_->start().value();
    ASSERT_EQ(send("PUT", "/photos/after-restart", "x").status, 200);
    const auto got = take();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].key, "after-restart");
}

}  // namespace
