#include "schema.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace scar::config::detail {
namespace {

spec key(std::string name, kind k, std::string scar, std::string meaning) {
    spec s;
    s.name = std::move(name);
    s.kind = k;
    s.scar = std::move(scar);
    s.meaning = std::move(meaning);
    return s;
}

spec range(spec s, std::optional<std::int64_t> min, std::optional<std::int64_t> max) {
    s.min = min;
    s.max = max;
    return s;
}

spec valid(spec s, std::string text) {
    s.valid = std::move(text);
    return s;
}

spec one_of(spec s, std::vector<std::string> values) {
    s.one_of = std::move(values);
    return s;
}

spec with(spec s, std::vector<spec> children, std::vector<std::pair<std::string, std::string>> hints = {}) {
    s.children = std::move(children);
    s.hints = std::move(hints);
    return s;
}

std::vector<spec> deployment_keys() {
    return {
        one_of(
            key("target", kind::string, "—", "Where scar deploys: the local emulator or AWS."),
            {"local", "aws"}
        ),
        valid(
            key("region",
                kind::string,
                "<service>.region",
                "The AWS region of every resource of the function."),
            "an AWS region name (us-east-1)"
        ),
        valid(
            key("endpoint",
                kind::string,
                "—",
                "The endpoint of every AWS service; unset: the emulator's (local) or AWS's (aws)."),
            "http(s)://host[:port]"
        ),
    };
}

std::vector<spec> storage_path_keys(bool output) {
    std::vector<spec> keys;
    spec storage = valid(
        key("storage",
            kind::string,
            output ? "lambda.output.storage_provider" : "lambda.input.storage_provider",
            "The provider: `s3` (= `s3.default`, the function's own credentials) or `<type>.<id>` of a "
            "`[storage.<type>.<id>]` table."),
        "s3, s3.<id>, minio.<id> of a defined provider"
    );
    storage.element_default = "\"s3\"";
    keys.push_back(std::move(storage));
    keys.push_back(valid(
        key("path",
            kind::string,
            output ? "lambda.output.path" : "lambda.input.path",
            output ? "Where files written to `$TMP_OUTPUT_DIR` are uploaded. Required."
                   : "Uploads under it trigger the function. Required."),
        "bucket[/folder], bucket per S3's naming rules"
    ));
    if (output) {
        keys.push_back(
            key("prefix",
                kind::string_array,
                "lambda.output.prefix",
                "Upload only files whose path (relative to `$TMP_OUTPUT_DIR`) starts with one of these.")
        );
        keys.push_back(
            key("suffix",
                kind::string_array,
                "lambda.output.suffix",
                "Upload only files whose name ends with one of these.")
        );
    }
    return keys;
}

spec make_function_spec() {
    const std::string env_valid_lambda = "names [A-Za-z][A-Za-z0-9_]+, not reserved by Lambda; 4 KB in all";
    const std::string env_valid_posix = "names [A-Za-z_][A-Za-z0-9_]*";
    std::vector<spec> keys = {
        valid(
            key("name",
                kind::string,
                "lambda.name",
                "The function; also its log group `/aws/lambda/<name>`, its ECR repository and its Batch "
                "resources. "
                "Required."),
            "1–64 letters, digits, - and _"
        ),
        valid(
            key("image", kind::string, "lambda.container.image", "The container image that runs. Required."),
            "an image reference (repository[:tag][@digest])"
        ),
        valid(
            key("description", kind::string, "lambda.description", "The Lambda function's description."),
            "at most 256 characters"
        ),
        range(key("memory", kind::integer, "lambda.memory", "Memory of the function in MB."), 128, 10240),
        range(key("timeout", kind::integer, "lambda.timeout", "Seconds an invocation may run."), 1, 900),
        valid(
            range(
                key("timeout_threshold",
                    kind::integer,
                    "lambda.container.timeout_threshold",
                    "Seconds kept back from the timeout to upload the outputs."),
                0,
                899
            ),
            "0–899, less than timeout"
        ),
        range(key("ephemeral_storage", kind::integer, "—", "Size of the function's /tmp in MB."), 512, 10240),
        one_of(
            key("execution_mode",
                kind::string,
                "lambda.execution_mode",
                "Where the script runs: in Lambda, as a Batch job, or in Lambda and then in Batch if it "
                "would time "
                "out."),
            {"lambda", "batch", "lambda-batch"}
        ),
        one_of(
            key("log_level", kind::string, "lambda.log_level", "The supervisor's log level."),
            {"debug", "info", "warning", "error"}
        ),
        one_of(
            key("architecture",
                kind::string,
                "lambda.architectures",
                "The instruction set the function runs on."),
            {"x86_64", "arm64"}
        ),
        valid(
            key("role",
                kind::string,
                "iam.role",
                "The IAM role the function runs with; required on AWS, the emulator's when local."),
            "arn:aws:iam::<account>:role/<name>"
        ),
        valid(
            key("layers", kind::string_array, "lambda.layers", "Lambda layers added to the function."),
            "at most 5 layer version ARNs"
        ),
        valid(
            key("init_script",
                kind::string,
                "lambda.init_script",
                "The script run on every invocation; relative paths start at the file that sets it."),
            "an existing file"
        ),
        valid(
            key("run_script",
                kind::string,
                "lambda.run_script",
                "The script `scar run` sends when it is given none; relative like init_script."),
            "an existing file"
        ),
        key("file_stage_in",
            kind::boolean,
            "lambda.file_stage_in",
            "true: the supervisor does not download the input."),
        valid(
            key("environment",
                kind::string_table,
                "lambda.environment.Variables",
                "Variables of the Lambda function (the supervisor sees them, the script does not)."),
            env_valid_lambda
        ),
        with(
            key("container", kind::section, "lambda.container", "What the user's script sees."),
            {valid(
                key("environment",
                    kind::string_table,
                    "lambda.container.environment.Variables",
                    "Variables of the user's script."),
                env_valid_posix + ", not one the supervisor sets"
            )},
            {{"image", "SCAR's container.image is 'image' in [[function]]"},
             {"timeout_threshold",
              "SCAR's container.timeout_threshold is 'timeout_threshold' in [[function]]"}}
        ),
        with(
            key("input",
                kind::table_array,
                "lambda.input",
                "Storage paths whose uploads trigger the function."),
            storage_path_keys(false),
            {{"prefix",
              "filters apply to outputs only (every upload under an input path triggers the function); "
              "remove it "
              "or move it to a [[function.output]]"},
             {"suffix",
              "filters apply to outputs only (every upload under an input path triggers the function); "
              "remove it "
              "or move it to a [[function.output]]"},
             {"storage_provider", "SCAR's 'storage_provider' is 'storage' here"}}
        ),
        with(
            key("output", kind::table_array, "lambda.output", "Storage paths the outputs are uploaded to."),
            storage_path_keys(true),
            {{"storage_provider", "SCAR's 'storage_provider' is 'storage' here"}}
        ),
        with(
            key("api_gateway",
                kind::section,
                "api_gateway",
                "An API Gateway REST API in front of the function, made when `name` is set."),
            {
                valid(
                    key("name",
                        kind::string,
                        "api_gateway.name",
                        "The REST API's name; set it to create the API."),
                    "1–128 characters"
                ),
                valid(
                    key("stage", kind::string, "api_gateway.stage_name", "The deployment stage of the API."),
                    "letters, digits, - and _"
                ),
                valid(
                    key("path",
                        kind::string,
                        "—",
                        "The path the CLI invokes under the stage (`/<stage>/<path>`)."),
                    "letters, digits, ., - and _"
                ),
                valid(
                    key("binary_media_types",
                        kind::string_array,
                        "—",
                        "Content types API Gateway passes through as binary."),
                    "type/subtype, * allowed"
                ),
            }
        ),
        with(
            key("cloudwatch", kind::section, "cloudwatch", "The function's log group."),
            {one_of(
                key("log_retention_days",
                    kind::integer,
                    "cloudwatch.log_retention_policy_in_days",
                    "Days CloudWatch keeps the function's logs."),
                {"1",   "3",   "5",   "7",   "14",   "30",   "60",   "90",   "120",  "150",  "180",
                 "365", "400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653"}
            )},
            {{"log_retention_policy_in_days",
              "SCAR's 'log_retention_policy_in_days' is 'log_retention_days' here"}}
        ),
        with(
            key("batch",
                kind::section,
                "batch",
                "AWS Batch resources, used when execution_mode is batch or lambda-batch."),
            {
                valid(
                    range(key("vcpus", kind::integer, "batch.vcpus", "vCPUs of the job."), 1, std::nullopt),
                    "1–max_vcpus"
                ),
                range(
                    key("memory", kind::integer, "batch.memory", "Memory of the job in MiB."),
                    4,
                    std::nullopt
                ),
                key("gpu", kind::boolean, "batch.enable_gpu", "true: the job gets one GPU."),
                range(
                    key("max_vcpus",
                        kind::integer,
                        "batch.compute_resources.max_v_cpus",
                        "vCPUs of the compute environment."),
                    1,
                    std::nullopt
                ),
                range(key("attempts", kind::integer, "—", "Attempts of a job before it fails."), 1, 10),
                valid(
                    range(
                        key("timeout", kind::integer, "—", "Seconds an attempt may run; 0: no limit."),
                        0,
                        std::nullopt
                    ),
                    "0 or ≥ 60"
                ),
                one_of(
                    key("compute_type",
                        kind::string,
                        "batch.compute_resources.type",
                        "On-demand or Spot EC2 instances."),
                    {"ec2", "spot"}
                ),
                key("instance_types",
                    kind::string_array,
                    "batch.compute_resources.instance_types",
                    "EC2 instance types of the compute environment."),
                valid(
                    key("subnets",
                        kind::string_array,
                        "batch.compute_resources.subnets",
                        "Subnets of the compute environment; required on AWS."),
                    "subnet-<hex> ids"
                ),
                valid(
                    key("security_groups",
                        kind::string_array,
                        "batch.compute_resources.security_group_ids",
                        "Security groups of the compute environment; required on AWS."),
                    "sg-<hex> ids"
                ),
                valid(
                    key("environment",
                        kind::string_table,
                        "batch.environment.Variables",
                        "Variables added to the job (after container.environment)."),
                    env_valid_posix + ", not AWS_BATCH*"
                ),
            },
            {{"enable_gpu", "SCAR's 'enable_gpu' is 'gpu' here"},
             {"compute_resources", "SCAR's compute_resources keys are directly in [function.batch] here"}}
        ),
        with(
            key("deployment", kind::section, "—", "Overrides the file's `[deployment]` for this function."),
            deployment_keys()
        ),
    };
    return with(
        key("function",
            kind::table_array,
            "functions.aws[].lambda",
            "One function; a file may define several."),
        std::move(keys),
        {{"lambda", "scar has no [lambda] level: write its keys directly in [[function]]"},
         {"iam", "write role = \"arn:aws:iam::<account>:role/<name>\" in [[function]]"},
         {"architectures", "write architecture = \"x86_64\" or \"arm64\" (one string)"},
         {"runtime", "scar functions always run as container images (SCAR's runtime = \"image\"); remove it"},
         {"storage_providers", "providers are top-level [storage.<type>.<id>] tables"}}
    );
}

spec make_provider_spec(const std::string& type) {
    const bool minio = type == "minio";
    const std::string fdl = "storage_providers." + type + ".<id>.";
    return with(
        key("<id>",
            kind::section,
            "storage_providers." + type + ".<id>",
            "A storage provider named `" + type + ".<id>`."),
        {
            valid(
                key("endpoint",
                    kind::string,
                    minio ? fdl + "endpoint" : "—",
                    minio ? "The MinIO server's URL. Required."
                          : "The S3 API endpoint; unset: AWS's (or the emulator's)."),
                "http(s)://host[:port]"
            ),
            valid(
                key("region", kind::string, fdl + "region", "The provider's region; unset: the function's."),
                "an AWS region name (us-east-1)"
            ),
            key("access_key", kind::string, fdl + "access_key", "Access key id."),
            key("secret_key", kind::string, fdl + "secret_key", "Secret access key."),
            key("session_token", kind::string, "—", "Session token of temporary credentials."),
            key("verify_tls",
                kind::boolean,
                minio ? fdl + "verify" : "—",
                "false: accept any TLS certificate (self-signed test servers)."),
            key("path_style",
                kind::boolean,
                "—",
                "true: bucket in the path (`http://host/bucket/key`), for endpoints without virtual hosts."),
        },
        {{"verify", "SCAR's 'verify' is 'verify_tls' here"}}
    );
}

spec make_file_spec() {
    spec fn_defaults = with(
        key("function",
            kind::section,
            "aws.lambda (scar.cfg)",
            "Every function key but `name` and `deployment`; in a definition file, for its own functions "
            "only."),
        {},
        {{"name", "each function names itself; set name in [[function]]"},
         {"deployment", "set the top-level [deployment] table instead"}}
    );
    for (const auto& c : function_spec().children) {
        if (c.name != "name" && c.name != "deployment") fn_defaults.children.push_back(c);
    }
    fn_defaults.document_children = false;

    auto type_defaults = [](std::string type) {
        spec s = provider_spec(type);
        s.name = type;
        s.scar = "—";
        s.meaning = "Defaults of every `[storage." + s.name + ".<id>]` provider.";
        s.document_children = false;
        return s;
    };
    auto providers = [](std::string type, std::string meaning) {
        spec s = key(type, kind::id_table, "storage_providers." + type + ".<id>", std::move(meaning));
        s.children = {provider_spec(type)};
        return s;
    };
    return with(
        key("", kind::section, "", ""),
        {
            function_spec(),
            with(
                key("defaults",
                    kind::section,
                    "—",
                    "Defaults of functions (`defaults.function`) and of providers by type "
                    "(`defaults.storage`)."),
                {fn_defaults,
                 with(
                     key("storage", kind::section, "—", "Defaults of providers by type."),
                     {type_defaults("s3"), type_defaults("minio")}
                 )}
            ),
            with(
                key("deployment", kind::section, "—", "Where the functions of the file are deployed."),
                deployment_keys()
            ),
            with(
                key("storage", kind::section, "storage_providers", "Storage providers by type and id."),
                {providers(
                     "s3",
                     "An S3 provider, `s3.<id>` in inputs and outputs (`s3.default`: the function's own "
                     "credentials)."
                 ),
                 providers(
                     "minio",
                     "A MinIO (or other S3-compatible) provider, `minio.<id>` in inputs and outputs."
                 )}
            ),
        },
        {{"functions", "write one [[function]] table per function (SCAR's functions.aws list)"},
         {"storage_providers", "providers are [storage.<type>.<id>] tables"}}
    );
}

std::string article(kind k) {
    const std::string_view t = type_name(k);
    const char first = t.front();
    const bool vowel = first == 'a' || first == 'e' || first == 'i' || first == 'o' || first == 'u';
    return (vowel ? "an " : "a ") + std::string(t);
}

bool is_decimal(const std::string& s) {
    return !s.empty() && std::all_of(s.begin() + (s[0] == '-' ? 1 : 0), s.end(), [](unsigned char c) {
        return std::isdigit(c) != 0;
    }) && s != "-";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
}

void type_error(const value& v, const spec& s, std::string_view schema_path, diagnostics& diag) {
    std::string msg = "expected " + article(s.kind) + ", got " + describe(v);
    const std::string* str = v.as_string();
    if (s.kind == kind::integer && str != nullptr && is_decimal(*str)) {
        msg += "; write it without quotes: " + *str;
    } else if (const double* d = std::get_if<double>(&v.data);
               s.kind == kind::integer && d != nullptr && std::floor(*d) == *d && std::abs(*d) < 1e15) {
        msg += "; write it without a decimal point: " + std::to_string(static_cast<std::int64_t>(*d));
    } else if (s.kind == kind::boolean && str != nullptr && (*str == "true" || *str == "false")) {
        msg += "; write it without quotes: " + *str;
    } else if (s.kind == kind::string && (v.as_integer() != nullptr || v.as_bool() != nullptr || std::holds_alternative<double>(v.data))) {
        msg += "; quote it";
    } else if (s.kind == kind::string_array && str != nullptr) {
        msg += "; write it as an array: [" + toml_string(*str) + "]";
    } else if (s.kind == kind::table_array && v.as_table() != nullptr) {
        msg += "; write [[" + std::string(schema_path) + "]] (two brackets) for each entry";
    }
    diag.add(v.where, msg);
}

bool check_value(value& v, const spec& s, const std::string& schema_path, diagnostics& diag);

bool check_string_table(value& v, const std::string& schema_path, diagnostics& diag) {
    std::erase_if(*v.as_table(), [&](const entry& e) {
        if (e.val.as_string() != nullptr) return false;
        if (e.key == "Variables" && e.val.as_table() != nullptr) {
            diag.add(
                e.key_origin(),
                "SCAR's 'Variables' level is gone: write the variables directly in [" + schema_path + "]"
            );
        } else {
            const bool scalar = e.val.as_table() == nullptr && e.val.as_array() == nullptr;
            diag.add(e.val.where, "expected a string, got " + describe(e.val) + (scalar ? "; quote it" : ""));
        }
        return true;
    });
    return true;
}

bool check_scalar(const value& v, const spec& s, diagnostics& diag) {
    if (const auto* i = v.as_integer()) {
        if (!s.one_of.empty()) {
            if (std::find(s.one_of.begin(), s.one_of.end(), std::to_string(*i)) == s.one_of.end()) {
                diag.add(v.where, std::to_string(*i) + " is not one of " + join(s.one_of));
                return false;
            }
            return true;
        }
        if (s.min && *i < *s.min) {
            diag.add(
                v.where,
                std::to_string(*i) + " is below the minimum " + std::to_string(*s.min) + "; use " +
                    valid_text(s)
            );
            return false;
        }
        if (s.max && *i > *s.max) {
            diag.add(
                v.where,
                std::to_string(*i) + " is above the maximum " + std::to_string(*s.max) + "; use " +
                    valid_text(s)
            );
            return false;
        }
    } else if (const auto* str = v.as_string(); str != nullptr && !s.one_of.empty()) {
        if (std::find(s.one_of.begin(), s.one_of.end(), *str) == s.one_of.end()) {
            std::string msg = "'" + *str + "' is not one of " + join(s.one_of);
            if (auto close = suggest(*str, s.one_of)) msg += "; did you mean '" + *close + "'?";
            diag.add(v.where, msg);
            return false;
        }
    }
    return true;
}

bool check_value(value& v, const spec& s, const std::string& schema_path, diagnostics& diag) {
    switch (s.kind) {
        case kind::string:
            if (v.as_string() == nullptr) break;
            return check_scalar(v, s, diag);
        case kind::integer:
            if (v.as_integer() == nullptr) break;
            return check_scalar(v, s, diag);
        case kind::boolean:
            if (v.as_bool() == nullptr) break;
            return true;
        case kind::string_array: {
            const array* a = v.as_array();
            if (a == nullptr) break;
            bool ok = true;
            for (const auto& e : *a) {
                if (e.as_string() == nullptr) {
                    diag.add(e.where, "expected a string, got " + describe(e));
                    ok = false;
                }
            }
            return ok;
        }
        case kind::string_table:
            if (v.as_table() == nullptr) break;
            return check_string_table(v, schema_path, diag);
        case kind::section:
            if (v.as_table() == nullptr) break;
            check(*v.as_table(), s, schema_path, diag);
            return true;
        case kind::table_array: {
            array* a = v.as_array();
            if (a == nullptr) break;
            bool ok = true;
            for (auto& e : *a) {
                if (e.as_table() == nullptr) {
                    diag.add(
                        e.where,
                        "expected a table, got " + describe(e) + "; write [[" + schema_path + "]] tables"
                    );
                    ok = false;
                } else {
                    check(*e.as_table(), s, schema_path, diag);
                }
            }
            return ok;
        }
        case kind::id_table: {
            table* t = v.as_table();
            if (t == nullptr) break;
            std::erase_if(*t, [&](entry& e) {
                const bool id_ok = !e.key.empty() && e.key.size() <= 64 &&
                                   std::all_of(e.key.begin(), e.key.end(), [](unsigned char c) {
                                       return std::isalnum(c) != 0 || c == '-' || c == '_';
                                   });
                if (!id_ok) {
                    diag.add(e.key_origin(), "an id is 1–64 letters, digits, - and _");
                    return true;
                }
                return !check_value(e.val, s.children.front(), schema_path + ".<id>", diag);
            });
            return true;
        }
    }
    type_error(v, s, schema_path, diag);
    return false;
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

const spec& function_spec() {
    static const spec s = make_function_spec();
    return s;
}

const spec& provider_spec(std::string_view type) {
    static const spec s3 = make_provider_spec("s3");
    static const spec minio = make_provider_spec("minio");
    return type == "minio" ? minio : s3;
}

const spec& file_spec() {
    static const spec s = make_file_spec();
    return s;
}

const spec* child(const spec& s, std::string_view name) {
    for (const auto& c : s.children) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

const spec* spec_at(const spec& s, std::string_view dotted) {
    const spec* current = &s;
    while (!dotted.empty()) {
        if (current->kind == kind::string_table) return current;
        const auto dot = dotted.find('.');
        const spec* next = current->kind == kind::id_table ? &current->children.front()
                                                           : child(*current, dotted.substr(0, dot));
        if (next == nullptr) return nullptr;
        current = next;
        dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
    }
    return current;
}

std::string_view type_name(kind k) {
    switch (k) {
        case kind::string:
            return "string";
        case kind::integer:
            return "integer";
        case kind::boolean:
            return "boolean";
        case kind::string_array:
            return "array of strings";
        case kind::string_table:
            return "table of strings";
        case kind::section:
        case kind::id_table:
            return "table";
        case kind::table_array:
            return "array of tables";
    }
    return "value";
}

std::string valid_text(const spec& s) {
    if (!s.valid.empty()) return s.valid;
    if (!s.one_of.empty()) return join(s.one_of);
    if (s.min && s.max) return std::to_string(*s.min) + "–" + std::to_string(*s.max);
    if (s.min) return "≥ " + std::to_string(*s.min);
    return "—";
}

std::optional<std::string> suggest(std::string_view word, const std::vector<std::string>& candidates) {
    const std::string w = lower(word);
    const std::size_t limit = w.size() <= 3 ? 1 : (w.size() <= 6 ? 2 : 3);
    std::optional<std::string> best;
    std::size_t best_d = limit + 1;
    for (const auto& c : candidates) {
        const std::size_t d = distance(w, lower(c));
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

void check(table& doc, const spec& s, std::string_view schema_path, diagnostics& diag) {
    std::erase_if(doc, [&](entry& e) {
        const spec* c = child(s, e.key);
        if (c == nullptr) {
            std::string msg = "unknown key";
            const auto hint =
                std::find_if(s.hints.begin(), s.hints.end(), [&](const auto& h) { return h.first == e.key; });
            std::vector<std::string> names;
            for (const auto& k : s.children) names.push_back(k.name);
            if (hint != s.hints.end()) {
                msg += "; " + hint->second;
            } else if (auto close = suggest(e.key, names)) {
                msg += "; did you mean '" + *close + "'?";
            } else {
                msg += "; valid keys here: " + join(names);
            }
            diag.add(e.key_origin(), msg);
            return true;
        }
        const std::string path = schema_path.empty() ? c->name : std::string(schema_path) + "." + c->name;
        return !check_value(e.val, *c, path, diag);
    });
}

}  // namespace scar::config::detail
