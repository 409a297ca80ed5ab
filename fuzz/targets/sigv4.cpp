// SigV4 authentication as the emulator checks it: the Authorization header and the
// presigned query of any request (method, target and headers from the input), and the
// aws-chunked body framing of streaming uploads, in each of its modes.
//
// Input: "METHOD\nTARGET\nName: value\n…\n\nBODY". A body whose first byte is '#' goes to
// the chunked decoder instead, in the mode its second byte picks, fed in slices of the
// size its third byte gives.

#include <scar/core/clock.hpp>
#include <scar/sigv4/chunked.hpp>
#include <scar/sigv4/verifier.hpp>

#include "fuzz.hpp"

namespace {

std::string_view next_line(std::string_view& in) {
    const auto nl = in.find('\n');
    const auto line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    return line;
}

void decode_chunks(std::string_view body) {
    using dec = scar::sigv4::chunked_decoder;
    if (body.size() < 3) return;
    const auto m = static_cast<dec::mode>(static_cast<unsigned char>(body[1]) % 3);
    const std::size_t slice = 1 + static_cast<unsigned char>(body[2]);
    body.remove_prefix(3);
    const auto key = std::make_shared<const scar::sigv4::signing_key>(
        scar::sigv4::derive_signing_key("test", "20150830", "us-east-1", "s3")
    );
    dec d = m == dec::mode::unsigned_trailer
                ? dec(m)
                : dec(m, key, "20150830T123600Z", "20150830/us-east-1/s3/aws4_request", std::string(64, '0'));
    std::string out;
    while (!body.empty()) {
        const auto piece = body.substr(0, slice);
        body.remove_prefix(piece.size());
        if (!d.feed(piece, out)) return;
        scar_fuzz_check(out.size() <= 16u << 20);
    }
    (void)d.finish();
}

}  // namespace

SCAR_FUZZ_TARGET(data) {
    std::string_view in = data;
    const auto method = next_line(in);
    const auto target = next_line(in);
    scar::http::header_list headers;
    for (auto line = next_line(in); !line.empty(); line = next_line(in)) {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    if (!in.empty() && in.front() == '#') {
        decode_chunks(in);
        return;
    }
    // The time of the AWS SigV4 test suite's requests (seeds in the corpus verify).
    static const scar::manual_clock at(scar::clock::time_point(std::chrono::seconds(1'440'938'160)));
    static const scar::sigv4::verifier v(
        [](std::string_view id) -> std::optional<scar::aws::credentials> {
            if (id == "test") return scar::aws::credentials{"test", "test", "", "fuzz"};
            if (id == "AKIDEXAMPLE") {
                return scar::aws::credentials{
                    "AKIDEXAMPLE",
                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    "",
                    "suite"};
            }
            return std::nullopt;
        },
        scar::sigv4::verify_options{.time_source = &at}
    );
    const scar::sigv4::incoming_request req{method, target, &headers, in};
    (void)scar::sigv4::verifier::is_signed(req);
    if (auto ok = v.verify(req)) (void)ok->body_matches(in);
}
