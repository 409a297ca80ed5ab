// S3's XML bodies, as the emulator reads them from clients and the client from servers:
// DeleteObjects, CompleteMultipartUpload, Tagging, CreateBucketConfiguration,
// NotificationConfiguration, <Error>. The first byte picks the parser.

#include <scar/s3/errors.hpp>
#include <scar/s3/notification.hpp>
#include <scar/s3/xml.hpp>

#include "fuzz.hpp"

SCAR_FUZZ_TARGET(data) {
    if (data.empty()) return;
    const auto body = data.substr(1);
    namespace xml = scar::s3::xml;
    switch (static_cast<unsigned char>(data[0]) % 6) {
        case 0:
            if (auto d = xml::parse_delete_objects(body))
                scar_fuzz_check(d->keys.size() <= xml::max_delete_keys);
            break;
        case 1:
            if (auto parts = xml::parse_complete_multipart_upload(body)) {
                for (const auto& p : *parts) scar_fuzz_check(p.part_number >= 1 && p.part_number <= 10'000);
                // What the client writes for these parts reads back the same.
                auto back = xml::parse_complete_multipart_upload(xml::complete_multipart_upload(*parts));
                scar_fuzz_check(back && *back == *parts);
            }
            break;
        case 2:
            (void)xml::parse_tagging(body);
            break;
        case 3:
            (void)xml::parse_create_bucket_configuration(body);
            break;
        case 4:
            if (auto c = scar::s3::parse_notification_xml(body)) {
                // A configuration that parsed serialises to one that parses to the same.
                auto again = scar::s3::parse_notification_xml(scar::s3::to_xml(*c));
                scar_fuzz_check(again.has_value());
            }
            break;
        default:
            (void)scar::s3::parse_error_body(body);
    }
}
