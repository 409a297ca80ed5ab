#include "scar/image/auth.hpp"

#include <scar/core/encoding.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace scar::image {
namespace json = boost::json;
namespace {

/// "https://index.docker.io/v1/" -> "index.docker.io"; "host:5000" stays.
std::string host_of_key(std::string_view key) {
    if (const auto p = key.find("://"); p != std::string_view::npos) key.remove_prefix(p + 3);
    key = key.substr(0, key.find('/'));
    return encoding::to_lower(key);
}

bool same_registry(std::string_view key_host, std::string_view registry) {
    const auto dockerish = [](std::string_view h) {
        return h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io";
    };
    if (dockerish(registry)) return dockerish(key_host);
    return key_host == encoding::to_lower(registry);
}

}  // namespace

std::optional<challenge> parse_challenge(std::string_view h) {
    h = encoding::trim(h);
    const auto sp = h.find(' ');
    challenge c;
    c.scheme = encoding::to_lower(h.substr(0, sp));
    if (c.scheme.empty()) return std::nullopt;
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : h.substr(sp + 1);
    while (!rest.empty()) {
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
        const auto eq = rest.find('=');
        if (eq == std::string_view::npos) break;
        const std::string key = encoding::to_lower(encoding::trim(rest.substr(0, eq)));
        rest.remove_prefix(eq + 1);
        std::string value;
        if (!rest.empty() && rest.front() == '"') {
            std::size_t i = 1;
            for (; i < rest.size() && rest[i] != '"'; ++i) {
                if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
                value += rest[i];
            }
            rest.remove_prefix(std::min(i + 1, rest.size()));
        } else {
            const auto comma = rest.find(',');
            value = std::string(encoding::trim(rest.substr(0, comma)));
            rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma);
        }
        c.params[key] = value;
    }
    return c;
}

std::filesystem::path docker_config_path() {
    if (const char* d = std::getenv("DOCKER_CONFIG"); d != nullptr && *d != '\0')
        return std::filesystem::path(d) / "config.json";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home != nullptr ? home : "/") / ".docker" / "config.json";
}

result<std::optional<credentials>> docker_config_credentials(
    std::string_view registry,
    const std::filesystem::path& file
) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::optional<credentials>{};
    std::ostringstream text;
    text << in.rdbuf();
    const auto bad = [&](std::string_view why) {
        return make_error(
            "ConfigInvalid",
            "'" + file.string() + "': " + std::string(why) + "; fix the file or run 'docker login' again"
        );
    };
    boost::system::error_code ec;
    const json::value doc = json::parse(text.str(), ec);
    if (ec || !doc.is_object()) return bad("not a JSON object");
    const auto* auths = doc.get_object().if_contains("auths");
    if (auths == nullptr || !auths->is_object()) return std::optional<credentials>{};
    for (const auto& kv : auths->get_object()) {
        if (!same_registry(host_of_key(kv.key()), registry) || !kv.value().is_object()) continue;
        const auto& o = kv.value().get_object();
        credentials c;
        const auto str = [&](std::string_view k) -> std::string {
            const auto* v = o.if_contains(k);
            return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        c.identity_token = str("identitytoken");
        if (const auto a = str("auth"); !a.empty()) {
            const auto decoded = encoding::base64_decode(a);
            const auto colon = decoded ? decoded->find(':') : std::string::npos;
            if (colon == std::string::npos)
                return bad("the 'auth' of '" + std::string(kv.key()) + "' is not base64 of 'user:password'");
            c.username = decoded->substr(0, colon);
            c.password = decoded->substr(colon + 1);
        } else {
            c.username = str("username");
            c.password = str("password");
        }
        if (c.username.empty() && c.password.empty() && c.identity_token.empty()) continue;
        return std::optional<credentials>{std::move(c)};
    }
    return std::optional<credentials>{};
}

result<credentials> ecr_credentials(std::string_view token) {
    const auto decoded = encoding::base64_decode(encoding::trim(token));
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
        return make_error(
            "InvalidToken",
            "the ECR authorization token is not base64 of 'AWS:<password>'; get a fresh one with "
            "GetAuthorizationToken"
        );
    }
    return credentials{decoded->substr(0, colon), decoded->substr(colon + 1), {}};
}

bool is_ecr_registry(std::string_view host) noexcept {
    host = host.substr(0, host.find(':'));
    const auto dot = host.find('.');
    if (dot == 0 || dot == std::string_view::npos) return false;
    const auto rest = host.substr(dot + 1);
    if (!(rest.starts_with("dkr.ecr.") || rest.starts_with("dkr.ecr-fips."))) return false;
    return host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
}

result<std::optional<credentials>> resolve_credentials(std::string_view registry, const auth_options& opts) {
    if (opts.explicit_credentials) return opts.explicit_credentials;
    const bool ecr = is_ecr_registry(registry) ||
                     std::find(opts.ecr_registries.begin(), opts.ecr_registries.end(), registry) !=
                         opts.ecr_registries.end();
    if (ecr && opts.ecr_token) {
        auto token = opts.ecr_token(registry);
        if (!token) return token.error().wrap("getting an ECR token for '" + std::string(registry) + "'");
        auto c = ecr_credentials(*token);
        if (!c) return c.error();
        return std::optional<credentials>{std::move(*c)};
    }
    if (!opts.use_docker_config) return std::optional<credentials>{};
    return docker_config_credentials(
        registry,
        opts.docker_config.empty() ? docker_config_path() : opts.docker_config
    );
}

}  // namespace scar::image
