#pragma once
/// @file
/// Hashes and MACs on OpenSSL: SHA-256 (one-shot and incremental), HMAC-SHA256 (one-shot
/// and with a prepared key), MD5 (S3 ETags and Content-MD5), constant-time comparison and
/// random bytes.
///
/// OpenSSL stays in `core/src/crypto.cpp`; the incremental types keep their state in an
/// inline buffer, so hashing allocates nothing.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace scar::crypto {

using sha256_digest = std::array<std::uint8_t, 32>;
using md5_digest = std::array<std::uint8_t, 16>;

/// Bytes of a string, for the functions below.
[[nodiscard]] inline std::span<const std::uint8_t> bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
}

/// Incremental SHA-256: `sha256 h; h.update(a); h.update(b); auto d = h.finish();`.
/// After `finish()` the object is reset and may be reused.
class sha256 {
public:
    sha256() noexcept;
    void update(std::span<const std::uint8_t> data) noexcept;
    void update(std::string_view data) noexcept { update(bytes(data)); }
    [[nodiscard]] sha256_digest finish() noexcept;

private:
    friend class hmac_sha256_key;
    alignas(8) std::array<std::byte, 112> state_;  // SHA256_CTX
};

/// Incremental MD5, same shape as `sha256`.
class md5 {
public:
    md5() noexcept;
    void update(std::span<const std::uint8_t> data) noexcept;
    void update(std::string_view data) noexcept { update(bytes(data)); }
    [[nodiscard]] md5_digest finish() noexcept;

private:
    alignas(8) std::array<std::byte, 96> state_;  // MD5_CTX
};

[[nodiscard]] sha256_digest sha256_of(std::string_view data) noexcept;
[[nodiscard]] md5_digest md5_of(std::string_view data) noexcept;

/// HMAC-SHA256 of `data` under `key` (RFC 2104).
[[nodiscard]] sha256_digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) noexcept;
[[nodiscard]] inline sha256_digest hmac_sha256(std::string_view key, std::string_view data) noexcept {
    return hmac_sha256(bytes(key), data);
}

/// An HMAC-SHA256 key with its inner and outer pad blocks already hashed, so each MAC costs
/// two SHA-256 compressions fewer. SigV4 signing keys are kept in this form.
class hmac_sha256_key {
public:
    explicit hmac_sha256_key(std::span<const std::uint8_t> key) noexcept;
    [[nodiscard]] sha256_digest mac(std::string_view data) const noexcept;

private:
    sha256 inner_;
    sha256 outer_;
};

/// Compares in time that depends only on the lengths, not on where the inputs differ.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// `n` cryptographically random bytes (upload ids, request ids, jitter seeds).
[[nodiscard]] std::string random_bytes(std::size_t n);

}  // namespace scar::crypto
