#include "scar/batch/client.hpp"

#include <scar/core/aws_error.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <thread>

namespace scar::batch {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Reading the answers: absent or mistyped members read as empty.

std::string str(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<std::int64_t> num(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
    // Only a double an int64 holds converts (a larger one would be undefined behaviour).
    if (v->is_double() && std::abs(v->as_double()) < 9.2e18) return static_cast<std::int64_t>(v->as_double());
    return std::nullopt;
}

int int_of(const json::object& o, std::string_view k) {
    return static_cast<int>(num(o, k).value_or(0));
}

const json::object& obj(const json::object& o, std::string_view k) {
    static const json::object empty;
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_object() ? v->as_object() : empty;
}

const json::array& arr(const json::object& o, std::string_view k) {
    static const json::array empty;
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_array() ? v->as_array() : empty;
}

std::vector<std::string> strings_of(const json::object& o, std::string_view k) {
    std::vector<std::string> out;
    for (const auto& v : arr(o, k))
        if (v.is_string()) out.emplace_back(v.as_string());
    return out;
}

std::map<std::string, std::string> map_of(const json::object& o, std::string_view k) {
    std::map<std::string, std::string> out;
    for (const auto& [key, v] : obj(o, k))
        if (v.is_string()) out[std::string(key)] = std::string(v.as_string());
    return out;
}

/// `[{name, value}]` → map.
std::map<std::string, std::string> env_of(const json::object& o) {
    std::map<std::string, std::string> out;
    for (const auto& e : arr(o, "environment"))
        if (e.is_object()) out[str(e.as_object(), "name")] = str(e.as_object(), "value");
    return out;
}

// Writing requests.

json::array json_strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
}

json::object json_map(const std::map<std::string, std::string>& m) {
    json::object o;
    for (const auto& [k, v] : m) o[k] = v;
    return o;
}

json::array json_env(const std::map<std::string, std::string>& m) {
    json::array a;
    for (const auto& [k, v] : m) a.push_back(json::object{{"name", k}, {"value", v}});
    return a;
}

/// "1", "0.25": Batch's resourceRequirements values are strings.
std::string number_text(double v) {
    if (v == std::floor(v)) return std::to_string(static_cast<long long>(v));
    std::ostringstream s;
    s << v;
    return s.str();
}

json::array requirements(double vcpus, int memory_mb, int gpus) {
    json::array a;
    a.push_back(json::object{{"type", "VCPU"}, {"value", number_text(vcpus)}});
    a.push_back(json::object{{"type", "MEMORY"}, {"value", std::to_string(memory_mb)}});
    if (gpus > 0) a.push_back(json::object{{"type", "GPU"}, {"value", std::to_string(gpus)}});
    return a;
}

json::object resources_json(const compute_resources& r) {
    json::object o{{"type", r.type}, {"minvCpus", r.min_vcpus}, {"maxvCpus", r.max_vcpus}};
    if (r.desired_vcpus) o["desiredvCpus"] = *r.desired_vcpus;
    if (!r.instance_types.empty()) o["instanceTypes"] = json_strings(r.instance_types);
    o["subnets"] = json_strings(r.subnets);
    if (!r.security_group_ids.empty()) o["securityGroupIds"] = json_strings(r.security_group_ids);
    if (!r.instance_role.empty()) o["instanceRole"] = r.instance_role;
    return o;
}

json::array order_json(const std::vector<environment_order>& v) {
    json::array a;
    for (const auto& e : v)
        a.push_back(json::object{{"order", e.order}, {"computeEnvironment", e.compute_environment}});
    return a;
}

std::vector<environment_order> order_of(const json::object& o) {
    std::vector<environment_order> out;
    for (const auto& e : arr(o, "computeEnvironmentOrder"))
        if (e.is_object())
            out.push_back({int_of(e.as_object(), "order"), str(e.as_object(), "computeEnvironment")});
    return out;
}

compute_environment environment_from(const json::object& o) {
    compute_environment ce;
    ce.name = str(o, "computeEnvironmentName");
    ce.arn = str(o, "computeEnvironmentArn");
    ce.type = str(o, "type");
    ce.state = str(o, "state");
    ce.status = str(o, "status");
    ce.status_reason = str(o, "statusReason");
    if (const auto& r = obj(o, "computeResources"); !r.empty()) {
        compute_resources cr;
        cr.type = str(r, "type");
        cr.min_vcpus = int_of(r, "minvCpus");
        cr.max_vcpus = int_of(r, "maxvCpus");
        if (auto d = num(r, "desiredvCpus")) cr.desired_vcpus = static_cast<int>(*d);
        cr.instance_types = strings_of(r, "instanceTypes");
        cr.subnets = strings_of(r, "subnets");
        cr.security_group_ids = strings_of(r, "securityGroupIds");
        cr.instance_role = str(r, "instanceRole");
        ce.resources = std::move(cr);
    }
    return ce;
}

job_queue queue_from(const json::object& o) {
    job_queue q;
    q.name = str(o, "jobQueueName");
    q.arn = str(o, "jobQueueArn");
    q.state = str(o, "state");
    q.status = str(o, "status");
    q.status_reason = str(o, "statusReason");
    q.priority = int_of(o, "priority");
    q.compute_environments = order_of(o);
    return q;
}

/// `resourceRequirements` (preferred) over the deprecated `vcpus` / `memory`.
void read_requirements(const json::object& c, double& vcpus, int& memory_mb, int& gpus) {
    if (auto v = num(c, "vcpus")) vcpus = static_cast<double>(*v);
    if (auto m = num(c, "memory")) memory_mb = static_cast<int>(*m);
    for (const auto& r : arr(c, "resourceRequirements")) {
        if (!r.is_object()) continue;
        const auto type = str(r.as_object(), "type");
        const auto value = str(r.as_object(), "value");
        if (type == "VCPU") {
            vcpus = std::strtod(value.c_str(), nullptr);
        } else if (type == "MEMORY" || type == "GPU") {
            int n = 0;
            std::from_chars(value.data(), value.data() + value.size(), n);
            (type == "MEMORY" ? memory_mb : gpus) = n;
        }
    }
}

container_properties container_from(const json::object& c) {
    container_properties p;
    p.image = str(c, "image");
    p.command = strings_of(c, "command");
    p.environment = env_of(c);
    p.vcpus = 0;
    p.memory_mb = 0;
    read_requirements(c, p.vcpus, p.memory_mb, p.gpus);
    p.job_role_arn = str(c, "jobRoleArn");
    p.execution_role_arn = str(c, "executionRoleArn");
    return p;
}

job_definition definition_from(const json::object& o) {
    job_definition d;
    d.name = str(o, "jobDefinitionName");
    d.arn = str(o, "jobDefinitionArn");
    d.revision = int_of(o, "revision");
    d.status = str(o, "status");
    d.container = container_from(obj(o, "containerProperties"));
    d.parameters = map_of(o, "parameters");
    d.attempts = int_of(obj(o, "retryStrategy"), "attempts");
    d.timeout_s = int_of(obj(o, "timeout"), "attemptDurationSeconds");
    d.platform_capabilities = strings_of(o, "platformCapabilities");
    return d;
}

std::optional<int> exit_code_of(const json::object& container) {
    if (auto e = num(container, "exitCode")) return static_cast<int>(*e);
    return std::nullopt;
}

std::vector<dependency> dependencies_of(const json::object& o) {
    std::vector<dependency> out;
    for (const auto& d : arr(o, "dependsOn"))
        if (d.is_object()) out.push_back({str(d.as_object(), "jobId"), str(d.as_object(), "type")});
    return out;
}

job job_from(const json::object& o) {
    job j;
    j.id = str(o, "jobId");
    j.name = str(o, "jobName");
    j.arn = str(o, "jobArn");
    j.queue = str(o, "jobQueue");
    j.definition = str(o, "jobDefinition");
    j.status = str(o, "status");
    j.status_reason = str(o, "statusReason");
    j.created_at = num(o, "createdAt").value_or(0);
    j.started_at = num(o, "startedAt").value_or(0);
    j.stopped_at = num(o, "stoppedAt").value_or(0);
    const auto& c = obj(o, "container");
    j.image = str(c, "image");
    j.command = strings_of(c, "command");
    j.environment = env_of(c);
    j.exit_code = exit_code_of(c);
    j.container_reason = str(c, "reason");
    j.log_stream = str(c, "logStreamName");
    for (const auto& a : arr(o, "attempts")) {
        if (!a.is_object()) continue;
        const auto& ao = a.as_object();
        const auto& ac = obj(ao, "container");
        j.attempts.push_back(
            {exit_code_of(ac),
             str(ac, "reason"),
             str(ac, "logStreamName"),
             num(ao, "startedAt").value_or(0),
             num(ao, "stoppedAt").value_or(0),
             str(ao, "statusReason")}
        );
    }
    if (j.log_stream.empty() && !j.attempts.empty()) j.log_stream = j.attempts.back().log_stream;
    const auto& ap = obj(o, "arrayProperties");
    if (auto s = num(ap, "size")) j.array_size = static_cast<int>(*s);
    if (auto i = num(ap, "index")) j.array_index = static_cast<int>(*i);
    j.depends_on = dependencies_of(o);
    return j;
}

/// ListJobs entries have a subset of DescribeJobs' members, under the same names.
job_summary summary_from(const json::object& o) {
    job j = job_from(o);
    return {
        std::move(j.id),
        std::move(j.name),
        std::move(j.arn),
        std::move(j.status),
        std::move(j.status_reason),
        j.created_at,
        j.started_at,
        j.stopped_at,
        j.exit_code,
        std::move(j.definition)};
}

/// The error Batch answered: its code, its message, and what to do for the usual ones.
error batch_error(const http::response& r, std::string_view what) {
    auto e = aws::json_error(r, what, "ClientException");
    if (r.status == 403) e.message += "; check the credentials and that they may call batch:*";
    if (r.status == 404) e.message += "; is this endpoint AWS Batch (AWS_ENDPOINT_URL_BATCH)?";
    return e;
}

}  // namespace

