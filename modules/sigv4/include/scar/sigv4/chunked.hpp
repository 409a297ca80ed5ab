#pragma once
/// @file
/// S3 streaming uploads in `aws-chunked` encoding, each chunk signed
/// (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, optionally `-TRAILER`), or unsigned with a
/// checksum trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, what current SDKs send).
///
/// Wire form of one chunk: `hex(size);chunk-signature=<64 hex>\r\n<data>\r\n`; the last
/// chunk has size 0. A chunk's signature signs
/// `AWS4-HMAC-SHA256-PAYLOAD\n<amz date>\n<scope>\n<previous signature>\n<sha256("")>\n<sha256(data)>`,
/// where the previous signature of the first chunk is the request's (seed) signature.
///
/// Client: sign the request with `payload_hash = streaming_payload`, headers
/// `Content-Encoding: aws-chunked` and `x-amz-decoded-content-length: N`, then encode the
/// body with a `chunk_signer` made from the signing details. Server: after
/// `verifier::verify`, feed the body through a `chunked_decoder`.

#include <scar/core/crypto.hpp>
#include <scar/core/error.hpp>
#include <scar/core/http.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace scar::sigv4 {

struct signing_details;
using signing_key = crypto::hmac_sha256_key;

/// Signs the chunks of one streaming upload, in order.
class chunk_signer {
public:
    chunk_signer(
        std::shared_ptr<const signing_key> key,
        std::string amz_date,
        std::string scope,
        std::string seed_signature
    );
    /// From the details `sign()` returned for the request (its signature is the seed).
    explicit chunk_signer(const signing_details& seed);

    /// Signature of the next chunk (`data` empty for the final one); chains to the next.
    [[nodiscard]] std::string sign(std::string_view data);

    /// Appends the next chunk, signed and framed, to `out`.
    void append_chunk(std::string& out, std::string_view data);

    /// The whole encoded body of `payload` in chunks of `chunk_size`, final chunk included.
    [[nodiscard]] std::string encode(std::string_view payload, std::size_t chunk_size);

    /// Length of the encoding of `payload_size` bytes in chunks of `chunk_size`: the
    /// `Content-Length` of the request.
    [[nodiscard]] static std::uint64_t encoded_length(
        std::uint64_t payload_size,
        std::uint64_t chunk_size
    ) noexcept;

private:
    std::shared_ptr<const signing_key> key_;
    std::string amz_date_;
    std::string scope_;
    std::string previous_;
};

/// Decodes an `aws-chunked` body incrementally, verifying each chunk signature (signed
/// modes) and the trailer signature (`-TRAILER`). Feed it the body in pieces of any size.
///
/// Errors (S3 codes): `SignatureDoesNotMatch` (a chunk or trailer signature is wrong),
/// `IncompleteBody` (the body ended inside a chunk), `InvalidChunkSizeError` /
/// `InvalidRequest` (malformed framing).
class chunked_decoder {
public:
    enum class mode { signed_chunks, signed_chunks_trailer, unsigned_trailer };

    /// For a signed mode: key, date and scope of the verified request and its seed signature.
    chunked_decoder(
        mode m,
        std::shared_ptr<const signing_key> key,
        std::string amz_date,
        std::string scope,
        std::string seed_signature
    );
    /// For `unsigned_trailer`.
    explicit chunked_decoder(mode m);

    /// The mode for an `x-amz-content-sha256` value; nullopt if it is not a streaming one.
    [[nodiscard]] static std::optional<mode> mode_for(std::string_view content_sha256) noexcept;

    /// Consumes `in`, appending decoded payload bytes to `out`.
    [[nodiscard]] result<void> feed(std::string_view in, std::string& out);

    /// Call at the end of the body: an error unless the final chunk (and trailer) arrived.
    [[nodiscard]] result<void> finish() const;

    /// True once the final chunk and any trailer were read.
    [[nodiscard]] bool done() const noexcept { return state_ == state::done; }

    /// Trailer fields received (e.g. `x-amz-checksum-crc32c`), names lower-cased.
    [[nodiscard]] const http::header_list& trailers() const noexcept { return trailers_; }

    /// Payload bytes decoded so far.
    [[nodiscard]] std::uint64_t decoded_size() const noexcept { return decoded_; }

private:
    enum class state { header, data, data_crlf, trailer, done };
    result<void> on_header_line(std::string_view line);
    result<void> on_chunk_end();
    result<void> on_trailer_line(std::string_view line);

    mode mode_;
    std::shared_ptr<const signing_key> key_;
    std::string amz_date_;
    std::string scope_;
    std::string previous_;
    state state_ = state::header;
    std::string line_;
    std::uint64_t remaining_ = 0;
    std::uint64_t decoded_ = 0;
    bool final_chunk_ = false;
    std::string expected_signature_;
    crypto::sha256 chunk_hash_;
    http::header_list trailers_;
    std::string trailer_canonical_;
};

}  // namespace scar::sigv4
