#include "service.hpp"

#include <scar/core/log.hpp>
#include <scar/sandbox/container.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "../json_fields.hpp"
#include "../util.hpp"
#include <unistd.h>

namespace scar::emulator::batch {

namespace json = boost::json;

namespace {

constexpr std::size_t max_describe_jobs = 100;

error client(std::string message) {
    return make_error("ClientException", std::move(message), 400);
}

/// Names of compute environments, queues, job definitions and jobs: up to 128 letters,
/// digits, hyphens and underscores, starting with a letter or digit.
bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > 128 || std::isalnum(static_cast<unsigned char>(s[0])) == 0) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
    });
}

result<void> check_name(std::string_view field, std::string_view value) {
    if (valid_name(value)) return {};
    return client(
        std::string(field) + " '" + std::string(value) +
        "' is not valid: use 1 to 128 letters, digits, hyphens and underscores, starting with a letter or "
        "digit"
    );
}

/// The last path segment of an ARN ("…:job-queue/name" → "name"), or the input.
std::string_view short_name(std::string_view name_or_arn) {
    if (!name_or_arn.starts_with("arn:")) return name_or_arn;
    const auto slash = name_or_arn.rfind('/');
    return slash == std::string_view::npos ? name_or_arn : name_or_arn.substr(slash + 1);
}

result<std::string> state_field(const json::object& in, std::string_view fallback) {
    std::string s = json_string(in, "state");
    if (s.empty()) return std::string(fallback);
    if (s != "ENABLED" && s != "DISABLED")
        return client("state must be ENABLED or DISABLED, not '" + s + "'");
    return s;
}

const json::object* object_field(const json::object& in, std::string_view k) {
    const auto* v = in.if_contains(k);
    return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

const json::array* array_field(const json::object& in, std::string_view k) {
    const auto* v = in.if_contains(k);
    return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

std::optional<double> parse_number(std::string_view s) {
    double d = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
}

/// Checks resourceRequirements: [{type: VCPU|MEMORY|GPU, value: "<number>"}].
result<void> check_requirements(const json::object& container) {
    const auto* rr = array_field(container, "resourceRequirements");
    if (rr == nullptr) return {};
    for (const auto& v : *rr) {
        if (!v.is_object()) return client("resourceRequirements entries must be {type, value} objects");
        const auto type = json_string(v.as_object(), "type");
        const auto value = json_string(v.as_object(), "value");
        if (type != "VCPU" && type != "MEMORY" && type != "GPU")
            return client("resourceRequirements type must be VCPU, MEMORY or GPU, not '" + type + "'");
        const auto n = parse_number(value);
        if (!n || *n <= 0)
            return client("resourceRequirements " + type + " value '" + value + "' is not a positive number");
        if (type == "MEMORY" && *n < 4) return client("MEMORY must be at least 4 MiB, not " + value);
    }
    return {};
}

result<void> check_environment(const json::object& container, bool reject_reserved) {
    const auto* env = array_field(container, "environment");
    if (env == nullptr) return {};
    for (const auto& v : *env) {
        if (!v.is_object()) return client("environment entries must be {name, value} objects");
        const auto n = json_string(v.as_object(), "name");
        if (n.empty()) return client("an environment entry has no name");
        if (reject_reserved && n.starts_with("AWS_BATCH"))
            return client(
                "environment variable '" + n +
                "' uses the prefix AWS_BATCH, which is reserved for variables Batch sets; rename it"
            );
    }
    return {};
}

result<void> check_retry(const json::object& in) {
    const auto* rs = object_field(in, "retryStrategy");
    if (rs == nullptr) return {};
    if (const auto a = json_int(*rs, "attempts"); a && (*a < 1 || *a > 10))
        return client("retryStrategy attempts must be between 1 and 10, not " + std::to_string(*a));
    if (const auto* ev = array_field(*rs, "evaluateOnExit")) {
        if (ev->size() > 5) return client("retryStrategy evaluateOnExit takes at most 5 conditions");
        for (const auto& c : *ev) {
            const auto action = c.is_object() ? json_string(c.as_object(), "action") : std::string();
            std::string upper = action;
            std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char ch) {
                return static_cast<char>(std::toupper(ch));
            });
            if (upper != "RETRY" && upper != "EXIT")
                return client("evaluateOnExit action must be RETRY or EXIT, not '" + action + "'");
        }
    }
    return {};
}

result<void> check_timeout(const json::object& in) {
    const auto* t = object_field(in, "timeout");
    if (t == nullptr) return {};
    const auto s = json_int(*t, "attemptDurationSeconds");
    if (s && *s < 1) return client("timeout attemptDurationSeconds must be at least 1");
    return {};
}

/// Replaces each command element that is `Ref::name` by the parameter's value.
json::array substitute(const json::array& command, const json::object& params) {
    json::array out;
    for (const auto& v : command) {
        if (v.is_string()) {
            const std::string_view s = v.as_string();
            if (s.starts_with("Ref::")) {
                const auto* p = params.if_contains(s.substr(5));
                if (p != nullptr && p->is_string()) {
                    out.emplace_back(p->as_string());
                    continue;
                }
            }
        }
        out.push_back(v);
    }
    return out;
}

/// `base` with `over`'s entries replacing those with the same `key` (and new ones appended).
json::array merge_by(const json::array* base, const json::array* over, std::string_view key) {
    json::array out = base != nullptr ? *base : json::array{};
    if (over == nullptr) return out;
    for (const auto& o : *over) {
        if (!o.is_object()) continue;
        const auto k = json_string(o.as_object(), key);
        auto it = std::find_if(out.begin(), out.end(), [&](const json::value& e) {
            return e.is_object() && json_string(e.as_object(), key) == k;
        });
        if (it != out.end()) {
            *it = o;
        } else {
            out.push_back(o);
        }
    }
    return out;
}

