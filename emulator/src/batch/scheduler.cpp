// The Batch scheduler: the job state machine, placement on compute environments, the
// attempts' containers, and the state on disk.

#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>
#include <scar/image/pull.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "../json_fields.hpp"
#include "../lambda/process.hpp"
#include "../util.hpp"
#include "service.hpp"
#include <fcntl.h>
#include <unistd.h>

namespace scar::emulator::batch {

namespace fs = std::filesystem;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr double epsilon = 1e-9;
constexpr std::string_view essential_exited = "Essential container in task exited";
constexpr std::string_view timeout_reason = "Job attempt duration exceeded timeout";
constexpr std::string_view dependency_failed = "Dependent Job failed";
constexpr std::string_view misconfigured =
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher "
    "than that can be met by the CE(s) attached to the job queue.";

/// evaluateOnExit's glob: exact, or a prefix when the pattern ends with '*'.
bool glob(std::string_view pattern, std::string_view value) {
    if (pattern.ends_with('*')) return value.starts_with(pattern.substr(0, pattern.size() - 1));
    return pattern == value;
}

/// Whether a failed attempt is retried under `conditions` (the first that matches decides;
/// none matching means retry).
bool retry_wanted(const json::array& conditions, const attempt_end& end) {
    for (const auto& c : conditions) {
        if (!c.is_object()) continue;
        const auto& o = c.as_object();
        const auto code = json_string(o, "onExitCode");
        const auto reason = json_string(o, "onReason");
        const auto status = json_string(o, "onStatusReason");
        if (!code.empty() && (!end.exit_code || !glob(code, std::to_string(*end.exit_code)))) continue;
        if (!reason.empty() && !glob(reason, end.container_reason)) continue;
        if (!status.empty() && !glob(status, end.status_reason)) continue;
        auto action = json_string(o, "action");
        std::transform(action.begin(), action.end(), action.begin(), [](unsigned char ch) {
            return static_cast<char>(std::toupper(ch));
        });
        return action == "RETRY";
    }
    return true;
}

json::object to_json(const job& j) {
    return {
        {"id", j.id},
        {"name", j.name},
        {"arn", j.arn},
        {"queue", j.queue},
        {"definition_arn", j.definition_arn},
        {"definition_name", j.definition_name},
        {"status", j.status},
        {"reason", j.reason},
        {"created_at", j.created_at},
        {"started_at", j.started_at},
        {"stopped_at", j.stopped_at},
        {"seq", j.seq},
        {"depends_on", j.depends_on},
        {"wait_for", json_array(j.wait_for)},
        {"parameters", j.parameters},
        {"container", j.container},
        {"retry_strategy", j.retry_strategy},
        {"max_attempts", j.max_attempts},
        {"evaluate_on_exit", j.evaluate_on_exit},
        {"timeout_s", j.timeout_s},
        {"tags", j.tags},
        {"propagate_tags", j.propagate_tags},
        {"platform_capabilities", j.platform_capabilities},
        {"attempts", j.attempts},
        {"vcpus", j.vcpus},
        {"memory_mib", j.memory_mib},
        {"array_size", j.array_size},
        {"array_index", j.array_index},
        {"parent", j.parent},
        {"children", json_array(j.children)},
        {"cancelled", j.cancelled},
        {"terminated", j.terminated},
        {"ce", j.ce},
        {"task_id", j.task_id},
        {"attempt_started", j.attempt_started}};
}

const json::object& object_at(const json::object& o, std::string_view k) {
    static const json::object empty;
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_object() ? v->as_object() : empty;
}

const json::array& array_at(const json::object& o, std::string_view k) {
    static const json::array empty;
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_array() ? v->as_array() : empty;
}

bool bool_at(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_bool() && v->as_bool();
}

job from_json(const json::object& o) {
    job j;
    j.id = json_string(o, "id");
    j.name = json_string(o, "name");
    j.arn = json_string(o, "arn");
    j.queue = json_string(o, "queue");
    j.definition_arn = json_string(o, "definition_arn");
    j.definition_name = json_string(o, "definition_name");
    j.status = json_string(o, "status");
    j.reason = json_string(o, "reason");
    j.created_at = json_int(o, "created_at").value_or(0);
    j.started_at = json_int(o, "started_at").value_or(0);
    j.stopped_at = json_int(o, "stopped_at").value_or(0);
    j.seq = static_cast<std::uint64_t>(json_int(o, "seq").value_or(0));
    j.depends_on = array_at(o, "depends_on");
    j.wait_for = json_strings(o.if_contains("wait_for"));
    j.parameters = object_at(o, "parameters");
    j.container = object_at(o, "container");
    j.retry_strategy = object_at(o, "retry_strategy");
    j.max_attempts = static_cast<int>(json_int(o, "max_attempts").value_or(1));
    j.evaluate_on_exit = array_at(o, "evaluate_on_exit");
    j.timeout_s = json_int(o, "timeout_s").value_or(0);
    j.tags = object_at(o, "tags");
    j.propagate_tags = bool_at(o, "propagate_tags");
    j.platform_capabilities = array_at(o, "platform_capabilities");
    j.attempts = array_at(o, "attempts");
    const auto* v = o.if_contains("vcpus");
    j.vcpus = v != nullptr && v->is_number() ? v->to_number<double>() : 1.0;
    j.memory_mib = json_int(o, "memory_mib").value_or(0);
    j.array_size = static_cast<int>(json_int(o, "array_size").value_or(0));
    j.array_index = static_cast<int>(json_int(o, "array_index").value_or(-1));
    j.parent = json_string(o, "parent");
    j.children = json_strings(o.if_contains("children"));
    j.cancelled = bool_at(o, "cancelled");
    j.terminated = bool_at(o, "terminated");
    j.ce = json_string(o, "ce");
    j.task_id = json_string(o, "task_id");
    j.attempt_started = json_int(o, "attempt_started").value_or(0);
    return j;
}

/// A compute environment's capacity in vCPUs from its description.
double capacity(const json::object& detail, double host_vcpus) {
    if (json_string(detail, "type") == "UNMANAGED") {
        const auto u = json_int(detail, "unmanagedvCpus");
        return u ? static_cast<double>(*u) : host_vcpus;
    }
    return static_cast<double>(json_int(object_at(detail, "computeResources"), "maxvCpus").value_or(0));
}

/// A queue's compute environment names by ascending order, from its description.
std::vector<std::string> environments_of(const json::object& detail) {
    std::vector<std::pair<std::int64_t, std::string>> entries;
    for (const auto& v : array_at(detail, "computeEnvironmentOrder")) {
        if (!v.is_object()) continue;
        std::string ref = json_string(v.as_object(), "computeEnvironment");
        if (const auto slash = ref.rfind('/'); slash != std::string::npos) ref = ref.substr(slash + 1);
        entries.emplace_back(json_int(v.as_object(), "order").value_or(0), std::move(ref));
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.first < b.first;
    });
    std::vector<std::string> out;
    for (auto& e : entries) out.push_back(std::move(e.second));
    return out;
}

}  // namespace

