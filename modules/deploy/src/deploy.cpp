#include "scar/deploy/deploy.hpp"

#include <scar/core/log.hpp>
#include <scar/deploy/api.hpp>
#include <scar/image/build.hpp>
#include <scar/image/pull.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/registry.hpp>
#include <scar/image/store.hpp>
#include <scar/lambda/client.hpp>
#include <scar/s3/client.hpp>
#include <scar/s3/notification.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "api_resources.hpp"
#include "aws_json.hpp"
#include "batch_resources.hpp"

namespace scar::deploy {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using detail::json_service;
using detail::string_at;

constexpr std::string_view ecr_prefix = "AmazonEC2ContainerRegistry_V20150921";
constexpr std::string_view logs_prefix = "Logs_20140328";

json_service ecr_of(const target& t) {
    return {t.ecr_url, t.region, t.credentials, "ecr", std::string(ecr_prefix)};
}

json_service logs_of(const target& t) {
    return {t.logs_url, t.region, t.credentials, "logs", std::string(logs_prefix)};
}

lambda::client lambda_of(const target& t) {
    return lambda::client(lambda::endpoint{t.lambda_url, t.region, t.credentials});
}

s3::client s3_of(const target& t) {
    s3::client_options o;
    o.endpoint = t.s3_url;
    o.region = t.region;
    o.credentials = t.credentials;
    return s3::client(std::move(o));
}

std::string log_group_of(std::string_view name) {
    return "/aws/lambda/" + std::string(name);
}

/// The ECR token for the image module's registry client.
image::ecr_token_provider token_provider(const target& t) {
    return [t](std::string_view) -> result<std::string> {
        auto ecr = ecr_of(t);
        auto r = ecr.call("GetAuthorizationToken", json::object());
        if (!r) return r.error();
        const auto* data = r->as_object().if_contains("authorizationData");
        if (data == nullptr || !data->is_array() || data->as_array().empty())
            return make_error("EcrAuthFailed", "GetAuthorizationToken answered no authorizationData");
        return string_at(data->as_array()[0], "authorizationToken");
    };
}

/// The repository's URI, created when missing; `created` says which.
result<std::string> ensure_repository(const target& t, const std::string& name, bool& created) {
    auto ecr = ecr_of(t);
    auto made = ecr.call("CreateRepository", json::object{{"repositoryName", name}});
    if (made) {
        created = true;
        return string_at(made->at("repository"), "repositoryUri");
    }
    if (made.error().code != "RepositoryAlreadyExistsException") return made.error();
    created = false;
    auto got = ecr.call("DescribeRepositories", json::object{{"repositoryNames", json::array{name}}});
    if (!got) return got.error();
    const auto& repos = got->at("repositories").as_array();
    if (repos.empty()) return make_error("RepositoryNotFoundException", "repository '" + name + "' vanished");
    return string_at(repos[0], "repositoryUri");
}

result<void> write_file(const fs::path& p, std::string_view content) {
    std::ofstream out(p, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out)
        return make_error("IOError", "cannot write '" + p.string() + "'; check the disk and permissions");
    return {};
}

/// A temporary directory removed when it goes out of scope.
struct temp_dir {
    temp_dir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("scar-init-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    fs::path path;
};

/// The function's image: the user's image, plus /opt/scar (the supervisor bundle) and
/// /var/task (deployed configuration and script), started by the supervisor.
result<std::string> build_function_image(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const init_options& o,
    const std::string& repository_uri
) {
    if (!fs::is_regular_file(o.supervisor_dir / "scar-supervisor")) {
        return make_error(
            "SupervisorMissing",
            "no supervisor at '" + (o.supervisor_dir / "scar-supervisor").string() +
                "'; build it (./scripts/build.sh) or point --supervisor at its bundle directory"
        );
    }
    auto base = image::parse_reference(fn.image);
    if (!base) return base.error().wrap("the image of function '" + fn.name + "'");
    auto target_ref = image::parse_reference(repository_uri + ":latest");
    if (!target_ref) return target_ref.error();

    // Two layers: the supervisor bundle at /opt/scar (the same bytes for every function, so
    // a registry stores it once) and the function's own files at /var/task.
    temp_dir stage;
    const fs::path opt = stage.path / "supervisor", task = stage.path / "task";
    {
        std::error_code ec;
        fs::create_directories(opt / "opt", ec);
        fs::create_directories(task / "var" / "task", ec);
        fs::copy(
            o.supervisor_dir,
            opt / "opt" / "scar",
            fs::copy_options::recursive | fs::copy_options::copy_symlinks,
            ec
        );
        if (ec) return make_error("LocalIOError", "cannot stage the supervisor bundle: " + ec.message());
    }
    if (auto ok = write_file(task / "var" / "task" / "function.toml", config::to_toml(fn, defs)); !ok)
        return ok.error();
    if (!fn.init_script.empty()) {
        std::error_code ec;
        fs::copy_file(fn.init_script, task / "var" / "task" / fn.init_script.filename(), ec);
        if (ec)
            return make_error(
                "ConfigInvalid",
                "cannot read the script '" + fn.init_script.string() + "': " + ec.message()
            );
    }

    image::build_request req;
    req.base = *base;
    req.target = *target_ref;
    req.layers = {opt, task};
    req.layer.mtime = 0;  // reproducible: the supervisor layer has one digest everywhere
    req.changes.labels["org.scar.function"] = fn.name;
    for (const auto& [k, v] : fn.container_environment) req.changes.env.push_back(k + "=" + v);

    image::registry_options ro;
    ro.insecure_registries = o.insecure_registries;
    ro.auth.ecr_token = token_provider(t);
    ro.auth.ecr_registries.push_back(target_ref->registry);
    const image::store st = o.image_store.empty() ? image::store() : image::store(o.image_store);

    // The supervisor starts first and keeps the image's own command after `--` (run for
    // `cmd_args` and when there is no script); see docs/supervisor.md.
    image::registry_client base_registry(base->registry, ro);
    auto resolved = image::resolve_image(base_registry, *base, image::platform{}, st);
    if (!resolved) return resolved.error().wrap("reading the image " + fn.image);
    const auto& user = resolved->config.config;
    std::vector<std::string> entry = {"/opt/scar/scar-supervisor"};
    if (!user.entrypoint.empty() || !user.cmd.empty()) {
        entry.insert(entry.end(), {"--entrypoint-words", std::to_string(user.entrypoint.size()), "--"});
        entry.insert(entry.end(), user.entrypoint.begin(), user.entrypoint.end());
    }
    req.changes.entrypoint = entry;
    req.changes.cmd = user.cmd;  // setting ENTRYPOINT clears an inherited CMD: keep it
    if (user.working_dir.empty()) req.changes.working_dir = "/var/task";
    auto built = image::build_image(req, st, ro);
    if (!built) return built.error().wrap("building the image of '" + fn.name + "'");
    return repository_uri + "@" + built->manifest_digest;
}

/// The environment scar gives the function (Lambda variables; the script's are in the image).
std::map<std::string, std::string> function_environment(const config::function_definition& fn) {
    auto env = fn.environment;
    env[std::string(env_image)] = fn.image;
    std::string inputs;
    for (const auto& in : fn.inputs) {
        if (in.provider != "s3.default") continue;
        if (!inputs.empty()) inputs += ' ';
        inputs += "s3://" + in.path();
    }
    if (!inputs.empty()) env[std::string(env_inputs)] = inputs;
    if (detail::uses_batch(fn)) env[std::string(env_mode)] = config::to_string(fn.mode);
    return env;
}

/// The distinct buckets of "bucket/folder" paths, in order.
std::vector<std::string> buckets_of(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) {
        auto bucket = p.substr(0, p.find('/'));
        if (std::find(out.begin(), out.end(), bucket) == out.end()) out.push_back(std::move(bucket));
    }
    return out;
}

std::string function_arn_of(const target& t, std::string_view name) {
    return "arn:aws:lambda:" + t.region + ":" + t.account + ":function:" + std::string(name);
}

/// The notification rule ids scar owns for a function: "scar-<name>-<n>".
bool owned_rule(const s3::notification_rule& r, std::string_view function_arn) {
    return r.function_arn == function_arn;
}

/// Undo steps, run in reverse when a later step fails.
class rollback {
public:
    void add(std::string what, std::function<void()> undo) {
        steps_.emplace_back(std::move(what), std::move(undo));
    }
    void commit() { steps_.clear(); }
    ~rollback() {
        for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
            log::info("init: rolling back ", it->first);
            it->second();
        }
    }
    rollback() = default;
    rollback(const rollback&) = delete;
    rollback& operator=(const rollback&) = delete;

private:
    std::vector<std::pair<std::string, std::function<void()>>> steps_;
};