result<endpoint> resolve_endpoint(const aws::config_sources& src) {
    auto region = aws::load_region(src);
    if (!region) return region.error();
    auto creds = aws::load_credentials(src);
    if (!creds) return creds.error();
    auto url = aws::endpoint_url(src, "Batch", *region);
    if (!url) return url.error();
    return endpoint{std::move(*url), std::move(*region), std::move(*creds)};
}

struct client::impl {
    explicit impl(endpoint e) : ep(std::move(e)) {
        http::options o;
        o.before_send = [this](http::request& req) -> result<void> {
            auto p = sigv4::signing_params::make(ep.credentials, ep.region, "batch", clock::system().now());
            if (auto s = sigv4::sign(req, p); !s) return s.error();
            return {};
        };
        http_client = std::make_unique<http::client>(std::move(o));
    }

    /// `POST /v1/<operation>` with `body`; the answer's JSON object or Batch's error,
    /// prefixed with `what`.
    result<json::object> call(std::string_view operation, const json::object& body, std::string_view what) {
        http::request req;
        req.method = "POST";
        std::string op(operation);
        std::transform(op.begin(), op.end(), op.begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
        });
        req.url = ep.url + "/v1/" + op;
        req.body = json::serialize(body);
        req.headers.emplace_back("Content-Type", "application/json");
        auto r = http_client->send(req);
        if (!r) return r.error().wrap(what);
        if (r->status / 100 != 2) return batch_error(*r, what);
        boost::system::error_code ec;
        auto doc = json::parse(r->body, ec);
        if (ec || !doc.is_object())
            return make_error(
                "ServerException",
                std::string(what) + ": the answer is not a JSON object",
                r->status
            );
        return std::move(doc.as_object());
    }

    /// Calls a paginated operation until `nextToken` is empty, handing each page to `page`.
    template <class Page>
    result<void> pages(std::string_view operation, json::object body, std::string_view what, Page&& page) {
        for (;;) {
            auto r = call(operation, body, what);
            if (!r) return r.error();
            page(*r);
            const auto next = str(*r, "nextToken");
            if (next.empty()) return {};
            body["nextToken"] = next;
        }
    }

    /// Every element of `list` (an array of objects) over every page, made by `from`.
    template <class T>
    result<std::vector<T>> collect(
        std::string_view operation,
        json::object body,
        std::string_view what,
        std::string_view list,
        T (*from)(const json::object&)
    ) {
        std::vector<T> out;
        auto ok = pages(operation, std::move(body), what, [&](const json::object& p) {
            for (const auto& e : arr(p, list))
                if (e.is_object()) out.push_back(from(e.as_object()));
        });
        if (!ok) return ok.error();
        return out;
    }

    /// An operation whose answer carries nothing scar needs.
    result<void> act(std::string_view operation, const json::object& body, std::string_view what) {
        auto r = call(operation, body, what);
        if (!r) return r.error();
        return {};
    }

    endpoint ep;
    std::unique_ptr<http::client> http_client;
};