// ---- the loop ----

void service::start(std::string host_port) {
    const std::lock_guard lock(mutex_);
    if (started_ || stopping_) return;
    host_port_ = std::move(host_port);
    started_ = true;
    scheduler_ = std::thread([this] { scheduler_loop(); });
}

void service::stop() {
    std::vector<std::shared_ptr<runner>> running;
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
        for (const auto& [id, r] : runners_) running.push_back(r);
    }
    wake_.notify_all();
    if (scheduler_.joinable()) scheduler_.join();
    for (const auto& r : running) {
        const std::lock_guard lock(r->mutex);
        r->stop_requested = true;
        if (r->container) r->container->kill();
    }
    for (const auto& r : running)
        if (r->thread.joinable()) r->thread.join();
    const std::lock_guard lock(mutex_);
    runners_.clear();
}

void service::scheduler_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const auto next = step();
        if (stopping_) break;
        if (next == steady::time_point::max()) {
            wake_.wait(lock);
        } else {
            wake_.wait_until(lock, next);
        }
    }
}

steady::time_point service::step() {
    // Attempts that ended: their threads have nothing left to do.
    for (auto it = runners_.begin(); it != runners_.end();) {
        if (it->second->done) {
            if (it->second->thread.joinable()) it->second->thread.join();
            it = runners_.erase(it);
        } else {
            ++it;
        }
    }

    // Dependencies and array parents, until nothing changes (a failure cascades).
    for (bool changed = true; changed;) {
        changed = false;
        for (auto& [id, jp] : jobs_) {
            job& j = *jp;
            if (j.is_parent()) {
                if (!j.terminal()) {
                    const auto before = j.status;
                    update_parent(j);
                    changed = changed || before != j.status;
                }
                continue;
            }
            if (j.status != "SUBMITTED" && j.status != "PENDING") continue;
            bool failed = false;
            bool waiting = false;
            for (const auto& d : j.wait_for) {
                const job* dep = find_job(d);
                if (dep == nullptr || dep->status == "FAILED") {
                    failed = true;
                } else if (dep->status != "SUCCEEDED") {
                    waiting = true;
                }
            }
            if (failed) {
                if (j.status == "SUBMITTED") set_status(j, "PENDING");
                set_status(j, "FAILED", std::string(dependency_failed));
            } else if (waiting) {
                if (j.status == "PENDING") continue;
                set_status(j, "PENDING");
            } else {
                j.seq = next_seq_++;
                set_status(j, "RUNNABLE");
            }
            changed = true;
        }
    }

    // Placement: queues by descending priority, FIFO inside each, first fit.
    std::map<std::string, double, std::less<>> used;
    double host_vcpus_used = 0;
    std::int64_t host_memory_used = 0;
    std::vector<job*> runnable;
    for (auto& [id, jp] : jobs_) {
        job& j = *jp;
        if (j.is_parent()) continue;
        if (j.status == "STARTING" || j.status == "RUNNING") {
            used[j.ce] += j.vcpus;
            host_vcpus_used += std::min(j.vcpus, host_vcpus_);
            host_memory_used += std::min(j.memory_mib, host_memory_mib_);
        } else if (j.status == "RUNNABLE") {
            runnable.push_back(&j);
        }
    }
    const auto priority = [this](const job* j) {
        const auto it = queues_.find(j->queue);
        return it == queues_.end() ? std::int64_t{-1} : it->second.priority;
    };
    std::stable_sort(runnable.begin(), runnable.end(), [&](const job* a, const job* b) {
        const auto pa = priority(a);
        const auto pb = priority(b);
        return pa != pb ? pa > pb : a->seq < b->seq;
    });
    for (job* j : runnable) {
        const auto q = queues_.find(j->queue);
        if (q == queues_.end()) continue;
        const double need_vcpus = std::min(j->vcpus, host_vcpus_);
        const std::int64_t need_memory = std::min(j->memory_mib, host_memory_mib_);
        const bool host_fits = host_vcpus_used + need_vcpus <= host_vcpus_ + epsilon &&
                               (need_memory == 0 || host_memory_used + need_memory <= host_memory_mib_);
        bool could_ever = false;
        const compute_environment* chosen = nullptr;
        for (const auto& name : q->second.environments) {
            const auto ce = ces_.find(name);
            if (ce == ces_.end() || j->vcpus > ce->second.max_vcpus + epsilon) continue;
            could_ever = true;
            if (json_string(ce->second.detail, "state") != "ENABLED" || !host_fits) continue;
            if (used[name] + j->vcpus <= ce->second.max_vcpus + epsilon) {
                chosen = &ce->second;
                break;
            }
        }
        if (chosen == nullptr) {
            if (!could_ever && j->reason != misconfigured) {
                j->reason = std::string(misconfigured);
                save_job(*j);
            }
            continue;
        }
        j->ce = json_string(chosen->detail, "computeEnvironmentName");
        used[j->ce] += j->vcpus;
        host_vcpus_used += need_vcpus;
        host_memory_used += need_memory;
        set_status(*j, "STARTING");
        launch(*j);
    }

    // Deadlines: attempt timeouts, then SIGKILL for attempts that ignored SIGTERM.
    auto next = steady::time_point::max();
    const auto now = steady::now();
    for (auto& [id, jp] : jobs_) {
        job& j = *jp;
        if (j.status != "STARTING" && j.status != "RUNNING") continue;
        if (j.deadline && j.stop_reason.empty()) {
            if (now >= *j.deadline) {
                kill_attempt(j, std::string(timeout_reason), true);
            } else {
                next = std::min(next, *j.deadline);
            }
        }
        if (j.kill_at) {
            if (now >= *j.kill_at) {
                j.kill_at.reset();
                if (const auto r = runners_.find(j.id); r != runners_.end()) {
                    const std::lock_guard lock(r->second->mutex);
                    if (r->second->container) r->second->container->kill();
                }
            } else {
                next = std::min(next, *j.kill_at);
            }
        }
    }
    return next;
}

