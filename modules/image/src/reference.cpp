#include "scar/image/reference.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>

#include <algorithm>
#include <string>

namespace scar::image {
namespace {

bool is_lower_alnum(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) noexcept {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_hex_lower(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
bool valid_path_component(std::string_view c) noexcept {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
    for (std::size_t i = 0; i < c.size();) {
        if (is_lower_alnum(c[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < c.size() && !is_lower_alnum(c[j])) ++j;
        const auto sep = c.substr(i, j - i);
        const bool dashes = std::all_of(sep.begin(), sep.end(), [](char x) { return x == '-'; });
        if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
        i = j;
    }
    return true;
}

/// `[\w][\w.-]{0,127}`
bool valid_tag(std::string_view t) noexcept {
    if (t.empty() || t.size() > 128) return false;
    const auto word = [](char c) { return is_alnum(c) || c == '_'; };
    if (!word(t.front())) return false;
    return std::all_of(t.begin(), t.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

/// A DNS name or dotted IPv4 (`label(.label)*`), or a bracketed IPv6 literal, then `:port`.
bool valid_domain(std::string_view d) noexcept {
    if (d.empty()) return false;
    std::string_view host = d;
    if (d.front() == '[') {
        const auto close = d.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        const auto inner = d.substr(1, close - 1);
        if (!std::all_of(inner.begin(), inner.end(), [](char c) {
                return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':';
            }))
            return false;
        host = {};
        d.remove_prefix(close + 1);
        if (!d.empty() && d.front() != ':') return false;
    } else {
        const auto colon = d.find(':');
        host = d.substr(0, colon);
        d = colon == std::string_view::npos ? std::string_view{} : d.substr(colon);
        std::size_t start = 0;
        while (start <= host.size()) {
            const auto dot = host.find('.', start);
            const auto label = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
            if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
            if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; }))
                return false;
            if (dot == std::string_view::npos) break;
            start = dot + 1;
        }
    }
    if (!d.empty()) {  // ":port"
        const auto port = d.substr(1);
        if (port.empty() || port.size() > 5 ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
    }
    return true;
}

error invalid(std::string_view text, std::string_view why) {
    return make_error(
        "InvalidReference",
        "invalid image reference '" + std::string(text) + "': " + std::string(why)
    );
}

}  // namespace

result<digest> parse_digest(std::string_view text) {
    const auto colon = text.find(':');
    const auto bad = [&](std::string_view why) {
        return make_error(
            "InvalidDigest",
            "invalid digest '" + std::string(text) + "': " + std::string(why) +
                "; a digest looks like 'sha256:' followed by 64 lowercase hex digits"
        );
    };
    if (colon == std::string_view::npos) return bad("no ':' between algorithm and hex");
    const auto algo = text.substr(0, colon);
    const auto hex = text.substr(colon + 1);
    std::size_t want = 0;
    if (algo == "sha256") {
        want = 64;
    } else if (algo == "sha512") {
        want = 128;
    } else {
        return bad("unknown algorithm '" + std::string(algo) + "'");
    }
    if (hex.size() != want)
        return bad("expected " + std::to_string(want) + " hex digits, got " + std::to_string(hex.size()));
    if (!std::all_of(hex.begin(), hex.end(), is_hex_lower))
        return bad("the hex part has a character outside [0-9a-f]");
    return digest{std::string(algo), std::string(hex)};
}

digest sha256_digest_of(std::string_view data) {
    const auto d = crypto::sha256_of(data);
    return digest{"sha256", encoding::to_hex(d)};
}

std::string reference::str() const {
    std::string out = registry + "/" + repository;
    if (!tag.empty()) out += ":" + tag;
    if (!digest.empty()) out += "@" + digest;
    return out;
}

std::string reference::familiar() const {
    std::string out;
    if (registry == default_registry) {
        const std::string_view repo = repository;
        out = repo.starts_with("library/") && repo.find('/', 8) == std::string_view::npos
                  ? std::string(repo.substr(8))
                  : repository;
    } else {
        out = registry + "/" + repository;
    }
    if (!tag.empty()) out += ":" + tag;
    if (!digest.empty()) out += "@" + digest;
    return out;
}

std::string reference::endpoint_host() const {
    return registry == default_registry ? std::string("registry-1.docker.io") : registry;
}

result<reference> parse_reference(std::string_view text) {
    if (text.empty())
        return invalid(text, "it is empty; give a name such as 'busybox' or 'host:5000/team/app:tag'");
    if (text.size() == 64 && std::all_of(text.begin(), text.end(), is_hex_lower))
        return invalid(
            text,
            "a 64-digit hex string is an image ID, not a reference; write 'name@sha256:<hex>'"
        );

    reference ref;
    std::string_view name = text;
    if (const auto at = text.find('@'); at != std::string_view::npos) {
        auto d = parse_digest(text.substr(at + 1));
        if (!d) return invalid(text, d.error().message);
        ref.digest = d->str();
        name = text.substr(0, at);
    }
    if (name.empty()) return invalid(text, "the repository name is missing before '@'");

    std::string_view remainder = name;
    std::string domain(default_registry);
    if (const auto slash = name.find('/'); slash != std::string_view::npos) {
        const auto first = name.substr(0, slash);
        const bool lowercase =
            std::none_of(first.begin(), first.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
        if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || !lowercase) {
            domain = std::string(first);
            remainder = name.substr(slash + 1);
            if (!valid_domain(domain))
                return invalid(text, "'" + domain + "' is not a valid registry host[:port]");
        }
    }
    if (const auto colon = remainder.rfind(':'); colon != std::string_view::npos) {
        const auto tag = remainder.substr(colon + 1);
        if (!valid_tag(tag))
            return invalid(
                text,
                "the tag '" + std::string(tag) +
                    "' is not valid (1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-')"
            );
        ref.tag = std::string(tag);
        remainder = remainder.substr(0, colon);
    }
    if (domain == "index.docker.io") domain = std::string(default_registry);
    std::string path(remainder);
    if (domain == default_registry && path.find('/') == std::string::npos) path = "library/" + path;

    if (path.empty()) return invalid(text, "the repository name is missing");
    std::size_t start = 0;
    for (;;) {
        const auto slash = path.find('/', start);
        const auto comp = std::string_view(path).substr(
            start,
            slash == std::string::npos ? std::string::npos : slash - start
        );
        if (!valid_path_component(comp)) {
            if (std::any_of(comp.begin(), comp.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
                return invalid(
                    text,
                    "the repository name must be lowercase (use '" + encoding::to_lower(remainder) + "')"
                );
            return invalid(
                text,
                comp.empty()
                    ? std::string("the repository path has an empty component")
                    : "the path component '" + std::string(comp) +
                          "' is not valid (lowercase letters and digits, separated by '.', '_', '__' or '-')"
            );
        }
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    if (domain.size() + 1 + path.size() > 255)
        return invalid(text, "the repository name is longer than 255 characters");
    if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
    ref.registry = std::move(domain);
    ref.repository = std::move(path);
    return ref;
}

bool is_loopback_host(std::string_view host) noexcept {
    if (host.starts_with("[")) {
        const auto close = host.find(']');
        return close != std::string_view::npos && host.substr(1, close - 1) == "::1";
    }
    host = host.substr(0, host.find(':'));
    if (host == "localhost") return true;
    if (!host.starts_with("127.")) return false;
    int dots = 0;
    for (const char c : host) {
        if (c == '.') {
            ++dots;
        } else if (c < '0' || c > '9') {
            return false;
        }
    }
    return dots == 3;
}

}  // namespace scar::image