std::optional<double> requirement(const json::array& rr, std::string_view type) {
    for (const auto& v : rr)
        if (v.is_object() && json_string(v.as_object(), "type") == type)
            return parse_number(json_string(v.as_object(), "value"));
    return std::nullopt;
}

/// Describe* of named resources: those `wanted` names (by name or ARN), or all.
template <class Map>
std::string describe_named(const Map& all, const json::array* wanted, std::string_view key) {
    json::array out;
    for (const auto& [n, r] : all) {
        if (wanted != nullptr && !wanted->empty() &&
            std::none_of(wanted->begin(), wanted->end(), [&n = n](const json::value& w) {
                return w.is_string() && short_name(w.as_string()) == n;
            })) {
            continue;
        }
        out.push_back(r.detail);
    }
    return json::serialize(json::object{{key, out}});
}

std::string uuid() {
    auto h = random_hex(16, false);
    h[12] = '4';                                            // version 4
    h[16] = "89ab"[static_cast<unsigned char>(h[16]) % 4];  // RFC 4122 variant
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20);
}

}  // namespace

service::service(settings s, std::shared_ptr<logs::service> logs)
    : settings_(std::move(s)), logs_(std::move(logs)) {}

service::~service() {
    stop();
}

result<std::shared_ptr<service>> service::open(settings s, std::shared_ptr<logs::service> logs) {
    auto svc = std::make_shared<service>(std::move(s), std::move(logs));
    svc->sandbox_check_ = std::async(std::launch::async, [] { return sandbox::check_available(); }).share();
    svc->host_vcpus_ = svc->settings_.host_vcpus > 0
                           ? svc->settings_.host_vcpus
                           : static_cast<double>(std::max(1U, std::thread::hardware_concurrency()));
    svc->host_memory_mib_ = svc->settings_.host_memory_mib;
    if (svc->host_memory_mib_ <= 0) {
        const auto pages = sysconf(_SC_PHYS_PAGES);
        const auto page = sysconf(_SC_PAGE_SIZE);
        svc->host_memory_mib_ =
            pages > 0 && page > 0 ? static_cast<std::int64_t>(pages) * page / (1 << 20) : 0;
    }
    if (auto ok = svc->load(); !ok) return ok.error();
    return svc;
}

void service::write_error(exchange& ex, const error& e) const {
    ex.status = e.http_status != 0 ? e.http_status : 500;
    const std::string code = ex.status >= 500 && e.code != "ServerException" && e.http_status == 0
                                 ? std::string("ServerException")
                                 : e.code;
    ex.set_header("Content-Type", "application/json");
    ex.set_header("x-amzn-ErrorType", code);
    ex.set_header("x-amzn-RequestId", ex.request_id);
    ex.response_body = json::serialize(json::object{{"__type", code}, {"message", e.message}});
}

net::awaitable<void> service::handle(exchange& ex, const sigv4::verified_request&) {
    ex.set_header("x-amzn-RequestId", ex.request_id);
    const std::string_view path = ex.path;
    if (!path.starts_with("/v1/") || path.find('/', 4) != std::string_view::npos) {
        write_error(
            ex,
            make_error(
                "UnknownOperationException",
                "the emulator's Batch does not serve " + ex.method + " " + ex.path +
                    " (operations are POST /v1/<operation in lower case>; tags are not served)",
                404
            )
        );
        co_return;
    }
    if (ex.method != "POST") {
        write_error(ex, client("Batch operations are POST requests, not " + ex.method));
        co_return;
    }
    json::object in;
    if (ex.body && !ex.body->empty()) {
        boost::system::error_code ec;
        auto v = json::parse(*ex.body, ec);
        if (ec || !v.is_object()) {
            write_error(
                ex,
                client(
                    "the request body is not a JSON object" +
                    (ec ? " (" + ec.message() + ")" : std::string()) +
                    "; send the operation's parameters as JSON"
                )
            );
            co_return;
        }
        in = std::move(v.as_object());
    }
    result<std::string> out = make_error("ServerException", "not handled", 500);
    {
        const std::lock_guard lock(mutex_);
        out = dispatch(path.substr(4), in);
    }
    wake_.notify_all();
    if (!out) {
        write_error(ex, out.error());
        co_return;
    }
    ex.status = 200;
    ex.set_header("Content-Type", "application/json");
    ex.response_body = std::move(*out);
}

result<std::string> service::dispatch(std::string_view op, const json::object& in) {
    if (op == "createcomputeenvironment") return create_compute_environment(in);
    if (op == "updatecomputeenvironment") return update_compute_environment(in);
    if (op == "deletecomputeenvironment") return delete_compute_environment(in);
    if (op == "describecomputeenvironments") return describe_compute_environments(in);
    if (op == "createjobqueue") return create_job_queue(in);
    if (op == "updatejobqueue") return update_job_queue(in);
    if (op == "deletejobqueue") return delete_job_queue(in);
    if (op == "describejobqueues") return describe_job_queues(in);
    if (op == "registerjobdefinition") return register_job_definition(in);
    if (op == "deregisterjobdefinition") return deregister_job_definition(in);
    if (op == "describejobdefinitions") return describe_job_definitions(in);
    if (op == "submitjob") return submit_job(in);
    if (op == "describejobs") return describe_jobs(in);
    if (op == "listjobs") return list_jobs(in);
    if (op == "terminatejob") return stop_job(in, true);
    if (op == "canceljob") return stop_job(in, false);
    return make_error(
        "UnknownOperationException",
        "the emulator's Batch does not serve the operation '" + std::string(op) +
            "' (scheduling policies, tags and multi-node jobs are not served)",
        404
    );
}