void service::set_status(job& j, std::string_view status, std::string reason) {
    j.status = std::string(status);
    j.reason = std::move(reason);
    if (status == "RUNNING") j.started_at = now_ms();
    if (j.terminal()) j.stopped_at = now_ms();
    save_job(j);
}

void service::update_parent(job& p) {
    bool all_terminal = true;
    bool all_succeeded = true;
    std::int64_t first_start = 0;
    std::int64_t last_stop = 0;
    for (const auto& c : p.children) {
        const job* cj = find_job(c);
        if (cj == nullptr) continue;
        all_terminal = all_terminal && cj->terminal();
        all_succeeded = all_succeeded && cj->status == "SUCCEEDED";
        if (cj->started_at != 0 && (first_start == 0 || cj->started_at < first_start))
            first_start = cj->started_at;
        last_stop = std::max(last_stop, cj->stopped_at);
    }
    const std::string status = all_terminal ? (all_succeeded ? "SUCCEEDED" : "FAILED") : "PENDING";
    if (first_start != p.started_at) {
        p.started_at = first_start;
        if (status == p.status) save_job(p);
    }
    if (status == p.status) return;
    set_status(p, status, status == "FAILED" ? "Array Child Job failed" : std::string());
    if (all_terminal) p.stopped_at = last_stop;
    save_job(p);
}