client::client(endpoint ep) : impl_(std::make_unique<impl>(std::move(ep))) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

result<compute_environment> client::create_compute_environment(const compute_environment_request& req) {
    json::object body{{"computeEnvironmentName", req.name}, {"type", req.type}, {"state", req.state}};
    if (req.resources) body["computeResources"] = resources_json(*req.resources);
    if (!req.service_role.empty()) body["serviceRole"] = req.service_role;
    if (!req.tags.empty()) body["tags"] = json_map(req.tags);
    auto r = impl_->call("CreateComputeEnvironment", body, "CreateComputeEnvironment " + req.name);
    if (!r) return r.error();
    compute_environment ce;
    ce.name = str(*r, "computeEnvironmentName");
    ce.arn = str(*r, "computeEnvironmentArn");
    ce.type = req.type;
    ce.state = req.state;
    ce.resources = req.resources;
    return ce;
}

result<std::vector<compute_environment>> client::describe_compute_environments(
    const std::vector<std::string>& names
) {
    json::object body;
    if (!names.empty()) body["computeEnvironments"] = json_strings(names);
    return impl_->collect<compute_environment>(
        "DescribeComputeEnvironments",
        std::move(body),
        "DescribeComputeEnvironments",
        "computeEnvironments",
        environment_from
    );
}

