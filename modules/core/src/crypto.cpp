// The low-level SHA256_*/MD5_* calls are deprecated in OpenSSL 3 in favour of EVP, but EVP
// allocates a context per hash and costs ~10x more for the short strings SigV4 hashes.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "scar/core/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <stdexcept>

namespace scar::crypto {
namespace {

static_assert(sizeof(SHA256_CTX) <= 112, "sha256::state_ too small for SHA256_CTX");
static_assert(sizeof(MD5_CTX) <= 96, "md5::state_ too small for MD5_CTX");

template <class Ctx, class Buffer>
Ctx* as(Buffer& b) noexcept {
    return reinterpret_cast<Ctx*>(b.data());  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

constexpr std::size_t block_size = 64;

}  // namespace

sha256::sha256() noexcept : state_{} {
    SHA256_Init(as<SHA256_CTX>(state_));
}

void sha256::update(std::span<const std::uint8_t> data) noexcept {
    SHA256_Update(as<SHA256_CTX>(state_), data.data(), data.size());
}

sha256_digest sha256::finish() noexcept {
    sha256_digest out;
    SHA256_Final(out.data(), as<SHA256_CTX>(state_));
    SHA256_Init(as<SHA256_CTX>(state_));
    return out;
}

md5::md5() noexcept : state_{} {
    MD5_Init(as<MD5_CTX>(state_));
}

void md5::update(std::span<const std::uint8_t> data) noexcept {
    MD5_Update(as<MD5_CTX>(state_), data.data(), data.size());
}

md5_digest md5::finish() noexcept {
    md5_digest out;
    MD5_Final(out.data(), as<MD5_CTX>(state_));
    MD5_Init(as<MD5_CTX>(state_));
    return out;
}

// Not OpenSSL's one-shot SHA256()/MD5(): in OpenSSL 3 they fetch an EVP method under a
// global read-write lock for every call.
sha256_digest sha256_of(std::string_view data) noexcept {
    sha256 h;
    h.update(data);
    return h.finish();
}

md5_digest md5_of(std::string_view data) noexcept {
    md5 h;
    h.update(data);
    return h.finish();
}

hmac_sha256_key::hmac_sha256_key(std::span<const std::uint8_t> key) noexcept {
    std::array<std::uint8_t, block_size> block{};
    if (key.size() > block_size) {
        sha256 h;
        h.update(key);
        const auto d = h.finish();
        std::memcpy(block.data(), d.data(), d.size());
    } else if (!key.empty()) {
        std::memcpy(block.data(), key.data(), key.size());
    }
    std::array<std::uint8_t, block_size> pad{};
    for (std::size_t i = 0; i < block_size; ++i) pad[i] = static_cast<std::uint8_t>(block[i] ^ 0x36U);
    inner_.update(pad);
    for (std::size_t i = 0; i < block_size; ++i) pad[i] = static_cast<std::uint8_t>(block[i] ^ 0x5cU);
    outer_.update(pad);
    OPENSSL_cleanse(block.data(), block.size());
    OPENSSL_cleanse(pad.data(), pad.size());
}

sha256_digest hmac_sha256_key::mac(std::string_view data) const noexcept {
    sha256 inner = inner_;
    inner.update(data);
    const auto inner_digest = inner.finish();
    sha256 outer = outer_;
    outer.update(inner_digest);
    return outer.finish();
}

sha256_digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) noexcept {
    return hmac_sha256_key(key).mac(data);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (n != 0 &&
        RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {  // NOLINT
        throw std::runtime_error("OpenSSL RAND_bytes failed: the system random source is unavailable");
    }
    return out;
}

}  // namespace scar::crypto