void service::fail_unstarted(job& j, const std::string& reason) {
    if (j.is_parent()) {
        for (const auto& c : j.children) {
            job* cj = find_job(c);
            if (cj == nullptr || cj->terminal() || cj->status == "STARTING" || cj->status == "RUNNING")
                continue;
            cj->cancelled = j.cancelled;
            cj->terminated = j.terminated;
            set_status(*cj, "FAILED", reason);
        }
        update_parent(j);
        return;
    }
    set_status(j, "FAILED", reason);
}

void service::kill_attempt(job& j, std::string reason, bool timed_out) {
    if (!j.stop_reason.empty()) return;  // already being stopped
    j.stop_reason = std::move(reason);
    j.timed_out = timed_out;
    j.kill_at = steady::now() + settings_.kill_grace;
    if (const auto r = runners_.find(j.id); r != runners_.end()) {
        const std::lock_guard lock(r->second->mutex);
        r->second->stop_requested = true;
        if (r->second->container) r->second->container->signal(SIGTERM);
    }
    wake_.notify_all();
}

void service::finish_attempt(job& j, const attempt_end& end) {
    attempt_end e = end;
    if (j.timed_out) {
        e.status_reason = std::string(timeout_reason);
        e.retryable = false;
    } else if (!j.stop_reason.empty()) {
        e.status_reason = j.stop_reason;
        e.retryable = false;
    }
    const auto now = now_ms();
    json::object c{
        {"logStreamName", j.log_stream()},
        {"taskArn",
         "arn:aws:ecs:" + settings_.region + ":" + settings_.account + ":task/" + j.ce + "/" + j.task_id},
        {"containerInstanceArn",
         "arn:aws:ecs:" + settings_.region + ":" + settings_.account + ":container-instance/" + j.ce + "/" +
             j.task_id.substr(0, 16)},
        {"networkInterfaces", json::array{}}};
    if (e.exit_code) c["exitCode"] = *e.exit_code;
    if (!e.container_reason.empty()) c["reason"] = e.container_reason;
    j.attempts.push_back(json::object{
        {"container", c},
        {"startedAt", j.attempt_started != 0 ? j.attempt_started : now},
        {"stoppedAt", now},
        {"statusReason", e.status_reason}});
    j.container.erase("exitCode");
    j.container.erase("reason");
    if (e.exit_code) j.container["exitCode"] = *e.exit_code;
    if (!e.container_reason.empty()) j.container["reason"] = e.container_reason;
    j.container["logStreamName"] = j.log_stream();
    j.container["taskArn"] = c.at("taskArn");
    j.container["containerInstanceArn"] = c.at("containerInstanceArn");
    j.ce.clear();
    j.deadline.reset();
    j.kill_at.reset();
    j.timed_out = false;
    j.stop_reason.clear();

    const bool succeeded = e.exit_code == 0 && e.status_reason == essential_exited;
    if (succeeded) {
        set_status(j, "SUCCEEDED", e.status_reason);
    } else if (e.retryable && static_cast<int>(j.attempts.size()) < j.max_attempts && retry_wanted(j.evaluate_on_exit, e)) {
        j.seq = next_seq_++;
        set_status(j, "RUNNABLE");
    } else {
        set_status(j, "FAILED", e.status_reason);
    }
}

