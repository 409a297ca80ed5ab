#pragma once
// Writing XML bodies by hand (they are small and their shape is fixed); reading them is
// pugixml's job.

#include <string>
#include <string_view>

namespace scar::s3::detail {

inline void append_xml_escaped(std::string& out, std::string_view text) {
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

inline void append_xml_element(std::string& out, std::string_view name, std::string_view text) {
    out.push_back('<');
    out.append(name);
    out.push_back('>');
    append_xml_escaped(out, text);
    out.append("</");
    out.append(name);
    out.push_back('>');
}

inline constexpr std::string_view xml_declaration = R"(<?xml version="1.0" encoding="UTF-8"?>)";
inline constexpr std::string_view s3_xmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

}  // namespace scar::s3::detail