/// Creates the buckets and folders of `fn`'s s3 inputs and outputs, allows S3 to invoke the
/// function, and puts one ObjectCreated rule per input into its bucket's configuration
/// (replacing the function's earlier rules there, keeping everyone else's).
result<void> wire_storage(
    const target& t,
    const config::function_definition& fn,
    deployed& out,
    lambda::client& lambda,
    rollback& undo,
    const std::function<void(std::string_view)>& step
) {
    const auto fail = [](std::string_view what, const error& e) { return e.wrap(std::string(what)); };
    auto s3c = s3_of(t);
    std::vector<const config::storage_path*> paths;
    for (const auto& p : fn.inputs) paths.push_back(&p);
    for (const auto& p : fn.outputs) paths.push_back(&p);
    for (const auto* p : paths) {
        if (p->provider != "s3.default") continue;  // other providers are the supervisor's business
        if (std::find(out.buckets.begin(), out.buckets.end(), p->bucket) == out.buckets.end()) {
            step("creating bucket " + p->bucket);
            auto made = s3c.create_bucket(p->bucket);
            if (!made && made.error().code != "BucketAlreadyOwnedByYou")
                return fail("creating bucket '" + p->bucket + "'", made.error());
            out.buckets.push_back(p->bucket);
        }
        // The folder marker, unless it is there: putting it again under a live trigger would
        // invoke the function for it.
        if (!p->folder.empty() && !s3c.head_object(p->bucket, p->folder + "/")) {
            auto folder = s3c.put_object(p->bucket, p->folder + "/", "");
            if (!folder) return fail("creating folder s3://" + p->path() + "/", folder.error());
        }
    }

    int n = 0;
    std::set<std::string> cleaned;  // buckets whose earlier rules of this function are gone
    for (const auto& in : fn.inputs) {
        if (in.provider != "s3.default") continue;
        ++n;
        step("allowing s3://" + in.bucket + " to invoke " + fn.name);
        const std::string sid = "scar-s3-" + in.bucket + "-" + std::to_string(n);
        auto allowed = lambda.add_permission(fn.name, sid, "s3.amazonaws.com", "arn:aws:s3:::" + in.bucket);
        if (!allowed && allowed.error().code != "ResourceConflictException")
            return fail("adding the S3 invoke permission", allowed.error());

        step("adding the ObjectCreated trigger on s3://" + in.path());
        auto current = s3c.get_bucket_notification(in.bucket);
        if (!current) return fail("reading the notification configuration of " + in.bucket, current.error());
        auto previous = *current;
        if (cleaned.insert(in.bucket).second)
            std::erase_if(current->lambda, [&out](const s3::notification_rule& r) {
                return owned_rule(r, out.function_arn);
            });
        s3::notification_rule rule;
        rule.id = "scar-" + fn.name + "-" + std::to_string(n);
        rule.function_arn = out.function_arn;
        rule.events = {"s3:ObjectCreated:*"};
        rule.prefix = in.folder.empty() ? std::string() : in.folder + "/";
        current->lambda.push_back(rule);
        auto put = s3c.put_bucket_notification(in.bucket, *current);
        if (!put) return fail("adding the trigger to bucket '" + in.bucket + "'", put.error());
        undo.add("trigger on " + in.bucket, [&t, bucket = in.bucket, previous] {
            (void)s3_of(t).put_bucket_notification(bucket, previous);
        });
    }
    return {};
}