// ---- attempts ----

void service::launch(job& j) {
    if (const auto old = runners_.find(j.id); old != runners_.end()) {
        if (old->second->thread.joinable()) old->second->thread.join();
        runners_.erase(old);
    }
    auto r = std::make_shared<runner>();
    r->job_id = j.id;
    r->attempt = static_cast<int>(j.attempts.size()) + 1;
    j.task_id = random_hex(16, false);
    j.attempt_started = 0;
    j.stop_reason.clear();
    j.timed_out = false;
    j.deadline.reset();
    j.kill_at.reset();
    r->image = json_string(j.container, "image");
    r->command = json_strings(j.container.if_contains("command"));
    for (const auto& v : array_at(j.container, "environment"))
        if (v.is_object())
            r->env.emplace_back(json_string(v.as_object(), "name"), json_string(v.as_object(), "value"));
    r->env.emplace_back("AWS_BATCH_JOB_ID", j.id);
    r->env.emplace_back("AWS_BATCH_JOB_ATTEMPT", std::to_string(r->attempt));
    r->env.emplace_back("AWS_BATCH_JQ_NAME", j.queue);
    r->env.emplace_back("AWS_BATCH_CE_NAME", j.ce);
    if (j.array_index >= 0) {
        r->env.emplace_back("AWS_BATCH_JOB_ARRAY_INDEX", std::to_string(j.array_index));
        r->env.emplace_back("AWS_BATCH_JOB_ARRAY_SIZE", std::to_string(j.array_size));
    }
    r->env.emplace_back("AWS_REGION", settings_.region);
    r->env.emplace_back("AWS_DEFAULT_REGION", settings_.region);
    r->env.emplace_back("AWS_ACCESS_KEY_ID", settings_.access_key);
    r->env.emplace_back("AWS_SECRET_ACCESS_KEY", settings_.secret_key);
    r->env.emplace_back("AWS_ENDPOINT_URL", "http://" + host_port_);
    r->memory_mib = j.memory_mib;
    r->log_stream = j.log_stream();
    j.container["logStreamName"] = r->log_stream;
    runners_[j.id] = r;
    r->thread = std::thread([this, r] { run_attempt(r); });
}

