#include "scar/core/aws_config.hpp"

#include <scar/core/encoding.hpp>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

namespace scar::aws {
namespace {

std::optional<std::string> env(const config_sources& src, std::string_view name) {
    if (!src.getenv) return std::nullopt;
    auto v = src.getenv(name);
    if (v && v->empty()) return std::nullopt;
    return v;
}

std::filesystem::path home_of(const config_sources& src) {
    if (src.home) return *src.home;
    if (auto h = env(src, "HOME")) return *h;
    return {};
}

std::filesystem::path credentials_path(const config_sources& src) {
    if (auto p = env(src, "AWS_SHARED_CREDENTIALS_FILE")) return *p;
    return home_of(src) / ".aws" / "credentials";
}

std::filesystem::path config_path(const config_sources& src) {
    if (auto p = env(src, "AWS_CONFIG_FILE")) return *p;
    return home_of(src) / ".aws" / "config";
}

std::string profile_name(const config_sources& src) {
    if (src.profile && !src.profile->empty()) return *src.profile;
    if (auto p = env(src, "AWS_PROFILE")) return *p;
    return "default";
}

/// The profile's section of the config file: "[default]" or "[profile NAME]".
const std::map<std::string, std::string>* config_section(const ini_file& ini, const std::string& profile) {
    auto it = ini.find(profile == "default" ? std::string("default") : "profile " + profile);
    if (it == ini.end() && profile == "default") it = ini.find("profile default");
    return it == ini.end() ? nullptr : &it->second;
}

std::optional<std::string> value_of(
    const std::map<std::string, std::string>* section,
    const std::string& key
) {
    if (section == nullptr) return std::nullopt;
    const auto it = section->find(key);
    if (it == section->end() || it->second.empty()) return std::nullopt;
    return it->second;
}

/// "API Gateway" → "API_GATEWAY", as in AWS_ENDPOINT_URL_<SERVICE>.
std::string env_suffix(std::string_view service_id) {
    std::string out;
    for (const char c : service_id) {
        out.push_back(
            c == ' ' || c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
        );
    }
    return out;
}

std::string strip_slash(std::string s) {
    while (s.ends_with('/')) s.pop_back();
    return s;
}

bool endpoints_ignored(const config_sources& src) {
    const auto v = env(src, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    return v && encoding::iequals(*v, "true");
}

std::optional<std::string> configured_endpoint(const config_sources& src, std::string_view service_id) {
    if (endpoints_ignored(src)) return std::nullopt;
    if (auto e = env(src, "AWS_ENDPOINT_URL_" + env_suffix(service_id))) return strip_slash(*e);
    if (auto e = env(src, "AWS_ENDPOINT_URL")) return strip_slash(*e);
    const auto ini = read_ini(config_path(src));
    if (ini) {
        if (auto e = value_of(config_section(*ini, profile_name(src)), "endpoint_url"))
            return strip_slash(*e);
    }
    return std::nullopt;
}

}  // namespace

config_sources config_sources::from_process() {
    config_sources s;
    s.getenv = [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        if (v == nullptr || *v == '\0') return std::nullopt;
        return std::string(v);
    };
    return s;
}

config_sources config_sources::from_map(
    std::map<std::string, std::string> vars,
    std::optional<std::filesystem::path> home
) {
    config_sources s;
    s.getenv = [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end() || it->second.empty()) return std::nullopt;
        return it->second;
    };
    s.home =
        home ? std::move(home) : std::optional<std::filesystem::path>(std::filesystem::path("/nonexistent"));
    return s;
}

result<ini_file> read_ini(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT || !std::filesystem::exists(path)) return ini_file{};
        return make_error(
            "ConfigInvalid",
            "cannot read '" + path.string() + "': " + std::strerror(errno) + "; fix its permissions"
        );
    }
    ini_file out;
    std::string section;
    std::string parent;  // key of a nested block ("s3 =")
    std::string raw;
    int line_no = 0;
    while (std::getline(in, raw)) {
        ++line_no;
        const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
        const std::string_view line = encoding::trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']') {
                return make_error(
                    "ConfigInvalid",
                    path.string() + ":" + std::to_string(line_no) + ": section header '" + std::string(line) +
                        "' lacks its closing ']'"
                );
            }
            section = std::string(encoding::trim(line.substr(1, line.size() - 2)));
            out[section];
            parent.clear();
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos || section.empty()) {
            return make_error(
                "ConfigInvalid",
                path.string() + ":" + std::to_string(line_no) +
                    ": expected 'key = value' inside a [section], got '" + std::string(line) + "'"
            );
        }
        const std::string key = encoding::to_lower(encoding::trim(line.substr(0, eq)));
        const std::string value(encoding::trim(line.substr(eq + 1)));
        if (indented && !parent.empty()) {
            out[section][parent + "." + key] = value;
            continue;
        }
        parent = value.empty() ? key : std::string();
        out[section][key] = value;
    }
    return out;
}