result<void> client::update_compute_environment(const std::string& name, const environment_update& u) {
    json::object body{{"computeEnvironment", name}};
    if (u.state) body["state"] = *u.state;
    json::object r;
    if (u.min_vcpus) r["minvCpus"] = *u.min_vcpus;
    if (u.max_vcpus) r["maxvCpus"] = *u.max_vcpus;
    if (u.desired_vcpus) r["desiredvCpus"] = *u.desired_vcpus;
    if (!r.empty()) body["computeResources"] = std::move(r);
    return impl_->act("UpdateComputeEnvironment", body, "UpdateComputeEnvironment " + name);
}

result<void> client::delete_compute_environment(const std::string& name) {
    return impl_->act(
        "DeleteComputeEnvironment",
        json::object{{"computeEnvironment", name}},
        "DeleteComputeEnvironment " + name
    );
}

result<job_queue> client::create_job_queue(const job_queue_request& req) {
    json::object body{
        {"jobQueueName", req.name},
        {"priority", req.priority},
        {"state", req.state},
        {"computeEnvironmentOrder", order_json(req.compute_environments)}};
    if (!req.tags.empty()) body["tags"] = json_map(req.tags);
    auto r = impl_->call("CreateJobQueue", body, "CreateJobQueue " + req.name);
    if (!r) return r.error();
    job_queue q;
    q.name = str(*r, "jobQueueName");
    q.arn = str(*r, "jobQueueArn");
    q.state = req.state;
    q.priority = req.priority;
    q.compute_environments = req.compute_environments;
    return q;
}

result<std::vector<job_queue>> client::describe_job_queues(const std::vector<std::string>& names) {
    json::object body;
    if (!names.empty()) body["jobQueues"] = json_strings(names);
    return impl_->collect<job_queue>(
        "DescribeJobQueues",
        std::move(body),
        "DescribeJobQueues",
        "jobQueues",
        queue_from
    );
}

result<void> client::update_job_queue(const std::string& name, const queue_update& u) {
    json::object body{{"jobQueue", name}};
    if (u.state) body["state"] = *u.state;
    if (u.priority) body["priority"] = *u.priority;
    if (u.compute_environments) body["computeEnvironmentOrder"] = order_json(*u.compute_environments);
    return impl_->act("UpdateJobQueue", body, "UpdateJobQueue " + name);
}