std::string service::arn(std::string_view kind, std::string_view name) const {
    return "arn:aws:batch:" + settings_.region + ":" + settings_.account + ":" + std::string(kind) + "/" +
           std::string(name);
}

compute_environment* service::find_ce(std::string_view name_or_arn) {
    const auto it = ces_.find(short_name(name_or_arn));
    return it == ces_.end() ? nullptr : &it->second;
}

job_queue* service::find_queue(std::string_view name_or_arn) {
    const auto it = queues_.find(short_name(name_or_arn));
    return it == queues_.end() ? nullptr : &it->second;
}

job_definition* service::find_definition(std::string_view ref) {
    std::string_view name = short_name(ref);
    std::optional<std::int64_t> revision;
    if (const auto colon = name.rfind(':'); colon != std::string_view::npos) {
        std::int64_t r = 0;
        const auto tail = name.substr(colon + 1);
        const auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), r);
        if (ec != std::errc{} || p != tail.data() + tail.size()) return nullptr;
        revision = r;
        name = name.substr(0, colon);
    }
    const auto it = definitions_.find(name);
    if (it == definitions_.end()) return nullptr;
    for (auto d = it->second.rbegin(); d != it->second.rend(); ++d) {
        if (revision ? json_int(d->detail, "revision") == revision
                     : json_string(d->detail, "status") == "ACTIVE") {
            return &*d;
        }
    }
    return nullptr;
}

job* service::find_job(std::string_view id) {
    const auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second.get();
}

const job* service::find_job(std::string_view id) const {
    const auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second.get();
}

// ---- compute environments ----

result<std::string> service::create_compute_environment(const json::object& in) {
    const auto name = json_string(in, "computeEnvironmentName");
    if (auto ok = check_name("computeEnvironmentName", name); !ok) return ok.error();
    if (ces_.contains(name))
        return client(
            "Object already exists: compute environment '" + name + "'; delete it or choose another name"
        );
    const auto type = json_string(in, "type");
    if (type != "MANAGED" && type != "UNMANAGED")
        return client("type must be MANAGED or UNMANAGED, not '" + type + "'");
    auto state = state_field(in, "ENABLED");
    if (!state) return state.error();
    compute_environment ce;
    ce.detail = {
        {"computeEnvironmentName", name},
        {"computeEnvironmentArn", arn("compute-environment", name)},
        {"ecsClusterArn",
         "arn:aws:ecs:" + settings_.region + ":" + settings_.account + ":cluster/" + name + "_Batch_" +
             random_hex(8, false)},
        {"type", type},
        {"state", *state},
        {"status", "VALID"},
        {"statusReason", "ComputeEnvironment Healthy"},
        {"containerOrchestrationType", "ECS"},
        {"uuid", uuid()},
        {"tags", in.contains("tags") ? in.at("tags") : json::object{}}};
    if (!json_string(in, "serviceRole").empty()) ce.detail["serviceRole"] = json_string(in, "serviceRole");
    if (type == "MANAGED") {
        const auto* cr = object_field(in, "computeResources");
        if (cr == nullptr)
            return client("a MANAGED compute environment needs computeResources with maxvCpus");
        const auto max = json_int(*cr, "maxvCpus");
        if (!max || *max < 0) return client("computeResources.maxvCpus is required and must be 0 or more");
        const auto crtype = json_string(*cr, "type");
        if (crtype != "EC2" && crtype != "SPOT" && crtype != "FARGATE" && crtype != "FARGATE_SPOT")
            return client(
                "computeResources.type must be EC2, SPOT, FARGATE or FARGATE_SPOT, not '" + crtype + "'"
            );
        const auto min = json_int(*cr, "minvCpus").value_or(0);
        if (min > *max) return client("computeResources.minvCpus cannot be greater than maxvCpus");
        ce.detail["computeResources"] = *cr;
        ce.max_vcpus = static_cast<double>(*max);
    } else {
        const auto u = json_int(in, "unmanagedvCpus");
        if (u && *u < 0) return client("unmanagedvCpus must be 0 or more");
        if (u) ce.detail["unmanagedvCpus"] = *u;
        ce.max_vcpus = u ? static_cast<double>(*u) : host_vcpus_;
    }
    const json::object out{
        {"computeEnvironmentName", name},
        {"computeEnvironmentArn", ce.detail.at("computeEnvironmentArn")}};
    ces_.emplace(name, std::move(ce));
    save_resources();
    return json::serialize(out);
}

