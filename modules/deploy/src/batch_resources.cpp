#include "batch_resources.hpp"

#include <scar/batch/client.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>

#include <algorithm>

namespace scar::deploy::detail {
namespace {

using namespace std::chrono_literals;

batch::client batch_of(const target& t) {
    return batch::client(batch::endpoint{t.batch_url, t.region, t.credentials});
}

/// The account of an ARN ("arn:aws:lambda:us-east-1:123456789012:function:f").
std::string account_of(std::string_view arn) {
    std::size_t pos = 0;
    for (int field = 0; field < 4; ++field) {
        pos = arn.find(':', pos);
        if (pos == std::string_view::npos) return {};
        ++pos;
    }
    const auto end = arn.find(':', pos);
    return std::string(arn.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
}

batch::job_definition_request definition_for(
    const config::function_definition& fn,
    const config::definitions& defs,
    const std::string& image_uri
) {
    batch::job_definition_request d;
    d.name = fn.name;
    // No command: the image's ENTRYPOINT is the supervisor, which sees AWS_BATCH_JOB_ID and
    // handles the event in EVENT (binary mode), then its CMD (the user's) as always.
    d.container.image = image_uri;
    d.container.vcpus = fn.batch.vcpus;
    d.container.memory_mb = fn.batch.memory_mb;
    d.container.gpus = fn.batch.gpu ? 1 : 0;
    auto& env = d.container.environment;
    env = fn.environment;
    for (const auto& [k, v] : fn.container_environment) env[k] = v;
    for (const auto& [k, v] : fn.batch.environment) env[k] = v;
    env["FUNCTION_CONFIG"] = encoding::base64_encode(config::to_toml(fn, defs));
    d.attempts = std::max(fn.batch.attempts, 1);
    d.timeout_s = fn.batch.timeout_s;
    d.tags = {{"createdby", "scar"}};
    return d;
}

/// The part of a registered definition `definition_for` decides.
bool same_definition(const batch::job_definition& have, const batch::job_definition_request& want) {
    return have.container == want.container && have.attempts == want.attempts &&
           have.timeout_s == want.timeout_s;
}

/// Disables `name` (a queue or environment) unless it is already, waits until it settles,
/// deletes it and waits until it is gone.
template <class Resource, class Update>
result<void> disable_and_delete(
    batch::client& b,
    std::string_view kind,
    const Resource& r,
    Update update,
    result<Resource> (batch::client::*
                          wait)(const std::string&, const std::string&, std::chrono::milliseconds),
    result<void> (batch::client::*del)(const std::string&)
) {
    if (r.state != "DISABLED") {
        if (auto ok = update(); !ok) return ok.error().wrap("disabling " + std::string(kind) + " " + r.name);
    }
    if (auto ok = (b.*wait)(r.name, "VALID", 10min); !ok)
        return ok.error().wrap("waiting for " + std::string(kind) + " " + r.name + " to be disabled");
    if (auto ok = (b.*del)(r.name); !ok)
        return ok.error().wrap("deleting " + std::string(kind) + " " + r.name);
    if (auto ok = (b.*wait)(r.name, "DELETED", 10min); !ok)
        return ok.error().wrap("waiting for " + std::string(kind) + " " + r.name + " to be deleted");
    return {};
}

result<void> delete_queue(batch::client& b, const batch::job_queue& q) {
    return disable_and_delete(
        b,
        "job queue",
        q,
        [&] { return b.update_job_queue(q.name, {.state = "DISABLED"}); },
        &batch::client::wait_job_queue,
        &batch::client::delete_job_queue
    );
}

result<void> delete_environment(batch::client& b, const batch::compute_environment& ce) {
    return disable_and_delete(
        b,
        "compute environment",
        ce,
        [&] { return b.update_compute_environment(ce.name, {.state = "DISABLED"}); },
        &batch::client::wait_compute_environment,
        &batch::client::delete_compute_environment
    );
}

}  // namespace

bool uses_batch(const config::function_definition& fn) {
    return fn.mode != config::execution_mode::lambda;
}

result<void> check_batch_config(const target& t, const config::function_definition& fn) {
    if (!uses_batch(fn)) return {};
    std::vector<std::string> problems;
    if (!t.local && fn.batch.subnets.empty())
        problems.emplace_back(
            "batch.subnets is empty: AWS Batch needs the subnet ids (\"subnet-…\") of its instances"
        );
    if (!t.local && fn.batch.security_groups.empty())
        problems.emplace_back("batch.security_groups is empty: AWS Batch needs security group ids (\"sg-…\")"
        );
    if (fn.batch.timeout_s > 0 && fn.batch.timeout_s < 60)
        problems.emplace_back(
            "batch.timeout is " + std::to_string(fn.batch.timeout_s) +
            " s: AWS Batch's attemptDurationSeconds is at least 60 (or 0 for none)"
        );
    if (fn.batch.attempts < 1 || fn.batch.attempts > 10)
        problems.emplace_back("batch.attempts must be 1 to 10, not " + std::to_string(fn.batch.attempts));
    for (const auto* env : {&fn.environment, &fn.container_environment, &fn.batch.environment})
        for (const auto& [k, v] : *env)
            if (k.starts_with("AWS_BATCH"))
                problems.emplace_back(
                    "the variable '" + k + "' uses the prefix AWS_BATCH, which Batch reserves"
                );
    if (problems.empty()) return {};
    std::string msg = "function '" + fn.name + "' (execution_mode " +
                      std::string(config::to_string(fn.mode)) + ") cannot be deployed to Batch:";
    for (const auto& p : problems) msg += "\n  " + p;
    msg += "\nset them under [function.batch] in its definition";
    return make_error("ConfigInvalid", msg);
}

result<void> create_batch_resources(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const std::string& image_uri,
    const std::string& function_arn,
    const undo_step& undo,
    const step_report& step
) {
    auto b = batch_of(t);
    const auto& cfg = fn.batch;

    step("creating Batch compute environment " + fn.name);
    batch::compute_environment_request ce;
    ce.name = fn.name;
    batch::compute_resources res;
    res.type = cfg.compute == config::batch_compute::spot ? "SPOT" : "EC2";
    res.max_vcpus = cfg.max_vcpus;
    res.instance_types = cfg.instance_types;
    res.subnets = cfg.subnets;
    res.security_group_ids = cfg.security_groups;
    const std::string account = t.local ? t.account : account_of(function_arn);
    if (!account.empty()) res.instance_role = "arn:aws:iam::" + account + ":instance-profile/ecsInstanceRole";
    ce.resources = std::move(res);
    ce.tags = {{"createdby", "scar"}};
    auto made = b.create_compute_environment(ce);
    if (!made) return made.error().wrap("creating Batch compute environment '" + fn.name + "'");
    undo("compute environment " + fn.name, [&t, name = fn.name] {
        auto c = batch_of(t);
        auto all = c.describe_compute_environments({name});
        if (all && !all->empty()) (void)delete_environment(c, all->front());
    });
    if (auto ok = b.wait_compute_environment(fn.name, "VALID"); !ok)
        return ok.error().wrap("waiting for compute environment '" + fn.name + "'");

    step("creating Batch job queue " + fn.name);
    auto queue = b.create_job_queue(
        {.name = fn.name,
         .priority = 1,
         .compute_environments = {{1, fn.name}},
         .tags = {{"createdby", "scar"}}}
    );
    if (!queue) return queue.error().wrap("creating Batch job queue '" + fn.name + "'");
    undo("job queue " + fn.name, [&t, name = fn.name] {
        auto c = batch_of(t);
        auto all = c.describe_job_queues({name});
        if (all && !all->empty()) (void)delete_queue(c, all->front());
    });
    if (auto ok = b.wait_job_queue(fn.name, "VALID"); !ok)
        return ok.error().wrap("waiting for job queue '" + fn.name + "'");

    step("registering Batch job definition " + fn.name);
    auto def = b.register_job_definition(definition_for(fn, defs, image_uri));
    if (!def) return def.error().wrap("registering Batch job definition '" + fn.name + "'");
    undo("job definition " + def->arn, [&t, arn = def->arn] {
        (void)batch_of(t).deregister_job_definition(arn);
    });
    return {};
}

result<void> update_batch_resources(
    const target& t,
    const config::function_definition& fn,
    const config::definitions& defs,
    const std::string& image_uri,
    const std::string& function_arn,
    const step_report& step
) {
    auto b = batch_of(t);
    auto envs = b.describe_compute_environments({fn.name});
    if (!envs) return envs.error().wrap("reading the Batch resources of '" + fn.name + "'");
    if (!uses_batch(fn)) {
        if (envs->empty()) return {};
        step("removing the Batch resources of " + fn.name + " (execution_mode is lambda now)");
        removal gone;
        return remove_batch_resources(t, fn.name, gone);
    }
    if (envs->empty()) {
        // The function moved to a Batch mode: nothing to roll back but what this made.
        const undo_step keep = [](const std::string&, const std::function<void()>&) {};
        return create_batch_resources(t, fn, defs, image_uri, function_arn, keep, step);
    }
    if (const auto& ce = envs->front(); ce.resources && ce.resources->max_vcpus != fn.batch.max_vcpus) {
        step("setting maxvCpus of compute environment " + fn.name);
        if (auto ok = b.update_compute_environment(fn.name, {.max_vcpus = fn.batch.max_vcpus}); !ok)
            return ok.error().wrap("updating compute environment '" + fn.name + "'");
    }
    const auto want = definition_for(fn, defs, image_uri);
    auto active = b.describe_job_definitions(fn.name, "ACTIVE");
    if (!active) return active.error().wrap("reading the job definitions of '" + fn.name + "'");
    const auto latest = std::max_element(active->begin(), active->end(), [](const auto& a, const auto& c) {
        return a.revision < c.revision;
    });
    if (latest != active->end() && same_definition(*latest, want)) return {};
    step("registering a new revision of job definition " + fn.name);
    auto made = b.register_job_definition(want);
    if (!made) return made.error().wrap("registering job definition '" + fn.name + "'");
    for (const auto& d : *active) {
        if (auto ok = b.deregister_job_definition(d.arn); !ok)
            return ok.error().wrap("deregistering the older job definition " + d.arn);
    }
    return {};
}

result<void> remove_batch_resources(const target& t, const std::string& name, removal& out) {
    auto b = batch_of(t);
    auto defs = b.describe_job_definitions(name, "ACTIVE");
    if (!defs) return defs.error().wrap("reading the job definitions of '" + name + "'");
    for (const auto& d : *defs) {
        if (d.name != name) continue;
        if (auto ok = b.deregister_job_definition(d.arn); !ok) return ok.error();
        out.removed.push_back("job definition " + name + ":" + std::to_string(d.revision));
    }
    if (defs->empty()) out.absent.push_back("job definition " + name);

    auto queues = b.describe_job_queues({name});
    if (!queues) return queues.error().wrap("reading job queue '" + name + "'");
    if (queues->empty()) out.absent.push_back("job queue " + name);
    for (const auto& q : *queues) {
        if (auto ok = delete_queue(b, q); !ok) return ok.error();
        out.removed.push_back("job queue " + name);
    }

    auto envs = b.describe_compute_environments({name});
    if (!envs) return envs.error().wrap("reading compute environment '" + name + "'");
    if (envs->empty()) out.absent.push_back("compute environment " + name);
    for (const auto& ce : *envs) {
        if (auto ok = delete_environment(b, ce); !ok) return ok.error();
        out.removed.push_back("compute environment " + name);
    }
    return {};
}

result<std::optional<job_log>> describe_job(const target& t, const std::string& job_id) {
    auto jobs = batch_of(t).describe_jobs({job_id});
    if (!jobs) return jobs.error().wrap("reading Batch job " + job_id);
    for (const auto& j : *jobs) {
        if (j.id != job_id) continue;
        return std::optional<job_log>(job_log{j.id, j.status, j.status_reason, j.log_stream, {}});
    }
    return std::optional<job_log>();
}

result<std::vector<job_usage>> finished_jobs(const target& t, const std::string& name) {
    auto b = batch_of(t);
    auto definitions = b.describe_job_definitions(name, "");
    if (!definitions) return definitions.error().wrap("reading the job definitions of " + name);
    // The function's compute environment has its name; gone, its jobs count as EC2.
    bool fargate = false;
    if (auto ces = b.describe_compute_environments({name}); ces && !ces->empty())
        fargate = ces->front().resources && ces->front().resources->type.starts_with("FARGATE");
    std::vector<job_usage> out;
    for (const char* status : {"SUCCEEDED", "FAILED"}) {
        batch::list_jobs_request req;
        req.queue = name;
        req.status = status;
        auto jobs = b.list_jobs(req);
        if (!jobs) return jobs.error().wrap("listing the Batch jobs of " + name);
        for (const auto& j : *jobs) {
            if (j.started_at == 0 || j.stopped_at < j.started_at) continue;  // never ran
            job_usage u{j.id, j.started_at, j.stopped_at};
            u.fargate = fargate;
            for (const auto& d : *definitions) {
                if (d.arn == j.definition) {
                    u.vcpus = d.container.vcpus;
                    u.memory_mb = d.container.memory_mb;
                }
            }
            out.push_back(std::move(u));
        }
    }
    return out;
}

}  // namespace scar::deploy::detail