result<void> client::delete_job_queue(const std::string& name) {
    return impl_->act("DeleteJobQueue", json::object{{"jobQueue", name}}, "DeleteJobQueue " + name);
}

result<job_definition> client::register_job_definition(const job_definition_request& req) {
    const auto& c = req.container;
    json::object props{
        {"image", c.image},
        {"resourceRequirements", requirements(c.vcpus, c.memory_mb, c.gpus)},
        {"environment", json_env(c.environment)}};
    if (!c.command.empty()) props["command"] = json_strings(c.command);
    if (!c.job_role_arn.empty()) props["jobRoleArn"] = c.job_role_arn;
    if (!c.execution_role_arn.empty()) props["executionRoleArn"] = c.execution_role_arn;
    json::object body{{"jobDefinitionName", req.name}, {"type", "container"}, {"containerProperties", props}};
    if (!req.parameters.empty()) body["parameters"] = json_map(req.parameters);
    if (req.attempts > 0) body["retryStrategy"] = json::object{{"attempts", req.attempts}};
    if (req.timeout_s > 0) body["timeout"] = json::object{{"attemptDurationSeconds", req.timeout_s}};
    if (!req.platform_capabilities.empty())
        body["platformCapabilities"] = json_strings(req.platform_capabilities);
    if (!req.tags.empty()) body["tags"] = json_map(req.tags);
    auto r = impl_->call("RegisterJobDefinition", body, "RegisterJobDefinition " + req.name);
    if (!r) return r.error();
    job_definition d;
    d.name = str(*r, "jobDefinitionName");
    d.arn = str(*r, "jobDefinitionArn");
    d.revision = int_of(*r, "revision");
    d.status = "ACTIVE";
    d.container = req.container;
    d.parameters = req.parameters;
    d.attempts = req.attempts;
    d.timeout_s = req.timeout_s;
    d.platform_capabilities = req.platform_capabilities;
    return d;
}

result<std::vector<job_definition>> client::describe_job_definitions(
    const std::string& name,
    const std::string& status
) {
    json::object body;
    if (!name.empty()) body["jobDefinitionName"] = name;
    if (!status.empty()) body["status"] = status;
    return impl_->collect<job_definition>(
        "DescribeJobDefinitions",
        std::move(body),
        "DescribeJobDefinitions " + name,
        "jobDefinitions",
        definition_from
    );
}

result<void> client::deregister_job_definition(const std::string& definition) {
    return impl_->act(
        "DeregisterJobDefinition",
        json::object{{"jobDefinition", definition}},
        "DeregisterJobDefinition " + definition
    );
}

result<submitted_job> client::submit_job(const submit_job_request& req) {
    json::object body{{"jobName", req.name}, {"jobQueue", req.queue}, {"jobDefinition", req.definition}};
    if (!req.parameters.empty()) body["parameters"] = json_map(req.parameters);
    json::object overrides;
    if (!req.command.empty()) overrides["command"] = json_strings(req.command);
    if (!req.environment.empty()) overrides["environment"] = json_env(req.environment);
    if (req.vcpus || req.memory_mb) {
        json::array rr;
        if (req.vcpus) rr.push_back(json::object{{"type", "VCPU"}, {"value", number_text(*req.vcpus)}});
        if (req.memory_mb)
            rr.push_back(json::object{{"type", "MEMORY"}, {"value", std::to_string(*req.memory_mb)}});
        overrides["resourceRequirements"] = std::move(rr);
    }
    if (!overrides.empty()) body["containerOverrides"] = std::move(overrides);
    if (req.array_size > 0) body["arrayProperties"] = json::object{{"size", req.array_size}};
    if (!req.depends_on.empty()) {
        json::array deps;
        for (const auto& d : req.depends_on) {
            json::object o{{"jobId", d.job_id}};
            if (!d.type.empty()) o["type"] = d.type;
            deps.push_back(std::move(o));
        }
        body["dependsOn"] = std::move(deps);
    }
    if (req.attempts > 0) body["retryStrategy"] = json::object{{"attempts", req.attempts}};
    if (req.timeout_s > 0) body["timeout"] = json::object{{"attemptDurationSeconds", req.timeout_s}};
    if (!req.tags.empty()) body["tags"] = json_map(req.tags);
    auto r = impl_->call("SubmitJob", body, "SubmitJob " + req.name + " to queue " + req.queue);
    if (!r) return r.error();
    return submitted_job{str(*r, "jobId"), str(*r, "jobName"), str(*r, "jobArn")};
}

