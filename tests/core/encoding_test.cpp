#include "scar/core/encoding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

namespace enc = scar::encoding;

TEST(EncodingHex, RoundTrip) {
    const std::string raw("\x00\x01\xab\xff", 4);
    EXPECT_EQ(
        enc::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size())),
        "0001abff"
    );
    EXPECT_EQ(enc::from_hex("0001ABff"), raw);
    EXPECT_FALSE(enc::from_hex("abc").has_value());
    EXPECT_FALSE(enc::from_hex("zz").has_value());
}

TEST(EncodingBase64, Rfc4648Vectors) {
    const std::pair<std::string, std::string> cases[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [raw, b64] : cases) {
        EXPECT_EQ(enc::base64_encode(raw), b64);
        EXPECT_EQ(enc::base64_decode(b64), raw);
    }
    EXPECT_EQ(enc::base64_decode("Zm9vYg"), "foob");  // padding optional
    EXPECT_FALSE(enc::base64_decode("Zm9v!").has_value());
    EXPECT_FALSE(enc::base64_decode("Z").has_value());
    EXPECT_FALSE(enc::base64_decode("Zh==").has_value());  // non-zero padding bits
    const std::string all_bytes = [] {
        std::string s;
        for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
        return s;
    }();
    EXPECT_EQ(enc::base64_decode(enc::base64_encode(all_bytes)), all_bytes);
}

TEST(EncodingUri, AwsRules) {
    EXPECT_EQ(enc::uri_encode("AZaz09-_.~"), "AZaz09-_.~");
    EXPECT_EQ(enc::uri_encode("a b+c=d/e"), "a%20b%2Bc%3Dd%2Fe");
    EXPECT_EQ(enc::uri_encode("a b/c", true), "a%20b/c");
    EXPECT_EQ(enc::uri_encode("\xe1\x88\xb4"), "%E1%88%B4");  // upper-case hex, UTF-8 bytes
    EXPECT_EQ(enc::uri_encode("100%"), "100%25");
    EXPECT_EQ(enc::uri_encode("!*'()$"), "%21%2A%27%28%29%24");
}

TEST(EncodingUri, Decode) {
    EXPECT_EQ(enc::uri_decode("a%20b%2Fc%e1%88%B4"), "a b/c\xe1\x88\xb4");
    EXPECT_EQ(enc::uri_decode("a+b"), "a+b");
    EXPECT_EQ(enc::uri_decode("a+b", true), "a b");
    EXPECT_FALSE(enc::uri_decode("%").has_value());
    EXPECT_FALSE(enc::uri_decode("%4").has_value());
    EXPECT_FALSE(enc::uri_decode("%zz").has_value());
    const std::string tricky = "key with spaces/+/%/é/~";
    EXPECT_EQ(enc::uri_decode(enc::uri_encode(tricky)), tricky);
}

TEST(EncodingText, TrimLowerIequals) {
    EXPECT_EQ(enc::trim("  a b \t\r\n"), "a b");
    EXPECT_EQ(enc::trim(" \t "), "");
    EXPECT_EQ(enc::to_lower("X-Amz-Date"), "x-amz-date");
    EXPECT_TRUE(enc::iequals("Content-Type", "content-TYPE"));
    EXPECT_FALSE(enc::iequals("Content-Type", "Content-Typ"));
}

TEST(Encoding, ToValidUtf8ReplacesWhatIsNotUtf8) {
    using scar::encoding::to_valid_utf8;
    const std::string fffd = "\xEF\xBF\xBD";
    EXPECT_EQ(to_valid_utf8("plain ascii"), "plain ascii");
    EXPECT_EQ(
        to_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"
    );
    EXPECT_EQ(to_valid_utf8("\x89PNG\r\n"), fffd + "PNG\r\n");                // a PNG header
    EXPECT_EQ(to_valid_utf8("\xC0\xAF"), fffd + fffd);                        // overlong '/'
    EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), fffd + fffd + fffd);             // a surrogate
    EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
    EXPECT_EQ(to_valid_utf8("ab\xE2\x82"), "ab" + fffd + fffd);               // cut short
    EXPECT_EQ(to_valid_utf8(std::string_view("\0x", 2)), std::string("\0x", 2));
}

}  // namespace
