#include "build.hpp"

#include <climits>

#include <algorithm>
#include <array>
#include <cctype>
#include <system_error>

namespace scar::config::detail {
namespace {

constexpr std::string_view bucket_rules =
    "use 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit";

origin at(const origin& o, std::string_view suffix) {
    origin r = o;
    r.key += suffix;
    return r;
}

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool all_of(std::string_view s, bool (*pred)(char)) {
    return std::all_of(s.begin(), s.end(), pred);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    for (;;) {
        const auto p = s.find(sep);
        parts.push_back(s.substr(0, p));
        if (p == std::string_view::npos) return parts;
        s.remove_prefix(p + 1);
    }
}

bool valid_function_name(std::string_view n) {
    return !n.empty() && n.size() <= 64 &&
           all_of(n, [](char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_'; });
}

bool valid_region(std::string_view r) {
    const auto parts = split(r, '-');
    if (parts.size() < 3 || parts.front().size() != 2 || parts.back().empty()) return false;
    if (!all_of(parts.back(), is_digit)) return false;
    return std::all_of(parts.begin(), parts.end() - 1, [](std::string_view p) {
        return !p.empty() && all_of(p, [](char c) { return c >= 'a' && c <= 'z'; });
    });
}

bool valid_endpoint(std::string_view e) {
    for (std::string_view scheme : {"http://", "https://"}) {
        if (e.starts_with(scheme)) {
            const auto rest = e.substr(scheme.size());
            return !rest.empty() && rest.front() != '/' &&
                   rest.find_first_of(" \t\n") == std::string_view::npos;
        }
    }
    return false;
}

bool valid_account(std::string_view a) {
    return a.size() == 12 && all_of(a, is_digit);
}

bool valid_role_arn(std::string_view arn) {
    const auto p = split(arn, ':');
    return p.size() == 6 && p[0] == "arn" && !p[1].empty() && p[2] == "iam" && p[3].empty() &&
           valid_account(p[4]) && p[5].starts_with("role/") && p[5].size() > 5;
}

bool valid_layer_arn(std::string_view arn) {
    const auto p = split(arn, ':');
    return p.size() == 8 && p[0] == "arn" && !p[1].empty() && p[2] == "lambda" && valid_region(p[3]) &&
           valid_account(p[4]) && p[5] == "layer" && valid_function_name(p[6]) && !p[7].empty() &&
           all_of(p[7], is_digit);
}

bool valid_aws_id(std::string_view id, std::string_view prefix) {
    if (!id.starts_with(prefix) || id.size() == prefix.size()) return false;
    return all_of(id.substr(prefix.size()), [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); });
}

/// Why `b` is not a valid S3 bucket name, or empty (S3's naming rules for general purpose buckets).
std::string bucket_problem(std::string_view b) {
    if (b.size() < 3 || b.size() > 63) return "it has " + std::to_string(b.size()) + " characters";
    for (const char c : b) {
        if (!is_lower_alnum(c) && c != '.' && c != '-') return std::string("'") + c + "' is not allowed";
    }
    if (!is_lower_alnum(b.front()) || !is_lower_alnum(b.back()))
        return "it must start and end with a letter or digit";
    if (b.find("..") != std::string_view::npos) return "it has two adjacent dots";
    const auto parts = split(b, '.');
    if (parts.size() == 4 && std::all_of(parts.begin(), parts.end(), [](std::string_view p) {
            return !p.empty() && p.size() <= 3 && all_of(p, is_digit);
        })) {
        return "it is formatted as an IP address";
    }
    for (std::string_view prefix : {"xn--", "sthree-", "amzn-s3-demo-"}) {
        if (b.starts_with(prefix)) return "the prefix '" + std::string(prefix) + "' is reserved";
    }
    for (std::string_view suffix : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
        if (b.ends_with(suffix)) return "the suffix '" + std::string(suffix) + "' is reserved";
    }
    return {};
}

// Lambda rejects these in Environment.Variables (it sets them itself).
constexpr std::array<std::string_view, 16> lambda_reserved = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
};

// The supervisor sets these for the user's script on every invocation.
constexpr std::array<std::string_view, 8> supervisor_set = {
    "INPUT_FILE_PATH",
    "TMP_INPUT_DIR",
    "TMP_OUTPUT_DIR",
    "STORAGE_OBJECT_KEY",
    "EVENT",
    "EVENT_TIME",
    "REQUEST_ID",
    "INSTANCE_IP",
};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& a, std::string_view s) {
    return std::find(a.begin(), a.end(), s) != a.end();
}

bool posix_name(std::string_view n) {
    return !n.empty() && !is_digit(n.front()) &&
           all_of(n, [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

/// The first value under `v` that a file other than the defaults set, or nullptr.
const value* set_outside_defaults(const value& v) {
    if (const table* t = v.as_table()) {
        for (const auto& e : *t) {
            if (const value* found = set_outside_defaults(e.val)) return found;
        }
        return nullptr;
    }
    return v.where.file && v.where.file->layer != layer::defaults ? &v : nullptr;
}

/// `o` named by its parent key (`function[0].api_gateway` for `function[0].api_gateway.stage`).
origin parent_of(origin o) {
    const auto dot = o.key.rfind('.');
    if (dot != std::string::npos) o.key.resize(dot);
    return o;
}

/// Typed reads of a merged table whose values the schema has already type-checked.
class reader {
public:
    reader(const table& t, diagnostics& diag) : t_(t), diag_(diag) {}

    [[nodiscard]] const value* get(std::string_view path) const { return find_path(t_, path); }

    [[nodiscard]] std::string str(std::string_view path, std::string fallback = {}) const {
        const value* v = get(path);
        return v != nullptr && v->as_string() != nullptr ? *v->as_string() : fallback;
    }

    [[nodiscard]] int num(std::string_view path, int fallback) const {
        const value* v = get(path);
        if (v == nullptr || v->as_integer() == nullptr) return fallback;
        if (*v->as_integer() > INT_MAX) {
            diag_.add(
                v->where,
                std::to_string(*v->as_integer()) + " is too large; use at most " + std::to_string(INT_MAX)
            );
            return fallback;
        }
        return static_cast<int>(*v->as_integer());
    }

    [[nodiscard]] bool flag(std::string_view path, bool fallback) const {
        const value* v = get(path);
        return v != nullptr && v->as_bool() != nullptr ? *v->as_bool() : fallback;
    }

    [[nodiscard]] std::vector<std::string> strings(
        std::string_view path,
        std::vector<std::string> fallback = {}
    ) const {
        const value* v = get(path);
        if (v == nullptr || v->as_array() == nullptr) return fallback;
        std::vector<std::string> out;
        for (const auto& e : *v->as_array()) out.push_back(*e.as_string());
        return out;
    }

    [[nodiscard]] std::map<std::string, std::string> string_map(std::string_view path) const {
        std::map<std::string, std::string> out;
        const value* v = get(path);
        if (v == nullptr || v->as_table() == nullptr) return out;
        for (const auto& e : *v->as_table()) out[e.key] = *e.val.as_string();
        return out;
    }

private:
    const table& t_;
    diagnostics& diag_;
};

void check_region(const value* v, diagnostics& diag) {
    if (v != nullptr && !v->as_string()->empty() && !valid_region(*v->as_string())) {
        diag.add(
            v->where,
            "'" + *v->as_string() + "' is not an AWS region name; use one like us-east-1 or eu-west-3"
        );
    }
}

void check_endpoint(const value* v, diagnostics& diag) {
    if (v != nullptr && !v->as_string()->empty() && !valid_endpoint(*v->as_string())) {
        diag.add(v->where, "'" + *v->as_string() + "' is not an endpoint URL; use http(s)://host[:port]");
    }
}

void check_variables(const reader& r, std::string_view path, bool lambda, diagnostics& diag) {
    const value* env = r.get(path);
    if (env == nullptr) return;
    std::size_t bytes = 0;
    for (const auto& e : *env->as_table()) {
        bytes += e.key.size() + e.val.as_string()->size();
        if (lambda) {
            const bool ok = e.key.size() >= 2 && is_alpha(e.key.front()) && posix_name(e.key);
            if (!ok) {
                diag.add(
                    e.key_origin(),
                    "not a Lambda variable name; use a letter, then letters, digits and _ (2 or more)"
                );
            } else if (contains(lambda_reserved, e.key)) {
                diag.add(e.key_origin(), "reserved by Lambda, which sets it; choose another name");
            }
        } else if (!posix_name(e.key)) {
            diag.add(
                e.key_origin(),
                "not a variable name; use letters, digits and _, not starting with a digit"
            );
        } else if (path == "batch.environment" && e.key.starts_with("AWS_BATCH")) {
            diag.add(
                e.key_origin(),
                "names starting with AWS_BATCH are reserved by Batch; choose another name"
            );
        } else if (path == "container.environment" && contains(supervisor_set, e.key)) {
            diag.add(e.key_origin(), "set by the supervisor on every invocation; choose another name");
        }
    }
    if (lambda && bytes > 4096) {
        const value* set = set_outside_defaults(*env);
        diag.add(
            set != nullptr ? parent_of(set->where) : env->where,
            "the variables take " + std::to_string(bytes) + " bytes; Lambda allows 4096 in all"
        );
    }
}

std::filesystem::path resolve_script(const value& v) {
    std::filesystem::path p(*v.as_string());
    if (p.is_relative()) {
        std::filesystem::path base = v.where.file ? v.where.file->base_dir : std::filesystem::path{};
        if (base.empty()) base = std::filesystem::current_path();
        p = base / p;
    }
    return std::filesystem::absolute(p).lexically_normal();
}

std::filesystem::path script(const reader& r, std::string_view key, bool check_exists, diagnostics& diag) {
    const value* v = r.get(key);
    if (v == nullptr || v->as_string()->empty()) return {};
    auto p = resolve_script(*v);
    if (check_exists) {
        std::error_code ec;
        const auto st = std::filesystem::status(p, ec);
        const std::string base = v->where.file && !v->where.file->base_dir.empty()
                                     ? v->where.file->base_dir.string()
                                     : std::filesystem::current_path().string();
        if (!std::filesystem::exists(st)) {
            diag.add(
                v->where,
                "'" + p.string() +
                    "' does not exist; a relative path starts at the directory of the file that sets it (" +
                    base + ")"
            );
        } else if (!std::filesystem::is_regular_file(st)) {
            diag.add(v->where, "'" + p.string() + "' is not a regular file; name the script itself");
        }
    }
    return p;
}

/// One `storage`/`path` entry; nullopt (and errors) when it cannot be used.
std::optional<storage_path> location(
    const value& element,
    bool output,
    const std::map<std::string, storage_provider>& providers,
    diagnostics& diag
) {
    const reader r(*element.as_table(), diag);
    storage_path out;
    bool ok = true;

    const value* storage = r.get("storage");
    const std::string name = storage != nullptr ? *storage->as_string() : "s3";
    const auto dot = name.find('.');
    const std::string type = name.substr(0, dot);
    const std::string id = dot == std::string::npos ? "default" : name.substr(dot + 1);
    out.provider = type + "." + id;
    const origin storage_at = storage != nullptr ? storage->where : at(element.where, ".storage");
    if (type != "s3" && type != "minio") {
        diag.add(
            storage_at,
            "'" + type + "' is not a storage type; use s3 or minio, as \"s3\", \"s3.<id>\" or \"minio.<id>\""
        );
        ok = false;
    } else if (!providers.contains(out.provider)) {
        std::string defined;
        for (const auto& [n, p] : providers) defined += (defined.empty() ? "" : ", ") + n;
        diag.add(
            storage_at,
            "no storage provider '" + out.provider + "'; define it in a [storage." + type + "." + id +
                "] table (here or in the user file), or use one of: " + defined
        );
        ok = false;
    }

    const value* path = r.get("path");
    if (path == nullptr) {
        diag.add(element.where, "no path; set path = \"bucket/folder\"");
        return std::nullopt;
    }
    std::string_view p = *path->as_string();
    if (p.find("://") != std::string_view::npos) {
        const auto rest = p.substr(p.find("://") + 3);
        diag.add(
            path->where,
            "'" + std::string(p) + "' is a URL; write bucket/folder: '" + std::string(rest) + "'"
        );
        return std::nullopt;
    }
    if (p.starts_with('/')) {
        diag.add(
            path->where,
            "'" + std::string(p) + "' starts with '/'; write bucket/folder: '" + std::string(p.substr(1)) +
                "'"
        );
        return std::nullopt;
    }
    while (p.ends_with('/')) p.remove_suffix(1);
    if (p.empty()) {
        diag.add(path->where, "the path is empty; write bucket/folder (or just bucket)");
        return std::nullopt;
    }
    const auto slash = p.find('/');
    out.bucket = std::string(p.substr(0, slash));
    out.folder = slash == std::string_view::npos ? "" : std::string(p.substr(slash + 1));
    if (const auto why = bucket_problem(out.bucket); !why.empty()) {
        diag.add(
            path->where,
            "'" + out.bucket + "' is not a valid bucket name (" + why + "); " + std::string(bucket_rules)
        );
        ok = false;
    }
    if (!out.folder.empty()) {
        for (const auto part : split(out.folder, '/')) {
            if (part.empty() || part == "." || part == "..") {
                diag.add(
                    path->where,
                    "'" + std::string(p) +
                        "' has an empty, '.' or '..' folder; write bucket/folder/sub without them"
                );
                ok = false;
                break;
            }
        }
    }
    if (output) {
        out.prefixes = r.strings("prefix");
        out.suffixes = r.strings("suffix");
    }
    return ok ? std::optional(out) : std::nullopt;
}

/// `inner` lies in `outer` (same provider and bucket, folder equal or below).
bool inside(const storage_path& inner, const storage_path& outer) {
    if (inner.provider != outer.provider || inner.bucket != outer.bucket) return false;
    return outer.folder.empty() || inner.folder == outer.folder ||
           inner.folder.starts_with(outer.folder + "/");
}

std::map<std::string, storage_provider> build_providers(const build_input& in, diagnostics& diag) {
    std::map<std::string, storage_provider> out;
    for (const auto& type_entry : in.providers) {
        for (const auto& id_entry : *type_entry.val.as_table()) {
            table merged;
            if (const value* d = find(in.provider_defaults, type_entry.key); d != nullptr)
                merged = *d->as_table();
            merge_into(merged, *id_entry.val.as_table());
            const reader r(merged, diag);
            const origin& where = id_entry.val.where;

            storage_provider p;
            p.type = type_entry.key;
            p.id = id_entry.key;
            p.endpoint = r.str("endpoint");
            p.region = r.str("region");
            p.access_key = r.str("access_key");
            p.secret_key = r.str("secret_key");
            p.session_token = r.str("session_token");
            p.verify_tls = r.flag("verify_tls", p.verify_tls);
            p.path_style = r.flag("path_style", p.path_style);

            check_endpoint(r.get("endpoint"), diag);
            check_region(r.get("region"), diag);
            if (p.type == "minio" && p.endpoint.empty()) {
                diag.add(where, "no endpoint; a minio provider needs endpoint = \"http(s)://host:port\"");
            }
            if (p.name() == "s3.default" &&
                !(p.access_key.empty() && p.secret_key.empty() && p.session_token.empty())) {
                diag.add(
                    where,
                    "s3.default uses the function's own credentials; put explicit ones in another provider "
                    "([storage.s3.<id>])"
                );
            } else if (p.access_key.empty() != p.secret_key.empty()) {
                diag.add(
                    where,
                    p.access_key.empty() ? "secret_key without access_key; set both or neither"
                                         : "access_key without secret_key; set both or neither"
                );
            } else if (!p.session_token.empty() && p.access_key.empty()) {
                diag.add(where, "session_token without access_key and secret_key; set all three or none");
            }
            out.emplace(p.name(), std::move(p));
        }
    }
    return out;
}

void build_batch(const reader& r, const origin& fn_at, function_definition& fn, diagnostics& diag) {
    auto& b = fn.batch;
    b.vcpus = r.num("batch.vcpus", b.vcpus);
    b.memory_mb = r.num("batch.memory", b.memory_mb);
    b.gpu = r.flag("batch.gpu", b.gpu);
    b.max_vcpus = r.num("batch.max_vcpus", b.max_vcpus);
    b.attempts = r.num("batch.attempts", b.attempts);
    b.timeout_s = r.num("batch.timeout", b.timeout_s);
    b.environment = r.string_map("batch.environment");
    b.compute = r.str("batch.compute_type", "ec2") == "spot" ? batch_compute::spot : batch_compute::ec2;
    b.instance_types = r.strings("batch.instance_types", b.instance_types);
    b.subnets = r.strings("batch.subnets");
    b.security_groups = r.strings("batch.security_groups");

    if (const value* t = r.get("batch.timeout"); t != nullptr && b.timeout_s > 0 && b.timeout_s < 60) {
        diag.add(
            t->where,
            std::to_string(b.timeout_s) + " is below Batch's minimum of 60 s; use 0 (no limit) or ≥ 60"
        );
    }
    if (b.vcpus > b.max_vcpus) {
        diag.add(
            r.get("batch.vcpus")->where,
            std::to_string(b.vcpus) + " vCPUs do not fit in the compute environment (max_vcpus = " +
                std::to_string(b.max_vcpus) + "); raise batch.max_vcpus or lower batch.vcpus"
        );
    }
    const auto check_ids = [&](std::string_view key, std::string_view prefix) {
        const value* v = r.get(key);
        if (v == nullptr) return;
        for (const auto& e : *v->as_array()) {
            if (!valid_aws_id(*e.as_string(), prefix)) {
                diag.add(e.where, "'" + *e.as_string() + "' is not a " + std::string(prefix) + "<hex> id");
            }
        }
    };
    check_ids("batch.subnets", "subnet-");
    check_ids("batch.security_groups", "sg-");
    check_variables(r, "batch.environment", false, diag);

    if (fn.mode == execution_mode::lambda) return;
    const std::string mode = "execution_mode = \"" + std::string(to_string(fn.mode)) + "\"";
    if (b.instance_types.empty()) {
        diag.add(
            at(fn_at, ".batch.instance_types"),
            mode + " needs an instance type; \"optimal\" lets Batch choose"
        );
    }
    if (fn.target == target_kind::aws) {
        if (b.subnets.empty()) {
            diag.add(
                at(fn_at, ".batch.subnets"),
                mode + " on AWS needs the compute environment's subnets; set subnets = [\"subnet-…\"]"
            );
        }
        if (b.security_groups.empty()) {
            diag.add(
                at(fn_at, ".batch.security_groups"),
                mode +
                    " on AWS needs the compute environment's security groups; set security_groups = "
                    "[\"sg-…\"]"
            );
        }
    }
}

void build_api(const reader& r, function_definition& fn, diagnostics& diag) {
    const value* api = r.get("api_gateway");
    if (api == nullptr) return;
    const std::string name = r.str("api_gateway.name");
    if (name.empty()) {
        if (const value* set = set_outside_defaults(*api)) {
            diag.add(
                parent_of(set->where),
                "no name; set name = \"<api name>\" to create the API, or remove the table"
            );
        }
        return;
    }
    config::api_gateway a;
    a.name = name;
    a.stage = r.str("api_gateway.stage", a.stage);
    a.path = r.str("api_gateway.path", a.path);
    a.binary_media_types = r.strings("api_gateway.binary_media_types", a.binary_media_types);
    if (a.name.size() > 128) diag.add(r.get("api_gateway.name")->where, "longer than 128 characters");
    if (a.stage.empty() ||
        !all_of(a.stage, [](char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_'; })) {
        diag.add(
            r.get("api_gateway.stage")->where,
            "'" + a.stage + "' is not a stage name; use letters, digits, - and _"
        );
    }
    if (a.path.empty() || !all_of(a.path, [](char c) {
            return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.';
        })) {
        diag.add(
            r.get("api_gateway.path")->where,
            "'" + a.path + "' is not a path segment; use letters, digits, ., - and _"
        );
    }
    if (const value* types = r.get("api_gateway.binary_media_types")) {
        for (const auto& e : *types->as_array()) {
            const auto& t = *e.as_string();
            const auto slash = t.find('/');
            if (slash == std::string::npos || slash == 0 || slash + 1 == t.size()) {
                diag.add(e.where, "'" + t + "' is not a media type; use type/subtype (image/png, */*)");
            }
        }
    }
    fn.api_gateway = std::move(a);
}

std::optional<function_definition> build_function(
    const merged_function& mf,
    const std::map<std::string, storage_provider>& providers,
    bool check_scripts,
    diagnostics& diag
) {
    const reader r(mf.keys, diag);
    function_definition fn;
    const std::size_t errors_before = diag.lines().size();

    fn.name = r.str("name");
    if (const value* v = r.get("name"); v == nullptr) {
        diag.add(mf.where, "no name; set name = \"<name>\" (1–64 letters, digits, - and _)");
    } else if (!valid_function_name(fn.name)) {
        diag.add(v->where, "'" + fn.name + "' is not a function name; use 1–64 letters, digits, - and _");
    }
    fn.image = r.str("image");
    if (const value* v = r.get("image"); v == nullptr || fn.image.empty()) {
        diag.add(mf.where, "no image; set image = \"<repository>[:tag]\" (e.g. \"grycap/imagemagick\")");
    } else if (fn.image.find_first_of(" \t\n") != std::string::npos) {
        diag.add(v->where, "'" + fn.image + "' is not an image reference: it contains white space");
    }
    fn.description = r.str("description", fn.description);
    if (fn.description.size() > 256) {
        diag.add(r.get("description")->where, "longer than 256 characters, which Lambda refuses; shorten it");
    }
    fn.memory_mb = r.num("memory", fn.memory_mb);
    fn.timeout_s = r.num("timeout", fn.timeout_s);
    fn.timeout_threshold_s = r.num("timeout_threshold", fn.timeout_threshold_s);
    if (fn.timeout_threshold_s >= fn.timeout_s) {
        diag.add(
            r.get("timeout_threshold")->where,
            std::to_string(fn.timeout_threshold_s) + " leaves the script no time (timeout is " +
                std::to_string(fn.timeout_s) + "); use 0–" + std::to_string(fn.timeout_s - 1)
        );
    }
    fn.ephemeral_storage_mb = r.num("ephemeral_storage", fn.ephemeral_storage_mb);
    const std::string mode = r.str("execution_mode", "lambda");
    fn.mode = mode == "batch"
                  ? execution_mode::batch
                  : (mode == "lambda-batch" ? execution_mode::lambda_batch : execution_mode::lambda);
    fn.log_level = r.str("log_level", fn.log_level);
    fn.architecture = r.str("architecture", fn.architecture);
    fn.file_stage_in = r.flag("file_stage_in", fn.file_stage_in);

    fn.target = r.str("deployment.target", "local") == "aws" ? target_kind::aws : target_kind::local;
    fn.region = r.str("deployment.region", fn.region);
    fn.endpoint = r.str("deployment.endpoint");
    check_region(r.get("deployment.region"), diag);
    check_endpoint(r.get("deployment.endpoint"), diag);

    fn.role = r.str("role");
    if (!fn.role.empty() && !valid_role_arn(fn.role)) {
        diag.add(
            r.get("role")->where,
            "'" + fn.role + "' is not an IAM role ARN; use arn:aws:iam::<12-digit account>:role/<name>"
        );
    } else if (fn.role.empty() && fn.target == target_kind::aws) {
        diag.add(
            at(mf.where, ".role"),
            "deploying to AWS needs the function's IAM role; set role = "
            "\"arn:aws:iam::<account>:role/<name>\""
        );
    }
    fn.layers = r.strings("layers");
    if (const value* layers = r.get("layers")) {
        if (fn.layers.size() > 5) {
            diag.add(layers->where, std::to_string(fn.layers.size()) + " layers; Lambda allows at most 5");
        }
        std::vector<std::string> seen;
        for (const auto& e : *layers->as_array()) {
            const auto& arn = *e.as_string();
            if (!valid_layer_arn(arn)) {
                diag.add(
                    e.where,
                    "'" + arn +
                        "' is not a layer version ARN; use "
                        "arn:aws:lambda:<region>:<account>:layer:<name>:<version>"
                );
            } else if (std::find(seen.begin(), seen.end(), arn) != seen.end()) {
                diag.add(e.where, "'" + arn + "' is listed twice; list each layer once");
            }
            seen.push_back(arn);
        }
    }

    fn.environment = r.string_map("environment");
    fn.container_environment = r.string_map("container.environment");
    check_variables(r, "environment", true, diag);
    check_variables(r, "container.environment", false, diag);

    fn.init_script = script(r, "init_script", check_scripts, diag);
    fn.run_script = script(r, "run_script", check_scripts, diag);

    for (const bool output : {false, true}) {
        const value* list = r.get(output ? "output" : "input");
        if (list == nullptr) continue;
        for (const auto& element : *list->as_array()) {
            if (auto loc = location(element, output, providers, diag)) {
                (output ? fn.outputs : fn.inputs).push_back(std::move(*loc));
            }
        }
    }
    const value* outs = r.get("output");
    const value* ins = r.get("input");
    if (outs != nullptr && ins != nullptr && fn.outputs.size() == outs->as_array()->size() &&
        fn.inputs.size() == ins->as_array()->size()) {
        std::size_t i = 0;
        for (const auto& out : fn.outputs) {
            for (const auto& in : fn.inputs) {
                if (inside(out, in)) {
                    const value& element = (*outs->as_array())[i];
                    diag.add(
                        find(*element.as_table(), "path")->where,
                        "'" + out.path() + "' is inside the input '" + in.path() +
                            "', so every output would trigger the function again; write the outputs to "
                            "another folder"
                    );
                }
            }
            ++i;
        }
    }

    build_api(r, fn, diag);
    fn.log_retention_days = r.num("cloudwatch.log_retention_days", fn.log_retention_days);
    build_batch(r, mf.where, fn, diag);

    if (diag.lines().size() != errors_before) return std::nullopt;
    return fn;
}

}  // namespace

std::optional<definitions> build(const build_input& in, diagnostics& diag) {
    definitions defs;
    defs.storage = build_providers(in, diag);

    struct input_at {
        storage_path path;
        std::string function;
        origin where;
    };
    std::vector<input_at> inputs;
    std::map<std::string, origin> names;
    for (const auto& mf : in.functions) {
        auto fn = build_function(mf, defs.storage, in.check_scripts, diag);
        if (!fn) continue;
        const value* name = find(mf.keys, "name");
        if (auto [it, fresh] = names.emplace(fn->name, name->where); !fresh) {
            diag.add(
                name->where,
                "'" + fn->name + "' is already the name of the function at " + it->second.where() +
                    "; give each function its own name"
            );
        }
        const value* list = find(mf.keys, "input");
        for (std::size_t i = 0; i < fn->inputs.size(); ++i) {
            const origin where = find(*(*list->as_array())[i].as_table(), "path")->where;
            for (const auto& other : inputs) {
                if (inside(fn->inputs[i], other.path) || inside(other.path, fn->inputs[i])) {
                    diag.add(
                        where,
                        "'" + fn->inputs[i].path() + "' overlaps the input '" + other.path.path() + "' of '" +
                            other.function + "' (" + other.where.where() +
                            "); S3 refuses overlapping notifications, so use separate folders"
                    );
                }
            }
            inputs.push_back({fn->inputs[i], fn->name, where});
        }
        defs.functions.push_back(std::move(*fn));
    }
    if (!diag.empty()) return std::nullopt;
    return defs;
}

}  // namespace scar::config::detail

namespace scar::config {

std::string_view to_string(execution_mode m) noexcept {
    switch (m) {
        case execution_mode::lambda:
            return "lambda";
        case execution_mode::batch:
            return "batch";
        case execution_mode::lambda_batch:
            return "lambda-batch";
    }
    return "lambda";
}

std::string_view to_string(target_kind t) noexcept {
    return t == target_kind::aws ? "aws" : "local";
}

std::string_view to_string(batch_compute c) noexcept {
    return c == batch_compute::spot ? "spot" : "ec2";
}

const storage_provider* definitions::provider_of(const storage_path& p) const {
    const auto it = storage.find(p.provider);
    return it == storage.end() ? nullptr : &it->second;
}

}  // namespace scar::config
