#include "scar/sigv4/chunked.hpp"

#include <scar/core/encoding.hpp>
#include <scar/sigv4/signer.hpp>

#include <algorithm>
#include <utility>

namespace scar::sigv4 {
namespace {

constexpr std::string_view signature_ext = ";chunk-signature=";
constexpr std::size_t max_line = 4096;

std::string chunk_string_to_sign(
    std::string_view amz_date,
    std::string_view scope,
    std::string_view previous,
    const crypto::sha256_digest& data_hash
) {
    std::string sts;
    sts.reserve(200 + scope.size());
    sts.append("AWS4-HMAC-SHA256-PAYLOAD\n")
        .append(amz_date)
        .append("\n")
        .append(scope)
        .append("\n")
        .append(previous)
        .append("\n")
        .append(empty_payload_sha256)
        .append("\n");
    encoding::append_hex(sts, data_hash);
    return sts;
}

std::size_t hex_digits(std::uint64_t n) noexcept {
    std::size_t d = 1;
    while (n >= 16) {
        n /= 16;
        ++d;
    }
    return d;
}

std::string to_hex_size(std::uint64_t n) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out(hex_digits(n), '0');
    for (std::size_t i = out.size(); i-- > 0; n /= 16) out[i] = digits[n % 16];
    return out;
}

error framing(std::string what) {
    return make_error("InvalidRequest", "malformed aws-chunked body: " + std::move(what), 400);
}

error mismatch(std::string_view what) {
    return make_error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided: the " +
            std::string(what) + " signature is wrong",
        403
    );
}

}  // namespace

chunk_signer::chunk_signer(
    std::shared_ptr<const signing_key> key,
    std::string amz_date,
    std::string scope,
    std::string seed_signature
)
    : key_(std::move(key)),
      amz_date_(std::move(amz_date)),
      scope_(std::move(scope)),
      previous_(std::move(seed_signature)) {}

chunk_signer::chunk_signer(const signing_details& seed)
    : chunk_signer(seed.key, seed.amz_date, seed.scope, seed.signature) {}

std::string chunk_signer::sign(std::string_view data) {
    previous_ =
        encoding::to_hex(key_->mac(chunk_string_to_sign(amz_date_, scope_, previous_, crypto::sha256_of(data))
        ));
    return previous_;
}

void chunk_signer::append_chunk(std::string& out, std::string_view data) {
    const std::string sig = sign(data);
    out.append(to_hex_size(data.size())).append(signature_ext).append(sig).append("\r\n");
    out.append(data).append("\r\n");
}

std::string chunk_signer::encode(std::string_view payload, std::size_t chunk_size) {
    std::string out;
    out.reserve(encoded_length(payload.size(), chunk_size));
    for (std::size_t at = 0; at < payload.size(); at += chunk_size) {
        append_chunk(out, payload.substr(at, chunk_size));
    }
    append_chunk(out, {});
    return out;
}

std::uint64_t chunk_signer::encoded_length(std::uint64_t payload_size, std::uint64_t chunk_size) noexcept {
    const auto framed = [](std::uint64_t n) { return hex_digits(n) + signature_ext.size() + 64 + 2 + n + 2; };
    if (chunk_size == 0) return framed(0);
    std::uint64_t total = (payload_size / chunk_size) * framed(chunk_size);
    if (const auto rest = payload_size % chunk_size; rest != 0) total += framed(rest);
    return total + framed(0);
}

chunked_decoder::chunked_decoder(
    mode m,
    std::shared_ptr<const signing_key> key,
    std::string amz_date,
    std::string scope,
    std::string seed_signature
)
    : mode_(m),
      key_(std::move(key)),
      amz_date_(std::move(amz_date)),
      scope_(std::move(scope)),
      previous_(std::move(seed_signature)) {}

chunked_decoder::chunked_decoder(mode m) : mode_(m) {}

std::optional<chunked_decoder::mode> chunked_decoder::mode_for(std::string_view v) noexcept {
    if (v == streaming_payload) return mode::signed_chunks;
    if (v == streaming_payload_trailer) return mode::signed_chunks_trailer;
    if (v == streaming_unsigned_payload_trailer) return mode::unsigned_trailer;
    return std::nullopt;
}