result<credentials> load_credentials(const config_sources& src) {
    const auto akid = env(src, "AWS_ACCESS_KEY_ID");
    const auto secret = env(src, "AWS_SECRET_ACCESS_KEY");
    if (akid && secret) {
        return credentials{*akid, *secret, env(src, "AWS_SESSION_TOKEN").value_or(""), "environment"};
    }
    if (akid || secret) {
        return make_error(
            "MissingCredentials",
            std::string(
                akid ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                     : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
            ) + "; set both, or neither to use a profile"
        );
    }

    const std::string profile = profile_name(src);
    const auto cred_file = credentials_path(src);
    const auto conf_file = config_path(src);
    auto creds_ini = read_ini(cred_file);
    if (!creds_ini) return creds_ini.error();
    auto conf_ini = read_ini(conf_file);
    if (!conf_ini) return conf_ini.error();

    const auto from_section = [&](const std::map<std::string, std::string>* s,
                                  const std::filesystem::path& file) -> std::optional<credentials> {
        auto id = value_of(s, "aws_access_key_id");
        auto key = value_of(s, "aws_secret_access_key");
        if (!id || !key) return std::nullopt;
        return credentials{
            *id,
            *key,
            value_of(s, "aws_session_token").value_or(""),
            file.string() + " [" + profile + "]"};
    };
    const auto cred_section = creds_ini->find(profile);
    if (auto c =
            from_section(cred_section == creds_ini->end() ? nullptr : &cred_section->second, cred_file)) {
        return *c;
    }
    const auto* conf_section = config_section(*conf_ini, profile);
    if (auto c = from_section(conf_section, conf_file)) return *c;

    if (profile != "default" && cred_section == creds_ini->end() && conf_section == nullptr) {
        return make_error(
            "ProfileNotFound",
            "the profile '" + profile + "' is in neither " + cred_file.string() + " nor " +
                conf_file.string() + "; check --profile / AWS_PROFILE or run `aws configure --profile " +
                profile + "`"
        );
    }
    return make_error(
        "MissingCredentials",
        "no AWS credentials found: looked in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, " + cred_file.string() +
            " [" + profile + "] and " + conf_file.string() + " [" +
            (profile == "default" ? "default" : "profile " + profile) +
            "]; set the variables or run `aws configure`"
    );
}

result<std::string> load_region(const config_sources& src) {
    if (src.region && !src.region->empty()) return *src.region;
    if (auto r = env(src, "AWS_REGION")) return *r;
    if (auto r = env(src, "AWS_DEFAULT_REGION")) return *r;
    const auto conf_file = config_path(src);
    const auto ini = read_ini(conf_file);
    if (!ini) return ini.error();
    const std::string profile = profile_name(src);
    if (auto r = value_of(config_section(*ini, profile), "region")) return *r;
    return make_error(
        "MissingRegion",
        "no AWS region set: looked at --region, AWS_REGION, AWS_DEFAULT_REGION and 'region' of [" +
            (profile == "default" ? std::string("default") : "profile " + profile) + "] in " +
            conf_file.string() + "; set one of them, e.g. AWS_REGION=us-east-1"
    );
}

result<std::string> endpoint_url(
    const config_sources& src,
    std::string_view service_id,
    std::string_view region
) {
    if (auto e = configured_endpoint(src, service_id)) {
        if (!e->starts_with("http://") && !e->starts_with("https://")) {
            return make_error(
                "ConfigInvalid",
                "the endpoint URL '" + *e + "' for " + std::string(service_id) +
                    " must start with http:// or https://"
            );
        }
        return *e;
    }
    const std::string id = encoding::to_lower(service_id);
    std::string prefix;
    if (id == "s3")
        prefix = "s3";
    else if (id == "lambda")
        prefix = "lambda";
    else if (id == "api gateway")
        prefix = "apigateway";
    else if (id == "cloudwatch logs")
        prefix = "logs";
    else if (id == "ecr")
        prefix = "api.ecr";
    else if (id == "batch")
        prefix = "batch";
    else if (id == "sts")
        prefix = "sts";
    else if (id == "iam")
        return std::string("https://iam.amazonaws.com");
    else {
        prefix = id;
        for (char& c : prefix) {
            if (c == ' ') c = '-';
        }
    }
    return "https://" + prefix + "." + std::string(region) + ".amazonaws.com";
}

bool has_custom_endpoint(const config_sources& src, std::string_view service_id) {
    return configured_endpoint(src, service_id).has_value();
}

}  // namespace scar::aws
