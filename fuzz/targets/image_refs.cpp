// What a user or a registry hands the image module as text: references
// (`host:port/repo:tag@sha256:…`), digests, `--platform` values, WWW-Authenticate
// challenges, manifests and indexes (Docker schema 2 and OCI), image configs. The first
// byte picks the parser (and, for manifests, the Content-Type claimed).

#include <scar/image/auth.hpp>
#include <scar/image/manifest.hpp>
#include <scar/image/reference.hpp>

#include "fuzz.hpp"

SCAR_FUZZ_TARGET(data) {
    if (data.empty()) return;
    namespace img = scar::image;
    const auto text = data.substr(1);
    static constexpr std::string_view content_types[] = {
        "",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    };
    const auto pick = static_cast<unsigned char>(data[0]);
    switch (pick % 5) {
        case 0:
            if (auto r = img::parse_reference(text)) {
                // A reference prints to text that parses to the same reference.
                auto again = img::parse_reference(r->str());
                scar_fuzz_check(again && again->str() == r->str());
            }
            break;
        case 1:
            (void)img::parse_digest(text);
            (void)img::parse_platform(text);
            break;
        case 2:
            (void)img::parse_challenge(text);
            break;
        case 3:
            (void)img::parse_manifest_document(text, content_types[(pick / 5) % 5]);
            break;
        default:
            (void)img::parse_image_config(text);
    }
}