result<void> chunked_decoder::feed(std::string_view in, std::string& out) {
    while (!in.empty()) {
        switch (state_) {
            case state::header:
            case state::trailer: {
                const auto nl = in.find('\n');
                line_.append(in.substr(0, nl));
                if (line_.size() > max_line)
                    return framing("a chunk header or trailer line is longer than 4 KiB");
                if (nl == std::string_view::npos) return {};
                in.remove_prefix(nl + 1);
                if (line_.empty() || line_.back() != '\r') return framing("lines must end in CRLF");
                line_.pop_back();
                std::string line = std::move(line_);
                line_.clear();
                auto r = state_ == state::header ? on_header_line(line) : on_trailer_line(line);
                if (!r) return r;
                break;
            }
            case state::data: {
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
                chunk_hash_.update(in.substr(0, n));
                out.append(in.substr(0, n));
                decoded_ += n;
                remaining_ -= n;
                in.remove_prefix(n);
                if (remaining_ == 0) state_ = state::data_crlf;
                break;
            }
            case state::data_crlf: {
                line_.push_back(in.front());
                in.remove_prefix(1);
                if (line_.size() == 2) {
                    if (line_ != "\r\n") return framing("chunk data must be followed by CRLF");
                    line_.clear();
                    if (auto r = on_chunk_end(); !r) return r;
                }
                break;
            }
            case state::done:
                return framing("bytes after the final chunk");
        }
    }
    return {};
}

result<void> chunked_decoder::on_header_line(std::string_view line) {
    const auto semi = line.find(';');
    const auto size_text = line.substr(0, semi);
    if (size_text.empty() || size_text.size() > 15)
        return framing("invalid chunk size '" + std::string(size_text) + "'");
    std::uint64_t size = 0;
    for (const char c : size_text) {
        int v = -1;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        if (v < 0) return framing("invalid chunk size '" + std::string(size_text) + "'");
        size = size * 16 + static_cast<std::uint64_t>(v);
    }
    if (mode_ != mode::unsigned_trailer) {
        const auto ext = semi == std::string_view::npos ? std::string_view{} : line.substr(semi);
        if (!ext.starts_with(signature_ext) || ext.size() != signature_ext.size() + 64) {
            return framing(
                "chunk header '" + std::string(line) + "' lacks ';chunk-signature=<64 hex digits>'"
            );
        }
        expected_signature_ = ext.substr(signature_ext.size());
    }
    remaining_ = size;
    final_chunk_ = size == 0;
    if (final_chunk_ && mode_ != mode::signed_chunks) {
        if (auto r = on_chunk_end(); !r) return r;
        state_ = state::trailer;
        return {};
    }
    state_ = size == 0 ? state::data_crlf : state::data;
    return {};
}

result<void> chunked_decoder::on_chunk_end() {
    if (mode_ != mode::unsigned_trailer) {
        const std::string sts = chunk_string_to_sign(amz_date_, scope_, previous_, chunk_hash_.finish());
        std::string actual = encoding::to_hex(key_->mac(sts));
        if (!crypto::constant_time_equal(actual, expected_signature_)) return mismatch("chunk");
        previous_ = std::move(actual);
    } else {
        (void)chunk_hash_.finish();
    }
    if (final_chunk_) {
        if (mode_ == mode::signed_chunks) state_ = state::done;
        return {};
    }
    state_ = state::header;
    return {};
}

result<void> chunked_decoder::on_trailer_line(std::string_view line) {
    if (!line.empty()) {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return framing("trailer line '" + std::string(line) + "' is not 'name:value'");
        }
        std::string name = encoding::to_lower(encoding::trim(line.substr(0, colon)));
        const std::string value(encoding::trim(line.substr(colon + 1)));
        if (name == "x-amz-trailer-signature") {
            expected_signature_ = value;
        } else {
            trailer_canonical_.append(name).append(":").append(value).append("\n");
            trailers_.emplace_back(std::move(name), value);
        }
        return {};
    }
    if (mode_ == mode::signed_chunks_trailer) {
        std::string sts;
        sts.append("AWS4-HMAC-SHA256-TRAILER\n").append(amz_date_).append("\n").append(scope_).append("\n");
        sts.append(previous_).append("\n");
        encoding::append_hex(sts, crypto::sha256_of(trailer_canonical_));
        if (!crypto::constant_time_equal(encoding::to_hex(key_->mac(sts)), expected_signature_)) {
            return mismatch("trailer");
        }
    }
    state_ = state::done;
    return {};
}

result<void> chunked_decoder::finish() const {
    if (state_ == state::done) return {};
    return make_error(
        "IncompleteBody",
        "The request body terminated unexpectedly: the aws-chunked body ended before its final chunk",
        400
    );
}

}  // namespace scar::sigv4
