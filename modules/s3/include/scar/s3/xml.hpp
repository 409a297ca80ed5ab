#pragma once
/// @file
/// S3's XML on the wire. Writing is by hand (the bodies are small and their shape fixed);
/// reading is pugixml's, behind the parsers below, which take untrusted bytes (the
/// emulator reads client bodies with them) and never throw.
///
/// The request bodies come in pairs, the client's writer and the emulator's reader:
/// DeleteObjects, CompleteMultipartUpload, PutObjectTagging, CreateBucket.

#include <scar/core/error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scar::s3 {

/// One part of a completed multipart upload.
struct completed_part {
    int part_number = 0;
    std::string etag;
    bool operator==(const completed_part&) const = default;
};

}  // namespace scar::s3

namespace scar::s3::xml {

inline void append_escaped(std::string& out, std::string_view text) {
    for (const char c : text) {
        switch (c) {
            case '&':
                out.append("&amp;");
                break;
            case '<':
                out.append("&lt;");
                break;
            case '>':
                out.append("&gt;");
                break;
            case '"':
                out.append("&quot;");
                break;
            case '\'':
                out.append("&apos;");
                break;
            // Keys may hold control characters; XML 1.0 cannot carry them raw, S3 writes them
            // as character references.
            case '\r':
                out.append("&#13;");
                break;
            case '\n':
                out.append("&#10;");
                break;
            case '\t':
                out.append("&#9;");
                break;
            default:
                out.push_back(c);
        }
    }
}

inline void append_element(std::string& out, std::string_view name, std::string_view text) {
    out.push_back('<');
    out.append(name);
    out.push_back('>');
    append_escaped(out, text);
    out.append("</");
    out.append(name);
    out.push_back('>');
}

inline constexpr std::string_view declaration = R"(<?xml version="1.0" encoding="UTF-8"?>)";
inline constexpr std::string_view namespace_uri = "http://s3.amazonaws.com/doc/2006-03-01/";

/// `MalformedXML` (400) with S3's message followed by `detail`.
[[nodiscard]] error malformed(std::string_view detail);

/// `<CompleteMultipartUpload>` with the parts in the order given.
[[nodiscard]] std::string complete_multipart_upload(std::span<const completed_part> parts);
/// Its parts; `MalformedXML` when not that document or a PartNumber is not a number in
/// 1–10000.
[[nodiscard]] result<std::vector<completed_part>> parse_complete_multipart_upload(std::string_view body);

/// A DeleteObjects request.
struct delete_request {
    std::vector<std::string> keys;
    bool quiet = false;
    bool operator==(const delete_request&) const = default;
};
/// At most 1000 keys a request (S3's limit; the client splits longer lists).
inline constexpr std::size_t max_delete_keys = 1000;
/// `<Delete>` with `<Quiet>` when asked.
[[nodiscard]] std::string delete_objects(const delete_request& r);
/// `MalformedXML` when not that document or with more than 1000 keys.
[[nodiscard]] result<delete_request> parse_delete_objects(std::string_view body);

/// The tag set of `<Tagging>` (key, value), in document order.
[[nodiscard]] result<std::vector<std::pair<std::string, std::string>>> parse_tagging(std::string_view body);

/// `<CreateBucketConfiguration>` naming the region.
[[nodiscard]] std::string create_bucket_configuration(std::string_view region);
/// The LocationConstraint of a CreateBucket body; nullopt when the body is empty or names
/// none.
[[nodiscard]] result<std::optional<std::string>> parse_create_bucket_configuration(std::string_view body);

}  // namespace scar::s3::xml