/// Removes every rule of `arn` from the notification configuration of `buckets`.
result<void> unwire(
    const target& t,
    const std::string& arn,
    const std::vector<std::string>& buckets,
    removal& out
) {
    auto s3c = s3_of(t);
    for (const auto& bucket : buckets) {
        auto cfg = s3c.get_bucket_notification(bucket);
        if (!cfg) {
            if (cfg.error().code == "NoSuchBucket") {
                out.absent.push_back("bucket " + bucket);
                continue;
            }
            return cfg.error().wrap("reading the notification configuration of " + bucket);
        }
        const auto before = cfg->lambda.size();
        std::erase_if(cfg->lambda, [&arn](const s3::notification_rule& r) { return owned_rule(r, arn); });
        if (cfg->lambda.size() == before) {
            out.absent.push_back("trigger on " + bucket);
            continue;
        }
        if (auto ok = s3c.put_bucket_notification(bucket, *cfg); !ok)
            return ok.error().wrap("removing the trigger from bucket '" + bucket + "'");
        out.removed.push_back("trigger on " + bucket);
    }

    return {};
}

}  // namespace

std::vector<std::string> recorded_inputs(const std::map<std::string, std::string>& environment) {
    std::vector<std::string> out;
    const auto it = environment.find(std::string(env_inputs));
    if (it == environment.end()) return out;
    std::istringstream in(it->second);
    for (std::string uri; in >> uri;)
        if (uri.starts_with("s3://")) out.push_back(uri.substr(5));
    return out;
}