result<std::vector<job>> client::describe_jobs(const std::vector<std::string>& ids) {
    std::vector<job> out;
    constexpr std::size_t per_call = 100;
    for (std::size_t i = 0; i < ids.size(); i += per_call) {
        const auto end = ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + per_call));
        const std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(i), end);
        auto r = impl_->call("DescribeJobs", json::object{{"jobs", json_strings(chunk)}}, "DescribeJobs");
        if (!r) return r.error();
        for (const auto& j : arr(*r, "jobs"))
            if (j.is_object()) out.push_back(job_from(j.as_object()));
    }
    return out;
}

result<std::vector<job_summary>> client::list_jobs(const list_jobs_request& req) {
    if (req.queue.empty() == req.array_job_id.empty())
        return make_error("InvalidRequest", "ListJobs needs exactly one of a job queue and an array job id");
    json::object body;
    if (!req.queue.empty()) body["jobQueue"] = req.queue;
    if (!req.array_job_id.empty()) body["arrayJobId"] = req.array_job_id;
    if (!req.job_name.empty()) {
        body["filters"] =
            json::array{json::object{{"name", "JOB_NAME"}, {"values", json::array{req.job_name}}}};
    } else if (!req.status.empty()) {
        body["jobStatus"] = req.status;
    }
    return impl_
        ->collect<job_summary>("ListJobs", std::move(body), "ListJobs", "jobSummaryList", summary_from);
}

result<void> client::terminate_job(const std::string& id, const std::string& reason) {
    return impl_->act("TerminateJob", json::object{{"jobId", id}, {"reason", reason}}, "TerminateJob " + id);
}

result<void> client::cancel_job(const std::string& id, const std::string& reason) {
    return impl_->act("CancelJob", json::object{{"jobId", id}, {"reason", reason}}, "CancelJob " + id);
}

namespace {

/// Polls `describe` (which yields the resources of that name: none when it is gone) until
/// the one named `name` has status `want`, pausing 50 ms, doubling up to 2 s.
template <class T, class Describe>
result<T> wait_for_status(
    std::string_view kind,
    const std::string& name,
    const std::string& want,
    std::chrono::milliseconds timeout,
    Describe describe
) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    auto pause = 50ms;
    std::string last = "unknown";
    for (;;) {
        auto all = describe();
        if (!all) return all.error();
        const auto found = std::find_if(all->begin(), all->end(), [&](const T& r) {
            return r.name == name || r.arn == name;
        });
        if (found == all->end()) {
            if (want == "DELETED") return T{.name = name, .status = "DELETED"};
            last = "absent";
        } else {
            const T& r = *found;
            if (r.status == want) return r;
            if (r.status == "INVALID") {
                return make_error(
                    "ResourceInvalid",
                    std::string(kind) + " '" + name + "' is INVALID: " + r.status_reason +
                        "; fix its configuration ([function.batch]) and deploy again"
                );
            }
            last = r.status;
        }
        if (std::chrono::steady_clock::now() + pause > until) {
            return make_error(
                "RequestTimeout",
                std::string(kind) + " '" + name + "' is still " + last + " after " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                    " s (waiting for " + want + ")",
                0,
                true
            );
        }
        std::this_thread::sleep_for(pause);
        pause = std::min<std::chrono::milliseconds>(pause * 2, 2s);
    }
}

}  // namespace

result<compute_environment> client::wait_compute_environment(
    const std::string& name,
    const std::string& status,
    std::chrono::milliseconds timeout
) {
    return wait_for_status<compute_environment>("compute environment", name, status, timeout, [&] {
        return describe_compute_environments({name});
    });
}

result<job_queue> client::wait_job_queue(
    const std::string& name,
    const std::string& status,
    std::chrono::milliseconds timeout
) {
    return wait_for_status<job_queue>("job queue", name, status, timeout, [&] {
        return describe_job_queues({name});
    });
}

}  // namespace scar::batch