result<std::string> service::update_compute_environment(const json::object& in) {
    const auto ref = json_string(in, "computeEnvironment");
    auto* ce = find_ce(ref);
    if (ce == nullptr) return client("compute environment '" + ref + "' does not exist");
    auto state = state_field(in, json_string(ce->detail, "state"));
    if (!state) return state.error();
    if (const auto* cr = object_field(in, "computeResources")) {
        if (json_string(ce->detail, "type") != "MANAGED")
            return client("computeResources can only be updated on a MANAGED compute environment");
        auto& current = ce->detail["computeResources"].as_object();
        for (const auto& [k, v] : *cr) current[k] = v;
        const auto max = json_int(current, "maxvCpus").value_or(0);
        if (max < 0 || json_int(current, "minvCpus").value_or(0) > max)
            return client("computeResources.maxvCpus must be 0 or more and at least minvCpus");
        ce->max_vcpus = static_cast<double>(max);
    }
    if (const auto u = json_int(in, "unmanagedvCpus")) {
        if (json_string(ce->detail, "type") != "UNMANAGED")
            return client("unmanagedvCpus can only be set on an UNMANAGED compute environment");
        ce->detail["unmanagedvCpus"] = *u;
        ce->max_vcpus = static_cast<double>(*u);
    }
    if (!json_string(in, "serviceRole").empty()) ce->detail["serviceRole"] = json_string(in, "serviceRole");
    ce->detail["state"] = *state;
    save_resources();
    return json::serialize(json::object{
        {"computeEnvironmentName", ce->detail.at("computeEnvironmentName")},
        {"computeEnvironmentArn", ce->detail.at("computeEnvironmentArn")}});
}

result<std::string> service::delete_compute_environment(const json::object& in) {
    const auto ref = json_string(in, "computeEnvironment");
    auto* ce = find_ce(ref);
    if (ce == nullptr) return client("compute environment '" + ref + "' does not exist");
    const std::string name = json_string(ce->detail, "computeEnvironmentName");
    if (json_string(ce->detail, "state") != "DISABLED")
        return client(
            "Cannot delete, compute environment '" + name +
            "' is ENABLED; disable it first (UpdateComputeEnvironment with state DISABLED)"
        );
    for (const auto& [qn, q] : queues_) {
        if (std::find(q.environments.begin(), q.environments.end(), name) != q.environments.end())
            return client(
                "Cannot delete, found existing JobQueue relationship: queue '" + qn +
                "' uses compute environment '" + name + "'; update or delete the queue first"
            );
    }
    ces_.erase(name);
    save_resources();
    return std::string("{}");
}

result<std::string> service::describe_compute_environments(const json::object& in) const {
    return describe_named(ces_, array_field(in, "computeEnvironments"), "computeEnvironments");
}

// ---- job queues ----

namespace {

/// Parses computeEnvironmentOrder into names by ascending order, checking each exists.
template <class Find>
result<std::pair<std::vector<std::string>, json::array>> parse_order(const json::array* order, Find&& find) {
    if (order == nullptr || order->empty())
        return client("computeEnvironmentOrder needs 1 to 3 entries {order, computeEnvironment}");
    if (order->size() > 3) return client("computeEnvironmentOrder takes at most 3 compute environments");
    std::vector<std::pair<std::int64_t, std::string>> entries;
    json::array detail;
    for (const auto& v : *order) {
        if (!v.is_object())
            return client("computeEnvironmentOrder entries must be {order, computeEnvironment}");
        const auto ref = json_string(v.as_object(), "computeEnvironment");
        const auto ord = json_int(v.as_object(), "order");
        if (!ord) return client("computeEnvironmentOrder entry for '" + ref + "' has no order");
        const compute_environment* ce = find(ref);
        if (ce == nullptr) return client("compute environment '" + ref + "' does not exist; create it first");
        const auto n = json_string(ce->detail, "computeEnvironmentName");
        entries.emplace_back(*ord, n);
        detail.push_back(
            json::object{{"order", *ord}, {"computeEnvironment", ce->detail.at("computeEnvironmentArn")}}
        );
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.first < b.first;
    });
    std::vector<std::string> names;
    for (auto& [o, n] : entries) names.push_back(std::move(n));
    return std::pair{std::move(names), std::move(detail)};
}

}  // namespace

result<std::string> service::create_job_queue(const json::object& in) {
    const auto name = json_string(in, "jobQueueName");
    if (auto ok = check_name("jobQueueName", name); !ok) return ok.error();
    if (queues_.contains(name))
        return client("Object already exists: job queue '" + name + "'; delete it or choose another name");
    const auto priority = json_int(in, "priority");
    if (!priority || *priority < 0 || *priority > 1000)
        return client("priority is required, between 0 and 1000 (a higher value is scheduled first)");
    auto state = state_field(in, "ENABLED");
    if (!state) return state.error();
    auto order = parse_order(array_field(in, "computeEnvironmentOrder"), [this](const std::string& r) {
        return find_ce(r);
    });
    if (!order) return order.error();
    job_queue q;
    q.priority = *priority;
    q.environments = std::move(order->first);
    q.detail = {
        {"jobQueueName", name},
        {"jobQueueArn", arn("job-queue", name)},
        {"state", *state},
        {"status", "VALID"},
        {"statusReason", "JobQueue Healthy"},
        {"priority", *priority},
        {"computeEnvironmentOrder", std::move(order->second)},
        {"tags", in.contains("tags") ? in.at("tags") : json::object{}}};
    if (!json_string(in, "schedulingPolicyArn").empty())
        q.detail["schedulingPolicyArn"] = json_string(in, "schedulingPolicyArn");
    const json::object out{{"jobQueueName", name}, {"jobQueueArn", q.detail.at("jobQueueArn")}};
    queues_.emplace(name, std::move(q));
    save_resources();
    return json::serialize(out);
}