result<target> resolve_target(const target_options& o) {
    target t;
    t.local = !o.local_endpoint.empty();
    if (t.local) {
        t.region = o.region.empty() ? "us-east-1" : o.region;
        t.lambda_url = t.s3_url = t.logs_url = t.ecr_url = t.batch_url = o.local_endpoint;
        auto creds = aws::load_credentials(o.sources);
        if (creds && !creds->access_key_id.empty()) {
            t.credentials = *creds;
        } else {
            t.credentials = aws::credentials{"test", "test", "", "the emulator's default"};
        }
        t.default_role = "arn:aws:iam::" + t.account + ":role/scar-local";
        return t;
    }
    auto src = o.sources;
    if (!o.region.empty()) src.region = o.region;
    auto region = aws::load_region(src);
    if (!region) return region.error();
    t.region = *region;
    auto creds = aws::load_credentials(src);
    if (!creds) return creds.error();
    t.credentials = *creds;
    for (auto [service, url] :
         {std::pair<std::string_view, std::string*>{"Lambda", &t.lambda_url},
          {"S3", &t.s3_url},
          {"CloudWatch Logs", &t.logs_url},
          {"ECR", &t.ecr_url},
          {"Batch", &t.batch_url}}) {
        auto u = aws::endpoint_url(src, service, t.region);
        if (!u) return u.error();
        *url = *u;
    }
    if (!aws::has_custom_endpoint(src, "S3")) t.s3_url.clear();
    t.account.clear();  // read from the ARNs AWS answers with
    return t;
}

