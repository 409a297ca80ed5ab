#include "scar/s3/xml.hpp"

#include <pugixml.hpp>

#include <charconv>

namespace scar::s3::xml {
namespace {

/// pugixml's flags for S3 bodies: keep CR as sent, whitespace-only text is text (keys).
constexpr unsigned parse_flags = (pugi::parse_default & ~pugi::parse_eol) | pugi::parse_ws_pcdata_single;

/// Loads `body` and returns its root element when it is `<root>`; `MalformedXML` otherwise.
result<pugi::xml_node> load_root(pugi::xml_document& doc, std::string_view body, std::string_view root) {
    if (const auto parsed = doc.load_buffer(body.data(), body.size(), parse_flags); !parsed) {
        return malformed(
            "the " + std::string(root) + " body is not XML (" + parsed.description() + " at offset " +
            std::to_string(parsed.offset) + ")"
        );
    }
    const auto el = doc.document_element();
    if (std::string_view(el.name()) != root) {
        return malformed(
            "the body must be a <" + std::string(root) + "> element, not <" + std::string(el.name()) + ">"
        );
    }
    return el;
}

}  // namespace

error malformed(std::string_view detail) {
    return make_error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema: " +
            std::string(detail),
        400
    );
}

std::string complete_multipart_upload(std::span<const completed_part> parts) {
    std::string body = "<CompleteMultipartUpload xmlns=\"" + std::string(namespace_uri) + "\">";
    for (const auto& p : parts) {
        body += "<Part><PartNumber>" + std::to_string(p.part_number) + "</PartNumber>";
        append_element(body, "ETag", p.etag);
        body += "</Part>";
    }
    body += "</CompleteMultipartUpload>";
    return body;
}

result<std::vector<completed_part>> parse_complete_multipart_upload(std::string_view body) {
    pugi::xml_document doc;
    auto root = load_root(doc, body, "CompleteMultipartUpload");
    if (!root) return root.error();
    std::vector<completed_part> parts;
    for (const auto p : root->children("Part")) {
        const std::string_view text = p.child_value("PartNumber");
        int number = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (ec != std::errc{} || end != text.data() + text.size() || number < 1 || number > 10'000) {
            return malformed(
                "PartNumber '" + std::string(text) + "' of part " + std::to_string(parts.size() + 1) +
                " is not a number from 1 to 10000"
            );
        }
        parts.push_back({number, p.child_value("ETag")});
    }
    return parts;
}

std::string delete_objects(const delete_request& r) {
    std::string body = "<Delete xmlns=\"" + std::string(namespace_uri) + "\">";
    if (r.quiet) body += "<Quiet>true</Quiet>";
    for (const auto& k : r.keys) {
        body += "<Object>";
        append_element(body, "Key", k);
        body += "</Object>";
    }
    body += "</Delete>";
    return body;
}

result<delete_request> parse_delete_objects(std::string_view body) {
    pugi::xml_document doc;
    auto root = load_root(doc, body, "Delete");
    if (!root) return root.error();
    delete_request r;
    r.quiet = std::string_view(root->child_value("Quiet")) == "true";
    for (const auto o : root->children("Object")) {
        if (r.keys.size() == max_delete_keys) {
            return malformed("at most 1000 objects can be deleted in one request; split the list");
        }
        r.keys.emplace_back(o.child_value("Key"));
    }
    return r;
}

result<std::vector<std::pair<std::string, std::string>>> parse_tagging(std::string_view body) {
    pugi::xml_document doc;
    auto root = load_root(doc, body, "Tagging");
    if (!root) return root.error();
    std::vector<std::pair<std::string, std::string>> tags;
    for (const auto t : root->child("TagSet").children("Tag"))
        tags.emplace_back(t.child_value("Key"), t.child_value("Value"));
    return tags;
}

std::string create_bucket_configuration(std::string_view region) {
    std::string body(declaration);
    body += "<CreateBucketConfiguration xmlns=\"" + std::string(namespace_uri) + "\">";
    append_element(body, "LocationConstraint", region);
    body += "</CreateBucketConfiguration>";
    return body;
}

result<std::optional<std::string>> parse_create_bucket_configuration(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::optional<std::string>{};
    pugi::xml_document doc;
    auto root = load_root(doc, body, "CreateBucketConfiguration");
    if (!root) return root.error();
    const std::string_view lc = root->child_value("LocationConstraint");
    if (lc.empty()) return std::optional<std::string>{};
    return std::optional<std::string>(lc);
}

}  // namespace scar::s3::xml