result<std::string> service::update_job_queue(const json::object& in) {
    const auto ref = json_string(in, "jobQueue");
    auto* q = find_queue(ref);
    if (q == nullptr) return client("job queue '" + ref + "' does not exist");
    auto state = state_field(in, json_string(q->detail, "state"));
    if (!state) return state.error();
    if (const auto p = json_int(in, "priority")) {
        if (*p < 0 || *p > 1000) return client("priority must be between 0 and 1000");
        q->priority = *p;
        q->detail["priority"] = *p;
    }
    if (const auto* order = array_field(in, "computeEnvironmentOrder")) {
        auto parsed = parse_order(order, [this](const std::string& r) { return find_ce(r); });
        if (!parsed) return parsed.error();
        q->environments = std::move(parsed->first);
        q->detail["computeEnvironmentOrder"] = std::move(parsed->second);
    }
    q->detail["state"] = *state;
    save_resources();
    return json::serialize(json::object{
        {"jobQueueName", q->detail.at("jobQueueName")},
        {"jobQueueArn", q->detail.at("jobQueueArn")}});
}

result<std::string> service::delete_job_queue(const json::object& in) {
    const auto ref = json_string(in, "jobQueue");
    auto* q = find_queue(ref);
    if (q == nullptr) return client("job queue '" + ref + "' does not exist");
    const std::string name = json_string(q->detail, "jobQueueName");
    if (json_string(q->detail, "state") != "DISABLED")
        return client(
            "job queue '" + name + "' is ENABLED; disable it first (UpdateJobQueue with state DISABLED)"
        );
    // As on AWS, the queue's unfinished jobs end with it.
    for (auto& [id, j] : jobs_) {
        if (j->queue != name || j->terminal() || !j->parent.empty()) continue;
        if (j->status == "STARTING" || j->status == "RUNNING") {
            kill_attempt(*j, "the job queue was deleted", false);
        } else {
            fail_unstarted(*j, "the job queue was deleted");
        }
    }
    queues_.erase(name);
    save_resources();
    return std::string("{}");
}

result<std::string> service::describe_job_queues(const json::object& in) const {
    return describe_named(queues_, array_field(in, "jobQueues"), "jobQueues");
}

// ---- job definitions ----

result<std::string> service::register_job_definition(const json::object& in) {
    const auto name = json_string(in, "jobDefinitionName");
    if (auto ok = check_name("jobDefinitionName", name); !ok) return ok.error();
    const auto type = json_string(in, "type");
    if (type == "multinode")
        return client("multinode job definitions are not served by the emulator; use type container");
    if (type != "container") return client("type must be container, not '" + type + "'");
    const auto* cp = object_field(in, "containerProperties");
    if (cp == nullptr || json_string(*cp, "image").empty())
        return client("a container job definition needs containerProperties with an image");
    if (auto ok = check_requirements(*cp); !ok) return ok.error();
    if (auto ok = check_environment(*cp, true); !ok) return ok.error();
    if (const auto* cmd = cp->if_contains("command"); cmd != nullptr && !cmd->is_array())
        return client("containerProperties.command must be a list of strings");
    if (auto ok = check_retry(in); !ok) return ok.error();
    if (auto ok = check_timeout(in); !ok) return ok.error();
    auto& revisions = definitions_[name];
    const std::int64_t revision =
        revisions.empty() ? 1 : json_int(revisions.back().detail, "revision").value_or(0) + 1;
    const std::string def_arn = arn("job-definition", name + ":" + std::to_string(revision));
    job_definition d;
    d.detail = {
        {"jobDefinitionName", name},
        {"jobDefinitionArn", def_arn},
        {"revision", revision},
        {"status", "ACTIVE"},
        {"type", type},
        {"parameters", in.contains("parameters") ? in.at("parameters") : json::object{}},
        {"containerProperties", *cp},
        {"tags", in.contains("tags") ? in.at("tags") : json::object{}},
        {"propagateTags", in.contains("propagateTags") ? in.at("propagateTags") : json::value(false)},
        {"platformCapabilities",
         in.contains("platformCapabilities") ? in.at("platformCapabilities") : json::array{"EC2"}},
        {"containerOrchestrationType", "ECS"}};
    for (const char* k : {"retryStrategy", "timeout", "schedulingPriority"})
        if (in.contains(k)) d.detail[k] = in.at(k);
    revisions.push_back(std::move(d));
    save_resources();
    return json::serialize(
        json::object{{"jobDefinitionName", name}, {"jobDefinitionArn", def_arn}, {"revision", revision}}
    );
}

result<std::string> service::deregister_job_definition(const json::object& in) {
    const auto ref = json_string(in, "jobDefinition");
    if (short_name(ref).find(':') == std::string_view::npos)
        return client("jobDefinition '" + ref + "' names no revision; give name:revision or the ARN");
    auto* d = find_definition(ref);
    if (d == nullptr) return client("job definition '" + ref + "' does not exist");
    d->detail["status"] = "INACTIVE";
    save_resources();
    return std::string("{}");
}

result<std::string> service::describe_job_definitions(const json::object& in) const {
    const auto* wanted = array_field(in, "jobDefinitions");
    const auto by_name = json_string(in, "jobDefinitionName");
    const auto status = json_string(in, "status");
    json::array out;
    for (const auto& entry : definitions_) {
        const auto& n = entry.first;  // a structured binding cannot be captured by clang 14
        const auto& revisions = entry.second;
        if (!by_name.empty() && n != by_name) continue;
        for (const auto& d : revisions) {
            if (!status.empty() && json_string(d.detail, "status") != status) continue;
            if (wanted != nullptr && !wanted->empty()) {
                const auto rev = std::to_string(json_int(d.detail, "revision").value_or(0));
                const bool match = std::any_of(wanted->begin(), wanted->end(), [&](const json::value& w) {
                    if (!w.is_string()) return false;
                    const auto s = short_name(w.as_string());
                    return s == n || s == n + ":" + rev;
                });
                if (!match) continue;
            }
            out.push_back(d.detail);
        }
    }
    return json::serialize(json::object{{"jobDefinitions", out}});
}