result<deployed> init(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const init_options& o
) {
    const auto step = [&o](std::string_view what) {
        if (o.on_step) o.on_step(what);
    };
    const auto failed = [](std::string_view what, const error& e) { return e.wrap(std::string(what)); };
    if (auto ok = detail::check_batch_config(t, fn); !ok) return ok.error();
    rollback undo;
    deployed out;
    out.log_group = log_group_of(fn.name);

    auto lambda = lambda_of(t);
    if (auto existing = lambda.get_function(fn.name); existing) {
        return make_error(
            "ResourceConflictException",
            "function '" + fn.name + "' already exists; use `scar update` to change it or `scar rm -n " +
                fn.name + "` first",
            409
        );
    }

    step("creating ECR repository " + fn.name);
    bool repo_created = false;
    auto repo = ensure_repository(t, fn.name, repo_created);
    if (!repo) return failed("creating ECR repository '" + fn.name + "'", repo.error());
    if (repo_created) {
        undo.add("repository " + fn.name, [&t, name = fn.name] {
            (void)ecr_of(t).call("DeleteRepository", json::object{{"repositoryName", name}, {"force", true}});
        });
    }

    step("building and pushing image " + *repo + ":latest from " + fn.image);
    auto uri = build_function_image(t, fn, defs, o, *repo);
    if (!uri) return uri.error();
    out.image_uri = *uri;

    step("creating log group " + out.log_group);
    {
        auto logs = logs_of(t);
        auto made = logs.call("CreateLogGroup", json::object{{"logGroupName", out.log_group}});
        if (made) {
            undo.add("log group " + out.log_group, [&t, g = out.log_group] {
                (void)logs_of(t).call("DeleteLogGroup", json::object{{"logGroupName", g}});
            });
        } else if (made.error().code != "ResourceAlreadyExistsException") {
            return failed("creating log group " + out.log_group, made.error());
        }
        auto kept = logs.call(
            "PutRetentionPolicy",
            json::object{{"logGroupName", out.log_group}, {"retentionInDays", fn.log_retention_days}}
        );
        if (!kept) return failed("setting the retention of " + out.log_group, kept.error());
    }

    std::string api_id;
    if (fn.api_gateway && !fn.api_gateway->name.empty()) {
        step("creating REST API " + fn.api_gateway->name);
        auto made = detail::create_api(t, fn);
        if (!made) return failed("creating REST API '" + fn.api_gateway->name + "'", made.error());
        api_id = *made;
        undo.add("REST API " + api_id, [&t, api_id] { (void)detail::delete_api(t, api_id); });
    }

    step("creating function " + fn.name);
    lambda::create_function_request cf;
    cf.name = fn.name;
    cf.role = fn.role.empty() ? t.default_role : fn.role;
    if (cf.role.empty()) {
        return make_error(
            "ConfigInvalid",
            "function '" + fn.name + "' needs an IAM role on AWS: set `role = \"arn:aws:iam::…:role/…\"`"
        );
    }
    cf.image_uri = *uri;
    cf.description = fn.description;
    cf.memory_mb = fn.memory_mb;
    cf.timeout_s = fn.timeout_s;
    cf.ephemeral_mb = fn.ephemeral_storage_mb;
    cf.environment = function_environment(fn);
    if (!api_id.empty()) cf.environment.merge(detail::api_environment(fn, api_id));
    auto created = lambda.create_function(cf);
    if (!created) return failed("creating function '" + fn.name + "'", created.error());
    out.function_arn = created->arn;
    undo.add("function " + fn.name, [&t, name = fn.name] { (void)lambda_of(t).delete_function(name); });
    if (auto active = lambda.wait_active(fn.name); !active)
        return failed("waiting for function '" + fn.name + "' to become active", active.error());

    if (auto ok = wire_storage(t, fn, out, lambda, undo, step); !ok) return ok.error();
    if (!api_id.empty()) {
        step("wiring REST API " + api_id + " to function " + fn.name);
        if (auto ok = detail::wire_api(t, fn, api_id, out.function_arn); !ok)
            return failed("wiring REST API " + api_id + " to function '" + fn.name + "'", ok.error());
    }
    if (detail::uses_batch(fn)) {
        const auto add = [&undo](std::string what, std::function<void()> f) {
            undo.add(std::move(what), std::move(f));
        };
        if (auto ok = detail::create_batch_resources(t, fn, defs, *uri, out.function_arn, add, step); !ok)
            return ok.error();
    }
    undo.commit();
    return out;
}

