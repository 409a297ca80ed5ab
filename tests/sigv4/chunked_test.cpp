#include "scar/sigv4/chunked.hpp"

#include <scar/core/encoding.hpp>
#include <scar/sigv4/signer.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

namespace sigv4 = scar::sigv4;

// The example of AWS's "Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks" (S3 API reference), also asserted by aws-c-auth.
struct SigV4ChunkedS3Example : ::testing::Test {
    scar::aws::credentials creds{
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "",
        "test"};
    std::string payload = std::string(66'560, 'a');
    sigv4::key_cache cache;

    sigv4::signing_details sign_seed() {
        scar::http::request req;
        req.method = "PUT";
        req.url = "https://s3.amazonaws.com/examplebucket/chunkObject.txt";
        req.headers = {
            {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
            {"Content-Encoding", "aws-chunked"},
            {"x-amz-decoded-content-length", "66560"},
            {"Content-Length", "66824"},
        };
        auto p = sigv4::signing_params::make(
            creds,
            "us-east-1",
            "s3",
            sigv4::parse_amz_date("20130524T000000Z").value()
        );
        p.payload_hash = sigv4::streaming_payload;
        p.cache = &cache;
        return sigv4::sign(req, p).value();
    }
};

TEST_F(SigV4ChunkedS3Example, SeedAndChunkSignaturesMatchAws) {
    const auto seed = sign_seed();
    EXPECT_EQ(
        seed.signed_headers,
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
        "x-amz-storage-class"
    );
    EXPECT_EQ(seed.signature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    sigv4::chunk_signer signer(seed);
    EXPECT_EQ(
        signer.sign(std::string(65'536, 'a')),
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
    );
    EXPECT_EQ(
        signer.sign(std::string(1'024, 'a')),
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
    );
    EXPECT_EQ(signer.sign(""), "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
}

TEST_F(SigV4ChunkedS3Example, EncodedLengthIsTheContentLength) {
    EXPECT_EQ(sigv4::chunk_signer::encoded_length(66'560, 65'536), 66'824U);
    const auto seed = sign_seed();
    EXPECT_EQ(sigv4::chunk_signer(seed).encode(payload, 65'536).size(), 66'824U);
    EXPECT_EQ(
        sigv4::chunk_signer(seed).encode("", 65'536).size(),
        sigv4::chunk_signer::encoded_length(0, 65'536)
    );
    EXPECT_EQ(sigv4::chunk_signer(seed).encode("abc", 2).size(), sigv4::chunk_signer::encoded_length(3, 2));
}

sigv4::chunked_decoder decoder_for(const sigv4::signing_details& seed) {
    return {sigv4::chunked_decoder::mode::signed_chunks, seed.key, seed.amz_date, seed.scope, seed.signature};
}

TEST_F(SigV4ChunkedS3Example, DecoderVerifiesAndDecodesInPiecesOfAnySize) {
    const auto seed = sign_seed();
    const std::string body = sigv4::chunk_signer(seed).encode(payload, 65'536);
    std::mt19937 rng(42);
    for (int round = 0; round < 20; ++round) {
        auto d = decoder_for(seed);
        std::string out;
        std::size_t at = 0;
        while (at < body.size()) {
            const std::size_t n = std::uniform_int_distribution<std::size_t>(1, round < 10 ? 7 : 70'000)(rng);
            ASSERT_TRUE(d.feed(std::string_view(body).substr(at, n), out));
            at += n;
        }
        ASSERT_TRUE(d.finish());
        EXPECT_TRUE(d.done());
        EXPECT_EQ(out, payload);
        EXPECT_EQ(d.decoded_size(), payload.size());
    }
}

TEST_F(SigV4ChunkedS3Example, DecoderRejectsTamperedDataSignatureAndFraming) {
    const auto seed = sign_seed();
    const std::string body = sigv4::chunk_signer(seed).encode("hello chunked world", 8);
    for (std::size_t i = 0; i < body.size(); ++i) {
        std::string t = body;
        t[i] = t[i] == 'x' ? 'y' : 'x';
        auto d = decoder_for(seed);
        std::string out;
        const auto fed = d.feed(t, out);
        EXPECT_TRUE(!fed || !d.finish()) << "tampered byte " << i << " accepted";
        if (!fed && fed.error().code == "SignatureDoesNotMatch") {
            EXPECT_EQ(fed.error().http_status, 403);
        }
    }
    auto d = decoder_for(seed);
    std::string out;
    ASSERT_TRUE(d.feed(std::string_view(body).substr(0, body.size() - 5), out));
    const auto end = d.finish();
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error().code, "IncompleteBody");
    // A chunk signed for another request (seed) does not verify.
    auto other = seed;
    other.signature = std::string(64, '0');
    auto wrong = decoder_for(other);
    const auto r = wrong.feed(body, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "SignatureDoesNotMatch");
}

TEST_F(SigV4ChunkedS3Example, SignedTrailerIsVerified) {
    const auto seed = sign_seed();
    sigv4::chunk_signer signer(seed);
    std::string body;
    signer.append_chunk(body, "data");
    const std::string final_sig = signer.sign("");
    body += "0;chunk-signature=" + final_sig + "\r\n";
    const std::string trailer = "x-amz-checksum-crc32c:sOO8/Q==";
    std::string sts =
        "AWS4-HMAC-SHA256-TRAILER\n" + seed.amz_date + "\n" + seed.scope + "\n" + final_sig + "\n";
    sts += scar::encoding::to_hex(scar::crypto::sha256_of(trailer + "\n"));
    const std::string trailer_sig = scar::encoding::to_hex(seed.key->mac(sts));
    for (const bool good : {true, false}) {
        std::string full = body + trailer + "\r\n" +
                           "x-amz-trailer-signature:" + (good ? trailer_sig : std::string(64, 'a')) +
                           "\r\n\r\n";
        sigv4::chunked_decoder d(
            sigv4::chunked_decoder::mode::signed_chunks_trailer,
            seed.key,
            seed.amz_date,
            seed.scope,
            seed.signature
        );
        std::string out;
        const auto r = d.feed(full, out);
        EXPECT_EQ(static_cast<bool>(r), good);
        if (good) {
            EXPECT_TRUE(d.finish());
            EXPECT_EQ(out, "data");
            ASSERT_EQ(d.trailers().size(), 1U);
            EXPECT_EQ(d.trailers()[0].first, "x-amz-checksum-crc32c");
            EXPECT_EQ(d.trailers()[0].second, "sOO8/Q==");
        }
    }
}

TEST(SigV4Chunked, UnsignedTrailerAsCurrentSdksSendIt) {
    sigv4::chunked_decoder d(*sigv4::chunked_decoder::mode_for("STREAMING-UNSIGNED-PAYLOAD-TRAILER"));
    std::string out;
    ASSERT_TRUE(d.feed("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", out));
    ASSERT_TRUE(d.finish());
    EXPECT_EQ(out, "hello world");
    ASSERT_EQ(d.trailers().size(), 1U);
    EXPECT_EQ(d.trailers()[0].second, "DUoRhQ==");
    EXPECT_FALSE(sigv4::chunked_decoder::mode_for("UNSIGNED-PAYLOAD").has_value());
    sigv4::chunked_decoder bad(sigv4::chunked_decoder::mode::unsigned_trailer);
    const auto r = bad.feed("zz\r\n", out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "InvalidRequest");
}

}  // namespace
