#include "scar/s3/errors.hpp"

#include <pugixml.hpp>

#include <array>
#include <utility>

namespace scar::s3 {

error_body parse_error_body(std::string_view xml) {
    error_body out;
    pugi::xml_document doc;
    if (xml.empty() || !doc.load_buffer(xml.data(), xml.size())) return out;
    const auto e = doc.child("Error");
    if (!e) return out;
    out.code = e.child_value("Code");
    out.message = e.child_value("Message");
    out.request_id = e.child_value("RequestId");
    out.region = e.child_value("Region");
    out.endpoint = e.child_value("Endpoint");
    return out;
}

std::string_view advice_for(std::string_view code) noexcept {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 26> table{{
        {"NoSuchKey", "check the key (keys are case-sensitive and exact to the byte) or list the bucket"},
        {"NoSuchBucket", "create the bucket first, or check its name and the endpoint"},
        {"NoSuchUpload", "the multipart upload was completed or aborted; start a new one"},
        {"NotFound", "check the bucket and key names"},
        {"AccessDenied",
         "check that these credentials are allowed this action on this bucket (IAM and bucket policies)"},
        {"InvalidAccessKeyId",
         "check AWS_ACCESS_KEY_ID or the profile's aws_access_key_id; the key may have been deleted"},
        {"SignatureDoesNotMatch",
         "check the secret access key for this access key id, and that nothing rewrites the request"},
        {"RequestTimeTooSkewed",
         "the system clock is more than 15 minutes off; synchronise it (e.g. with NTP)"},
        {"ExpiredToken", "the session token has expired; get new temporary credentials"},
        {"InvalidToken", "the session token is malformed or not for these credentials; get new ones"},
        {"BucketAlreadyExists", "bucket names are global; choose another name"},
        {"BucketAlreadyOwnedByYou", "the bucket exists and is yours already; use it"},
        {"BucketNotEmpty", "delete every object (and version) in the bucket first"},
        {"InvalidBucketName",
         "use 3-63 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"},
        {"PermanentRedirect", "the bucket is in another region; set the client's region to it"},
        {"AuthorizationHeaderMalformed",
         "the request was signed for the wrong region; set the client's region to the bucket's"},
        {"InvalidRange", "the range starts after the end of the object; check the object's size"},
        {"PreconditionFailed", "the object changed (If-Match / If-None-Match did not hold); read it again"},
        {"EntityTooLarge", "objects above 5 GiB must be uploaded in parts (multipart upload)"},
        {"EntityTooSmall", "every part but the last must be at least 5 MiB"},
        {"InvalidPart", "a part was not uploaded or its ETag is wrong; upload it again"},
        {"InvalidPartOrder", "list the parts in ascending part-number order"},
        {"BadDigest", "the body changed in transit (Content-MD5 mismatch); send it again"},
        {"MalformedXML",
         "the request body is not the XML S3 expects; this is a client bug, please report it"},
        {"SlowDown", "too many requests; they were retried with backoff, reduce the request rate"},
        {"XAmzContentSHA256Mismatch", "the body changed in transit (SHA-256 mismatch); send it again"},
    }};
    for (const auto& [c, advice] : table) {
        if (c == code) return advice;
    }
    return {};
}

error error_from_response(
    const http::response& r,
    std::string_view context,
    std::string_view not_found_code
) {
    auto body = parse_error_body(r.body);
    if (body.code.empty()) {
        switch (r.status) {
            case 301:
                body.code = "PermanentRedirect";
                break;
            case 304:
                body.code = "NotModified";
                break;
            case 400:
                body.code = "BadRequest";
                break;
            case 403:
                body.code = "AccessDenied";
                break;
            case 404:
                body.code = std::string(not_found_code);
                break;
            case 405:
                body.code = "MethodNotAllowed";
                break;
            case 409:
                body.code = "Conflict";
                break;
            case 412:
                body.code = "PreconditionFailed";
                break;
            case 416:
                body.code = "InvalidRange";
                break;
            case 503:
                body.code = "ServiceUnavailable";
                break;
            default:
                body.code = r.status >= 500 ? "InternalError" : "HTTP" + std::to_string(r.status);
        }
    }
    if (body.region.empty()) {
        if (const auto region = r.header("x-amz-bucket-region")) body.region = std::string(*region);
    }
    std::string message(context);
    message.append(": ");
    message.append(body.message.empty() ? "HTTP " + std::to_string(r.status) : body.message);
    if (!body.region.empty() &&
        (body.code == "PermanentRedirect" || body.code == "AuthorizationHeaderMalformed")) {
        message.append(" (the bucket is in region '" + body.region + "')");
    }
    if (const auto advice = advice_for(body.code); !advice.empty()) message.append("; ").append(advice);
    if (!body.request_id.empty()) message.append(" [request id " + body.request_id + "]");
    const bool retryable = r.status >= 500 || body.code == "SlowDown" || body.code == "RequestTimeout" ||
                           body.code == "InternalError" || body.code == "ServiceUnavailable";
    return error{body.code, std::move(message), r.status, retryable};
}

}  // namespace scar::s3
