#pragma once
/// @file
/// What an invocation carries, as scar-supervisor tells it apart.
///
/// The rules, in order (SCAR's faas-supervisor order, without its defects):
///   1. an API Gateway proxy request (`httpMethod`: REST payload 1.0; `version` "2.0" with
///      `requestContext.http.method`: HTTP API 2.0) → `api_gateway`; its query parameters
///      become `CONT_VAR_<name>`; its body (base64-decoded when `isBase64Encoded`) is either a
///      storage event (then `object` is set) or bytes for the input file;
///   2. `Records[0]` with `eventSource` `aws:s3` or `minio:s3` → `storage`;
///   3. `{"event": <storage event>, "storage_provider": "<id>"}` (a delegated event) →
///      `storage` read with that provider;
///   4. `script` (base64 of a shell script) → `script`;
///   5. `cmd_args` (a JSON list of strings, or a string holding one, as `scar run` sends it)
///      → `command`;
///   6. anything else, JSON or not → `payload`: the bytes become the input file.
///
/// A script or command inside an API Gateway body is *not* run: an HTTP endpoint must not
/// be a way to run arbitrary code in the function (SCAR ran it).
///
/// @code
/// auto ev = scar::supervisor::parse_event(R"({"script":"ZWNobyBoaQo="})").value();
/// assert(ev.kind == scar::supervisor::event_kind::script && ev.script == "echo hi\n");
/// @endcode

#include <scar/core/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scar::supervisor {

/// The kinds of event (see the rules above).
enum class event_kind {
    storage,      ///< an S3 or MinIO notification naming one object
    api_gateway,  ///< an API Gateway proxy request
    script,       ///< a direct invocation carrying a script to run
    command,      ///< a direct invocation carrying arguments for the image's command
    payload,      ///< anything else: handed to the script as a file
};

/// "storage", "api_gateway", "script", "command", "payload".
[[nodiscard]] std::string_view to_string(event_kind k) noexcept;

/// The object a storage event names.
struct storage_object {
    std::string source = "aws:s3";  ///< `eventSource`: "aws:s3" or "minio:s3"
    /// The storage provider to read it with ("type.id"); empty: pick one from the configured
    /// inputs by bucket, else `s3.default`. Set by delegated events.
    std::string provider;
    std::string region;
    std::string bucket;
    std::string key;  ///< decoded (`s3.object.key` is form-encoded in the JSON)
    std::optional<std::uint64_t> size;
};

/// One parsed event.
struct event {
    event_kind kind = event_kind::payload;
    /// When the event happened, ISO 8601 UTC ("2024-05-01T12:00:00.123Z"): S3's `eventTime`,
    /// API Gateway's request time; empty when the event carries none.
    std::string time;
    /// Storage events, and API Gateway requests whose body is a storage event.
    std::optional<storage_object> object;
    /// API Gateway: 1 (REST, payload 1.0) or 2 (HTTP API, payload 2.0); 0 otherwise.
    int api_version = 0;
    /// API Gateway query parameters in the order received (HTTP APIs join repeated values
    /// with ',', REST APIs keep the last one).
    std::vector<std::pair<std::string, std::string>> query;
    /// Bytes for the input file: the decoded request body (API Gateway) or the payload as
    /// received (`payload`). Empty optional: no input file.
    std::optional<std::string> body;
    std::string script;                 ///< `script`: the decoded script
    std::vector<std::string> cmd_args;  ///< `command`: the arguments
};

/// Parses an invocation payload by the rules above.
///
/// Errors (code `InvalidEvent`, naming the field and the fix): `Records` present but not a
/// valid S3 event; `script` not a base64 string; `cmd_args` not a list of strings; both
/// `script` and `cmd_args`; an API Gateway body marked base64 that is not.
[[nodiscard]] result<event> parse_event(std::string_view payload);

}  // namespace scar::supervisor