void service::run_attempt(std::shared_ptr<runner> r) {
    attempt_end end;
    const auto cannot_start = [&end](std::string why, bool retryable) {
        end.container_reason = std::move(why);
        end.status_reason = end.container_reason;
        end.retryable = retryable;
    };
    bool started = false;
    struct output_state {
        std::mutex mutex;
        lambda::line_splitter out;
        lambda::line_splitter err;
    };
    auto output = std::make_shared<output_state>();
    const auto log_line = [logs = logs_, stream = r->log_stream](std::string_view line) {
        (void)logs->append("/aws/batch/job", stream, {{now_ms(), 0, std::string(line)}});
    };
    if (auto available = sandbox_check_.get(); !available) {
        cannot_start(
            "CannotStartContainerError: containers cannot run on this host: " + available.error().message,
            false
        );
    } else {
        auto ref = image::parse_reference(r->image);
        // <account>.dkr.ecr.<region>.amazonaws.com of this emulator's account is its own ECR.
        const std::string own_ecr = settings_.account + ".dkr.ecr." + settings_.region + ".amazonaws.com";
        if (ref && ref->registry == own_ecr) ref->registry = host_port_;
        image::pull_options po;
        po.registry.auth.ecr_registries = {host_port_};
        po.registry.auth.ecr_token = [this](std::string_view) -> result<std::string> {
            return encoding::base64_encode(settings_.access_key + ":" + settings_.secret_key);
        };
        const image::store st(settings_.root / "images");
        auto pulled = ref ? image::pull(*ref, st, po) : result<image::pulled_image>(ref.error());
        if (!pulled) {
            cannot_start("CannotPullContainerError: " + r->image + ": " + pulled.error().message, true);
        } else {
            const auto& cfg = pulled->image.config.config;
            sandbox::spec spec;
            spec.rootfs = pulled->rootfs;
            // As Batch (and `docker run image cmd…`): the command replaces the image's CMD,
            // its ENTRYPOINT stays.
            spec.argv = cfg.entrypoint;
            const auto& cmd = r->command.empty() ? cfg.cmd : r->command;
            spec.argv.insert(spec.argv.end(), cmd.begin(), cmd.end());
            std::map<std::string, std::string> env{
                {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                {"HOSTNAME", "batch"}};
            for (const auto& e : cfg.env)
                if (const auto eq = e.find('='); eq != std::string::npos)
                    env[e.substr(0, eq)] = e.substr(eq + 1);
            for (const auto& [k, v] : r->env) env[k] = v;
            for (const auto& [k, v] : env) spec.env.push_back(k + "=" + v);
            spec.cwd = cfg.working_dir.empty() ? "/" : cfg.working_dir;
            spec.memory_bytes = static_cast<std::uint64_t>(r->memory_mib) << 20;
            spec.hostname = "batch";
            spec.stdout_sink.callback = [output, log_line](std::string_view data) {
                const std::lock_guard lock(output->mutex);
                output->out.feed(data, log_line);
            };
            spec.stderr_sink.callback = [output, log_line](std::string_view data) {
                const std::lock_guard lock(output->mutex);
                output->err.feed(data, log_line);
            };
            if (spec.argv.empty()) {
                cannot_start(
                    "CannotStartContainerError: the image " + r->image +
                        " has no ENTRYPOINT or CMD and the job gives no command",
                    false
                );
            } else {
                const std::lock_guard lock(r->mutex);
                if (!r->stop_requested) {
                    auto c = sandbox::container::start(spec);
                    if (!c) {
                        cannot_start("CannotStartContainerError: " + c.error().message, false);
                    } else {
                        r->container.emplace(std::move(*c));
                        started = true;
                    }
                }
            }
        }
    }
    if (started) {
        {
            const std::lock_guard lock(mutex_);
            if (job* j = find_job(r->job_id); j != nullptr && !stopping_) {
                j->attempt_started = now_ms();
                set_status(*j, "RUNNING");
                if (j->timeout_s > 0 && j->stop_reason.empty())
                    j->deadline = steady::now() + std::chrono::seconds(j->timeout_s);
            }
        }
        wake_.notify_all();
        auto out = r->container->wait();
        {
            const std::lock_guard lock(output->mutex);
            output->out.flush(log_line);
            output->err.flush(log_line);
        }
        end.status_reason = std::string(essential_exited);
        if (!out) {
            end.container_reason = "CannotInspectContainerError: " + out.error().message;
            end.status_reason = end.container_reason;
        } else if (out->how == sandbox::outcome::ending::exited) {
            end.exit_code = out->exit_code;
        } else {
            end.exit_code = 128 + out->signal;
            if (out->how == sandbox::outcome::ending::out_of_memory) {
                end.container_reason = "OutOfMemoryError: Container killed due to memory usage";
            }
        }
    }
    {
        const std::lock_guard lock(mutex_);
        if (!stopping_) {
            if (job* j = find_job(r->job_id)) finish_attempt(*j, end);
        }
        r->done = true;
    }
    wake_.notify_all();
}

// ---- state on disk ----

result<void> service::write_atomically(const fs::path& p, const std::string& text) const {
    const fs::path tmp = p.string() + "." + random_hex(6, false) + ".tmp";
    const unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd)
        return make_error(
            "ServerException",
            "cannot write '" + tmp.string() + "': " + std::strerror(errno),
            500
        );
    std::size_t off = 0;
    while (off < text.size()) {
        const auto n = ::write(fd.get(), text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = std::strerror(errno);
            ::unlink(tmp.c_str());
            return make_error("ServerException", "cannot write '" + tmp.string() + "': " + why, 500);
        }
        off += static_cast<std::size_t>(n);
    }
    if (settings_.fsync && ::fdatasync(fd.get()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        return make_error("ServerException", "cannot sync '" + tmp.string() + "': " + why, 500);
    }
    if (::rename(tmp.c_str(), p.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        return make_error("ServerException", "cannot rename to '" + p.string() + "': " + why, 500);
    }
    return {};
}

void service::save_job(const job& j) const {
    if (auto ok = write_atomically(settings_.root / "jobs" / (j.id + ".json"), json::serialize(to_json(j)));
        !ok)
        scar::log::error("batch: job ", j.id, ": ", ok.error().message);
}

void service::save_resources() const {
    json::array ces;
    json::array queues;
    json::array defs;
    for (const auto& [n, ce] : ces_) ces.push_back(ce.detail);
    for (const auto& [n, q] : queues_) queues.push_back(q.detail);
    for (const auto& [n, revisions] : definitions_)
        for (const auto& d : revisions) defs.push_back(d.detail);
    const json::object all{{"computeEnvironments", ces}, {"jobQueues", queues}, {"jobDefinitions", defs}};
    if (auto ok = write_atomically(settings_.root / "resources.json", json::serialize(all)); !ok)
        scar::log::error("batch: ", ok.error().message);
}

result<void> service::load() {
    std::error_code ec;
    fs::create_directories(settings_.root / "jobs", ec);
    if (ec)
        return make_error(
            "DataDirError",
            "cannot create '" + (settings_.root / "jobs").string() + "': " + ec.message() +
                "; choose a writable --data-dir"
        );
    const auto read = [](const fs::path& p) -> result<json::object> {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        boost::system::error_code pec;
        auto v = json::parse(ss.str(), pec);
        if (pec || !v.is_object())
            return make_error(
                "DataDirError",
                "'" + p.string() + "' is not valid JSON; move it away to start afresh"
            );
        return std::move(v.as_object());
    };
    if (fs::exists(settings_.root / "resources.json")) {
        auto all = read(settings_.root / "resources.json");
        if (!all) return all.error();
        for (const auto& v : array_at(*all, "computeEnvironments")) {
            if (!v.is_object()) continue;
            compute_environment ce{v.as_object(), capacity(v.as_object(), host_vcpus_)};
            ces_.emplace(json_string(ce.detail, "computeEnvironmentName"), std::move(ce));
        }
        for (const auto& v : array_at(*all, "jobQueues")) {
            if (!v.is_object()) continue;
            job_queue q{
                v.as_object(),
                json_int(v.as_object(), "priority").value_or(0),
                environments_of(v.as_object())};
            queues_.emplace(json_string(q.detail, "jobQueueName"), std::move(q));
        }
        for (const auto& v : array_at(*all, "jobDefinitions"))
            if (v.is_object())
                definitions_[json_string(v.as_object(), "jobDefinitionName")].push_back({v.as_object()});
    }
    for (const auto& entry : fs::directory_iterator(settings_.root / "jobs", ec)) {
        const auto& p = entry.path();
        if (p.extension() == ".tmp") {
            fs::remove(p, ec);  // a write the stop interrupted; the previous file stands
            continue;
        }
        if (p.extension() != ".json") continue;
        auto o = read(p);
        if (!o) return o.error();
        auto j = std::make_unique<job>(from_json(*o));
        next_seq_ = std::max(next_seq_, j->seq + 1);
        jobs_.emplace(j->id, std::move(j));
    }
    // Attempts the stop interrupted cannot be resumed: they failed, as on a lost host.
    for (auto& [id, jp] : jobs_) {
        job& j = *jp;
        if (j.status != "STARTING" && j.status != "RUNNING") continue;
        const std::string reason =
            "Host EC2 (emulator) terminated: the emulator stopped while the job was " + j.status;
        attempt_end end;
        end.container_reason = reason;
        end.status_reason = reason;
        end.retryable = false;
        if (j.ce.empty()) j.ce = "unknown";
        finish_attempt(j, end);
    }
    return {};
}

}  // namespace scar::emulator::batch