// ---- jobs ----

result<std::string> service::submit_job(const json::object& in) {
    const auto name = json_string(in, "jobName");
    if (auto ok = check_name("jobName", name); !ok) return ok.error();
    const auto qref = json_string(in, "jobQueue");
    auto* q = find_queue(qref);
    if (q == nullptr)
        return client("job queue '" + qref + "' does not exist; create it first (CreateJobQueue)");
    if (json_string(q->detail, "state") != "ENABLED")
        return client(
            "job queue '" + qref + "' is DISABLED and takes no new jobs; enable it (UpdateJobQueue)"
        );
    const auto dref = json_string(in, "jobDefinition");
    const auto* def = find_definition(dref);
    if (def == nullptr)
        return client(
            "job definition '" + dref + "' does not exist or has no ACTIVE revision; register it first"
        );
    const auto& cp = def->detail.at("containerProperties").as_object();
    const auto* ov = object_field(in, "containerOverrides");
    if (ov != nullptr) {
        if (auto ok = check_requirements(*ov); !ok) return ok.error();
        if (auto ok = check_environment(*ov, true); !ok) return ok.error();
    }
    if (auto ok = check_retry(in); !ok) return ok.error();
    if (auto ok = check_timeout(in); !ok) return ok.error();

    auto j = std::make_unique<job>();
    j->id = uuid();
    j->name = name;
    j->arn = arn("job", j->id);
    j->queue = json_string(q->detail, "jobQueueName");
    j->definition_arn = json_string(def->detail, "jobDefinitionArn");
    j->definition_name = json_string(def->detail, "jobDefinitionName");
    j->created_at = now_ms();
    j->parameters =
        def->detail.at("parameters").is_object() ? def->detail.at("parameters").as_object() : json::object{};
    if (const auto* p = object_field(in, "parameters"))
        for (const auto& [k, v] : *p) j->parameters[k] = v;

    // The container as it will run: the definition's properties under the overrides.
    json::object c;
    for (const char* k :
         {"image",
          "jobRoleArn",
          "executionRoleArn",
          "user",
          "readonlyRootFilesystem",
          "privileged",
          "volumes",
          "mountPoints",
          "ulimits",
          "linuxParameters",
          "logConfiguration",
          "secrets",
          "instanceType"}) {
        if (cp.contains(k)) c[k] = cp.at(k);
    }
    const json::array* cmd = ov != nullptr ? array_field(*ov, "command") : nullptr;
    if (cmd == nullptr) cmd = array_field(cp, "command");
    c["command"] = substitute(cmd != nullptr ? *cmd : json::array{}, j->parameters);
    c["environment"] = merge_by(
        array_field(cp, "environment"),
        ov != nullptr ? array_field(*ov, "environment") : nullptr,
        "name"
    );
    const json::array rr = merge_by(
        array_field(cp, "resourceRequirements"),
        ov != nullptr ? array_field(*ov, "resourceRequirements") : nullptr,
        "type"
    );
    c["resourceRequirements"] = rr;
    const auto legacy = [&](std::string_view k) -> std::optional<std::int64_t> {
        if (ov != nullptr)
            if (auto v = json_int(*ov, k)) return v;
        return json_int(cp, k);
    };
    j->vcpus = requirement(rr, "VCPU").value_or(static_cast<double>(legacy("vcpus").value_or(1)));
    j->memory_mib = static_cast<std::int64_t>(
        requirement(rr, "MEMORY").value_or(static_cast<double>(legacy("memory").value_or(0)))
    );
    if (j->vcpus <= 0) return client("the job needs a positive number of vCPUs");
    if (const auto v = legacy("vcpus")) c["vcpus"] = *v;
    if (const auto m = legacy("memory")) c["memory"] = *m;
    j->container = std::move(c);

    const auto* rs = object_field(in, "retryStrategy");
    if (rs == nullptr && def->detail.contains("retryStrategy") && def->detail.at("retryStrategy").is_object())
        rs = &def->detail.at("retryStrategy").as_object();
    if (rs != nullptr) {
        j->retry_strategy = *rs;
        j->max_attempts = static_cast<int>(json_int(*rs, "attempts").value_or(1));
        if (const auto* ev = array_field(*rs, "evaluateOnExit")) j->evaluate_on_exit = *ev;
    }
    const auto* to = object_field(in, "timeout");
    if (to == nullptr && def->detail.contains("timeout") && def->detail.at("timeout").is_object())
        to = &def->detail.at("timeout").as_object();
    if (to != nullptr) j->timeout_s = json_int(*to, "attemptDurationSeconds").value_or(0);
    j->tags = in.contains("tags") && in.at("tags").is_object() ? in.at("tags").as_object() : json::object{};
    j->propagate_tags =
        in.contains("propagateTags")
            ? in.at("propagateTags").is_bool() && in.at("propagateTags").as_bool()
            : def->detail.at("propagateTags").is_bool() && def->detail.at("propagateTags").as_bool();
    if (def->detail.at("platformCapabilities").is_array())
        j->platform_capabilities = def->detail.at("platformCapabilities").as_array();

    if (const auto* ap = object_field(in, "arrayProperties")) {
        const auto size = json_int(*ap, "size");
        if (!size || *size < 2 || *size > 10000)
            return client("arrayProperties.size must be between 2 and 10000");
        j->array_size = static_cast<int>(*size);
    }

    // Dependencies: what the job (or each child of an array job) waits for.
    std::vector<std::string> whole;
    std::vector<std::string> n_to_n;
    bool sequential = false;
    if (const auto* deps = array_field(in, "dependsOn")) {
        if (deps->size() > 20) return client("dependsOn takes at most 20 jobs");
        for (const auto& d : *deps) {
            if (!d.is_object()) return client("dependsOn entries must be {jobId, type} objects");
            const auto id = json_string(d.as_object(), "jobId");
            const auto type = json_string(d.as_object(), "type");
            if (!type.empty() && type != "N_TO_N" && type != "SEQUENTIAL")
                return client("dependsOn type must be N_TO_N or SEQUENTIAL, not '" + type + "'");
            if ((!type.empty()) && j->array_size == 0)
                return client("a " + type + " dependency is only for array jobs; set arrayProperties.size");
            if (type == "SEQUENTIAL") sequential = true;
            if (id.empty()) {
                if (type == "SEQUENTIAL") continue;
                return client("a dependsOn entry needs a jobId (only SEQUENTIAL goes without one)");
            }
            const job* dep = find_job(id);
            if (dep == nullptr) return client("dependsOn names job '" + id + "', which does not exist");
            if (type == "N_TO_N") {
                if (!dep->is_parent() || dep->array_size != j->array_size)
                    return client(
                        "an N_TO_N dependency needs an array job of the same size: '" + id + "' has size " +
                        std::to_string(dep->array_size) + ", this job " + std::to_string(j->array_size)
                    );
                n_to_n.push_back(id);
            } else {
                whole.push_back(id);
            }
        }
        j->depends_on = *deps;
    }

    const json::object out{{"jobArn", j->arn}, {"jobName", j->name}, {"jobId", j->id}};
    if (j->array_size > 0) {
        for (int i = 0; i < j->array_size; ++i) {
            auto child = std::make_unique<job>(*j);
            child->id = j->id + ":" + std::to_string(i);
            child->arn = arn("job", child->id);
            child->array_index = i;
            child->parent = j->id;
            child->depends_on = {};
            child->wait_for = whole;
            for (const auto& d : n_to_n) child->wait_for.push_back(d + ":" + std::to_string(i));
            if (sequential && i > 0) child->wait_for.push_back(j->id + ":" + std::to_string(i - 1));
            j->children.push_back(child->id);
            save_job(*child);
            jobs_.emplace(child->id, std::move(child));
        }
    } else {
        j->wait_for = std::move(whole);
    }
    save_job(*j);
    jobs_.emplace(j->id, std::move(j));
    return json::serialize(out);
}