result<deployed> update(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const init_options& o
) {
    const auto step = [&o](std::string_view what) {
        if (o.on_step) o.on_step(what);
    };
    auto lambda = lambda_of(t);
    auto current = lambda.get_function(fn.name);
    if (!current) {
        if (current.error().code == "ResourceNotFoundException")
            return make_error(
                "ResourceNotFoundException",
                "function '" + fn.name + "' is not deployed; create it with `scar init`",
                404
            );
        return current.error().wrap("reading function '" + fn.name + "'");
    }
    deployed out;
    out.function_arn = current->arn;
    out.log_group = log_group_of(fn.name);

    step("building and pushing image of " + fn.name + " from " + fn.image);
    bool created = false;
    auto repo = ensure_repository(t, fn.name, created);
    if (!repo) return repo.error().wrap("finding ECR repository '" + fn.name + "'");
    auto uri = build_function_image(t, fn, defs, o, *repo);
    if (!uri) return uri.error();
    out.image_uri = *uri;
    if (*uri != current->image_uri) {
        step("updating the code of " + fn.name);
        if (auto ok = lambda.update_code_image(fn.name, *uri); !ok)
            return ok.error().wrap("updating the code");
        if (auto ok = lambda.wait_active(fn.name); !ok) return ok.error();
    }

    step("updating the configuration of " + fn.name);
    lambda::configuration_update u;
    u.memory_mb = fn.memory_mb;
    u.timeout_s = fn.timeout_s;
    u.ephemeral_mb = fn.ephemeral_storage_mb;
    u.description = fn.description;
    u.environment = function_environment(fn);
    detail::keep_api_environment(current->environment, *u.environment);
    if (auto ok = lambda.update_configuration(fn.name, u); !ok)
        return ok.error().wrap("updating the configuration");
    if (auto ok = lambda.wait_active(fn.name); !ok) return ok.error();

    auto kept = logs_of(t).call(
        "PutRetentionPolicy",
        json::object{{"logGroupName", out.log_group}, {"retentionInDays", fn.log_retention_days}}
    );
    if (!kept) return kept.error().wrap("setting the retention of " + out.log_group);

    rollback none;  // an update is not undone: what it changed is reported by the error
    if (auto ok = wire_storage(t, fn, out, lambda, none, step); !ok) return ok.error();
    none.commit();
    std::vector<std::string> dropped = buckets_of(recorded_inputs(current->environment));
    std::erase_if(dropped, [&fn](const std::string& bucket) {
        return std::any_of(fn.inputs.begin(), fn.inputs.end(), [&](const config::storage_path& p) {
            return p.provider == "s3.default" && p.bucket == bucket;
        });
    });
    removal gone;
    if (auto ok = unwire(t, out.function_arn, dropped, gone); !ok) return ok.error();
    if (detail::uses_batch(fn) || current->environment.contains(std::string(env_mode))) {
        if (auto ok = detail::update_batch_resources(t, fn, defs, *uri, out.function_arn, step); !ok)
            return ok.error();
    }
    return out;
}

result<removal> remove(const target& t, const std::string& name) {
    removal out;
    auto lambda = lambda_of(t);
    auto fn = lambda.get_function(name);
    std::string arn = function_arn_of(t, name);
    std::vector<std::string> buckets;
    if (fn) {
        arn = fn->arn;
        buckets = buckets_of(recorded_inputs(fn->environment));
    } else if (fn.error().code != "ResourceNotFoundException") {
        return fn.error().wrap("reading function '" + name + "'");
    }
    if (auto ok = unwire(t, arn, buckets, out); !ok) return ok.error();

    // Batch resources before the function, so that a failure leaves what says they exist:
    // those of a function deployed in a Batch mode, or left by one whose function is already
    // gone (then a target without Batch is no error).
    if (!fn || fn->environment.contains(std::string(env_mode))) {
        if (auto ok = detail::remove_batch_resources(t, name, out); !ok) {
            if (fn) return ok.error();
            log::debug("no Batch resources of ", name, " checked: ", ok.error().what());
        }
    }
    if (const auto api = fn ? detail::recorded_api(fn->environment) : std::string(); !api.empty()) {
        auto gone = detail::delete_api(t, api);
        if (!gone) return gone.error().wrap("deleting REST API " + api);
        (*gone ? out.removed : out.absent).push_back("REST API " + api);
    }

    if (fn) {
        if (auto ok = lambda.delete_function(name); !ok && ok.error().code != "ResourceNotFoundException")
            return ok.error().wrap("deleting function '" + name + "'");
        out.removed.push_back("function " + name);
    } else {
        out.absent.push_back("function " + name);
    }

    const auto group = log_group_of(name);
    if (auto ok = logs_of(t).call("DeleteLogGroup", json::object{{"logGroupName", group}}); ok) {
        out.removed.push_back("log group " + group);
    } else if (ok.error().code == "ResourceNotFoundException") {
        out.absent.push_back("log group " + group);
    } else {
        return ok.error().wrap("deleting log group " + group);
    }

    auto repo = ecr_of(t).call("DeleteRepository", json::object{{"repositoryName", name}, {"force", true}});
    if (repo) {
        out.removed.push_back("repository " + name);
    } else if (repo.error().code == "RepositoryNotFoundException") {
        out.absent.push_back("repository " + name);
    } else {
        return repo.error().wrap("deleting ECR repository " + name);
    }
    return out;
}

