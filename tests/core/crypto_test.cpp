#include "scar/core/crypto.hpp"

#include <scar/core/encoding.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using scar::encoding::to_hex;
namespace crypto = scar::crypto;

TEST(CryptoSha256, KnownVectors) {
    // FIPS 180-2 examples.
    EXPECT_EQ(
        to_hex(crypto::sha256_of("")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    EXPECT_EQ(
        to_hex(crypto::sha256_of("abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    EXPECT_EQ(
        to_hex(crypto::sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
}

TEST(CryptoSha256, IncrementalEqualsOneShotAndResets) {
    const std::string million(1'000'000, 'a');
    crypto::sha256 h;
    for (std::size_t i = 0; i < million.size(); i += 4097) {
        h.update(std::string_view(million).substr(i, 4097));
    }
    EXPECT_EQ(to_hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    h.update("abc");  // finish() reset the state
    EXPECT_EQ(to_hex(h.finish()), to_hex(crypto::sha256_of("abc")));
}

TEST(CryptoHmac, Rfc4231Vectors) {
    // Test case 1: 20 x 0x0b, "Hi There".
    EXPECT_EQ(
        to_hex(crypto::hmac_sha256(std::string(20, '\x0b'), "Hi There")),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    // Test case 2: "Jefe".
    EXPECT_EQ(
        to_hex(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 6: a key longer than the block size is hashed first.
    EXPECT_EQ(
        to_hex(crypto::hmac_sha256(
            std::string(131, '\xaa'),
            "Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

TEST(CryptoHmac, PreparedKeyIsReusable) {
    const crypto::hmac_sha256_key key(crypto::bytes("Jefe"));
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(
            to_hex(key.mac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
    EXPECT_EQ(to_hex(key.mac("")), to_hex(crypto::hmac_sha256("Jefe", "")));
}

TEST(CryptoMd5, Rfc1321Vectors) {
    EXPECT_EQ(to_hex(crypto::md5_of("")), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(to_hex(crypto::md5_of("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
    crypto::md5 h;
    h.update("message ");
    h.update("digest");
    EXPECT_EQ(to_hex(h.finish()), "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST(CryptoCompare, ConstantTimeEqual) {
    EXPECT_TRUE(crypto::constant_time_equal("abc", "abc"));
    EXPECT_FALSE(crypto::constant_time_equal("abc", "abd"));
    EXPECT_FALSE(crypto::constant_time_equal("abc", "abcd"));
    EXPECT_TRUE(crypto::constant_time_equal("", ""));
}

TEST(CryptoRandom, BytesDiffer) {
    EXPECT_EQ(crypto::random_bytes(16).size(), 16U);
    EXPECT_NE(crypto::random_bytes(16), crypto::random_bytes(16));
    EXPECT_TRUE(crypto::random_bytes(0).empty());
}

}  // namespace