namespace {

json::object summary_counts(const std::vector<const job*>& children) {
    json::object s{
        {"STARTING", 0},
        {"FAILED", 0},
        {"RUNNING", 0},
        {"SUCCEEDED", 0},
        {"RUNNABLE", 0},
        {"SUBMITTED", 0},
        {"PENDING", 0}};
    for (const auto* c : children) s[c->status] = s[c->status].as_int64() + 1;
    return s;
}

}  // namespace

result<std::string> service::describe_jobs(const json::object& in) const {
    const auto* ids = array_field(in, "jobs");
    if (ids == nullptr) return client("jobs is required: a list of up to 100 job ids");
    if (ids->size() > max_describe_jobs) return client("jobs takes at most 100 job ids");
    json::array out;
    for (const auto& idv : *ids) {
        if (!idv.is_string()) continue;
        const job* j = find_job(short_name(idv.as_string()));
        if (j == nullptr) continue;  // unknown ids are left out, as on AWS
        json::object d{
            {"jobArn", j->arn},
            {"jobName", j->name},
            {"jobId", j->id},
            {"jobQueue", arn("job-queue", j->queue)},
            {"status", j->status},
            {"attempts", j->attempts},
            {"createdAt", j->created_at},
            {"dependsOn", j->depends_on},
            {"jobDefinition", j->definition_arn},
            {"parameters", j->parameters},
            {"tags", j->tags},
            {"propagateTags", j->propagate_tags},
            {"platformCapabilities", j->platform_capabilities},
            {"isCancelled", j->cancelled},
            {"isTerminated", j->terminated}};
        if (!j->reason.empty()) d["statusReason"] = j->reason;
        if (j->started_at != 0) d["startedAt"] = j->started_at;
        if (j->stopped_at != 0) d["stoppedAt"] = j->stopped_at;
        if (!j->retry_strategy.empty()) d["retryStrategy"] = j->retry_strategy;
        if (j->timeout_s != 0) d["timeout"] = json::object{{"attemptDurationSeconds", j->timeout_s}};
        d["container"] = j->container;  // an array parent shows what its children run
        if (j->is_parent()) {
            std::vector<const job*> children;
            for (const auto& c : j->children)
                if (const job* cj = find_job(c)) children.push_back(cj);
            d["arrayProperties"] = json::object{
                {"statusSummary", summary_counts(children)},
                {"size", j->array_size},
                {"statusSummaryLastUpdatedAt", now_ms()}};
        } else if (j->array_index >= 0) {
            d["arrayProperties"] = json::object{{"index", j->array_index}, {"size", j->array_size}};
        }
        out.push_back(std::move(d));
    }
    return json::serialize(json::object{{"jobs", out}});
}

namespace {

/// AWS's JOB_NAME filter: case-insensitive, an optional trailing '*' matches any rest.
bool name_matches(std::string_view pattern, std::string_view name) {
    const auto lower = [](std::string_view s) {
        std::string o(s);
        std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
        });
        return o;
    };
    const auto p = lower(pattern);
    const auto n = lower(name);
    if (p.ends_with('*')) return n.starts_with(std::string_view(p).substr(0, p.size() - 1));
    return p == n;
}

}  // namespace