result<std::vector<function_summary>> list(const target& t) {
    auto fns = lambda_of(t).list_functions();
    if (!fns) return fns.error();
    std::vector<function_summary> out;
    for (const auto& f : *fns) {
        const auto image = f.environment.find(std::string(env_image));
        if (image == f.environment.end()) continue;  // not deployed by scar
        function_summary s;
        s.name = f.name;
        s.image = image->second;
        s.memory_mb = f.memory_mb;
        s.timeout_s = f.timeout_s;
        s.inputs = recorded_inputs(f.environment);
        s.api_url = api_url(t, f.environment);
        if (const auto m = f.environment.find(std::string(env_mode)); m != f.environment.end())
            s.mode = m->second;
        out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

namespace {

/// Every event of `group` (of `stream` only, when given), oldest first.
result<std::vector<log_line>> log_events(
    const target& t,
    const std::string& group,
    const std::string& stream
) {
    auto svc = logs_of(t);
    std::vector<log_line> all;
    std::string next;
    do {
        json::object req{{"logGroupName", group}};
        if (!stream.empty()) req["logStreamNames"] = json::array{stream};
        if (!next.empty()) req["nextToken"] = next;
        auto page = svc.call("FilterLogEvents", req);
        if (!page) return page.error();
        for (const auto& e : page->at("events").as_array()) {
            log_line l;
            if (const auto* ts = e.as_object().if_contains("timestamp"); ts != nullptr && ts->is_int64())
                l.timestamp_ms = ts->as_int64();
            l.stream = string_at(e, "logStreamName");
            l.message = string_at(e, "message");
            while (!l.message.empty() && l.message.back() == '\n') l.message.pop_back();
            all.push_back(std::move(l));
        }
        next = string_at(*page, "nextToken");
    } while (!next.empty());
    std::stable_sort(all.begin(), all.end(), [](const log_line& a, const log_line& b) {
        return a.timestamp_ms < b.timestamp_ms;
    });
    return all;
}

}  // namespace

result<std::optional<job_log>> batch_job_log(const target& t, const std::string& job_id) {
    auto job = detail::describe_job(t, job_id);
    if (!job || !*job) return job;
    if (!(*job)->log_stream.empty()) {
        auto lines = log_events(t, "/aws/batch/job", (*job)->log_stream);
        if (!lines && lines.error().code != "ResourceNotFoundException") return lines.error();
        if (lines) (*job)->lines = std::move(*lines);
    }
    return job;
}

result<std::vector<log_line>> logs(const target& t, const std::string& name, const std::string& request_id) {
    auto found = log_events(t, log_group_of(name), {});
    if (!found) {
        if (found.error().code == "ResourceNotFoundException")
            return make_error(
                "ResourceNotFoundException",
                "function '" + name + "' has no log yet (no log group " + log_group_of(name) +
                    "); it is made by scar init and filled by invocations",
                404
            );
        return found.error();
    }
    auto all = std::move(*found);
    if (request_id.empty()) return all;

    const std::string start = "START RequestId: " + request_id;
    const std::string report = "REPORT RequestId: " + request_id;
    std::vector<log_line> out;
    std::string stream;  // the stream the request ran in
    for (const auto& l : all) {
        if (stream.empty()) {
            if (!l.message.starts_with(start)) continue;
            stream = l.stream;
        }
        if (l.stream != stream) continue;
        out.push_back(l);
        if (l.message.starts_with(report)) break;
    }
    if (out.empty())
        return make_error(
            "ResourceNotFoundException",
            "no invocation " + request_id + " in the log of '" + name +
                "'; check the request id (scar run prints it)",
            404
        );
    return out;
}

}  // namespace scar::deploy
