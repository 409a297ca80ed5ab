// JSON events a function receives: S3 notifications (the s3 module's model) and whatever
// payload the supervisor is invoked with (S3, MinIO, API Gateway v1/v2, script, cmd_args,
// Batch envelopes). The first byte picks the parser.

#include <scar/s3/event.hpp>
#include <scar/supervisor/event.hpp>

#include "fuzz.hpp"

SCAR_FUZZ_TARGET(data) {
    if (data.empty()) return;
    const auto body = data.substr(1);
    if (static_cast<unsigned char>(data[0]) % 2 == 0) {
        (void)scar::s3::parse_event_json(body);
        (void)scar::s3::parse_event_time(body);
    } else {
        (void)scar::supervisor::parse_event(body);
    }
}