result<std::string> service::list_jobs(const json::object& in) const {
    const auto queue_ref = json_string(in, "jobQueue");
    const auto array_id = json_string(in, "arrayJobId");
    if (!json_string(in, "multiNodeJobId").empty())
        return client("multi-node jobs are not served by the emulator; list by jobQueue or arrayJobId");
    if (queue_ref.empty() == array_id.empty()) return client("give exactly one of jobQueue and arrayJobId");
    std::string queue;
    const job* parent = nullptr;
    if (!queue_ref.empty()) {
        const auto it = queues_.find(short_name(queue_ref));
        if (it == queues_.end()) return client("job queue '" + queue_ref + "' does not exist");
        queue = it->first;
    } else {
        parent = find_job(array_id);
        if (parent == nullptr || !parent->is_parent())
            return client("'" + array_id + "' is not the id of an array job");
    }
    const auto* filters = array_field(in, "filters");
    std::string status = json_string(in, "jobStatus");
    if (status.empty()) status = "RUNNING";
    std::vector<const job*> found;
    const auto consider = [&](const job* j) {
        if (filters != nullptr && !filters->empty()) {
            for (const auto& f : *filters) {
                if (!f.is_object()) continue;
                const auto fname = json_string(f.as_object(), "name");
                const auto* values = array_field(f.as_object(), "values");
                const std::string v = values != nullptr && !values->empty() && values->front().is_string()
                                          ? std::string(values->front().as_string())
                                          : std::string();
                if (fname == "JOB_NAME" && !name_matches(v, j->name)) return;
                if (fname == "JOB_DEFINITION" &&
                    !name_matches(v, std::string(short_name(j->definition_arn))) &&
                    !name_matches(v, j->definition_name) && v != j->definition_arn) {
                    return;
                }
                if (fname == "BEFORE_CREATED_AT" && !(j->created_at < std::atoll(v.c_str()))) return;
                if (fname == "AFTER_CREATED_AT" && !(j->created_at > std::atoll(v.c_str()))) return;
            }
        } else if (j->status != status) {
            return;
        }
        found.push_back(j);
    };
    if (parent != nullptr) {
        for (const auto& c : parent->children)
            if (const job* cj = find_job(c)) consider(cj);
    } else {
        for (const auto& [id, j] : jobs_)
            if (j->queue == queue && j->parent.empty()) consider(j.get());
    }
    std::stable_sort(found.begin(), found.end(), [&](const job* a, const job* b) {
        if (a->created_at != b->created_at)
            return filters != nullptr && !filters->empty() ? a->created_at > b->created_at
                                                           : a->created_at < b->created_at;
        return a->array_index < b->array_index;
    });
    std::size_t start = 0;
    if (const auto tok = json_string(in, "nextToken"); !tok.empty())
        start = std::strtoull(tok.c_str(), nullptr, 10);
    const auto max =
        static_cast<std::size_t>(std::clamp<std::int64_t>(json_int(in, "maxResults").value_or(100), 1, 1000));
    json::array list;
    for (std::size_t i = start; i < found.size() && list.size() < max; ++i) {
        const job* j = found[i];
        json::object s{
            {"jobArn", j->arn},
            {"jobId", j->id},
            {"jobName", j->name},
            {"createdAt", j->created_at},
            {"status", j->status},
            {"jobDefinition", j->definition_arn}};
        if (!j->reason.empty()) s["statusReason"] = j->reason;
        if (j->started_at != 0) s["startedAt"] = j->started_at;
        if (j->stopped_at != 0) s["stoppedAt"] = j->stopped_at;
        if (j->is_parent()) {
            s["arrayProperties"] = json::object{{"size", j->array_size}};
        } else {
            if (j->array_index >= 0)
                s["arrayProperties"] = json::object{{"size", j->array_size}, {"index", j->array_index}};
            json::object c;
            if (const auto* e = j->container.if_contains("exitCode")) c["exitCode"] = *e;
            if (const auto* r = j->container.if_contains("reason")) c["reason"] = *r;
            s["container"] = std::move(c);
        }
        list.push_back(std::move(s));
    }
    json::object out{{"jobSummaryList", list}};
    if (start + list.size() < found.size()) out["nextToken"] = std::to_string(start + list.size());
    return json::serialize(out);
}

result<std::string> service::stop_job(const json::object& in, bool terminate) {
    const auto id = json_string(in, "jobId");
    const auto reason = json_string(in, "reason");
    if (reason.empty()) return client("reason is required: say why the job is stopped");
    job* j = find_job(id);
    if (j == nullptr) return client("job '" + id + "' does not exist");
    std::vector<job*> targets;
    if (j->is_parent()) {
        for (const auto& c : j->children)
            if (job* cj = find_job(c)) targets.push_back(cj);
    } else {
        targets.push_back(j);
    }
    for (job* t : targets) {
        if (t->terminal()) continue;
        if (t->status == "STARTING" || t->status == "RUNNING") {
            // CancelJob leaves jobs that have started alone (and still succeeds), as on AWS.
            if (!terminate) continue;
            t->terminated = true;
            kill_attempt(*t, reason, false);
        } else {
            (terminate ? t->terminated : t->cancelled) = true;
            fail_unstarted(*t, reason);
        }
    }
    if (j->is_parent()) {
        (terminate ? j->terminated : j->cancelled) = true;
        update_parent(*j);
    }
    return std::string("{}");
}

}  // namespace scar::emulator::batch
