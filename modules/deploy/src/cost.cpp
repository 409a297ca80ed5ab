#include "scar/deploy/cost.hpp"

#include <scar/lambda/client.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "batch_resources.hpp"

namespace scar::deploy {
namespace {

/// The number after "<field>: " in a tab-separated REPORT line.
std::optional<double> field(std::string_view line, std::string_view name) {
    const std::string key = "\t" + std::string(name) + ": ";
    const auto at = line.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    const char* first = line.data() + at + key.size();
    double v = 0;
    const auto [end, ec] = std::from_chars(first, line.data() + line.size(), v);
    if (ec != std::errc{} || end == first) return std::nullopt;
    return v;
}

}  // namespace

std::optional<invocation_report> parse_report(std::string_view line) {
    constexpr std::string_view head = "REPORT RequestId: ";
    if (!line.starts_with(head)) return std::nullopt;
    invocation_report r;
    const auto id_end = line.find('\t', head.size());
    if (id_end == std::string_view::npos) return std::nullopt;
    r.request_id = std::string(line.substr(head.size(), id_end - head.size()));
    const auto duration = field(line, "Duration");
    const auto billed = field(line, "Billed Duration");
    const auto memory = field(line, "Memory Size");
    if (!duration || !billed || !memory) return std::nullopt;
    r.duration_ms = *duration;
    r.billed_ms = static_cast<std::int64_t>(std::llround(*billed));
    r.memory_mb = static_cast<int>(std::lround(*memory));
    r.init_ms = field(line, "Init Duration");
    return r;
}

function_cost estimate(
    std::string name,
    const std::vector<invocation_report>& reports,
    std::string_view architecture,
    int ephemeral_mb,
    const config::price_table& prices
) {
    function_cost c;
    c.name = std::move(name);
    c.architecture = std::string(architecture);
    c.ephemeral_mb = ephemeral_mb;
    c.invocations = reports.size();
    if (reports.empty()) return c;
    const auto& lp = prices.lambda;
    const double gb_second = architecture == "arm64" ? lp.gb_second_arm64 : lp.gb_second_x86_64;
    const double extra_ephemeral_gb = std::max(0, ephemeral_mb - lp.ephemeral_included_mb) / 1024.0;
    double ephemeral_gb_seconds = 0;
    std::vector<double> durations;
    c.first_start_ms = c.last_end_ms = reports.front().timestamp_ms;
    for (const auto& r : reports) {
        if (r.init_ms) ++c.cold_starts;
        c.billed_ms += r.billed_ms;
        const double seconds = static_cast<double>(r.billed_ms) / 1000.0;
        c.gb_seconds += seconds * r.memory_mb / 1024.0;
        ephemeral_gb_seconds += seconds * extra_ephemeral_gb;
        durations.push_back(r.duration_ms);
        const auto start = r.timestamp_ms - static_cast<std::int64_t>(r.duration_ms + r.init_ms.value_or(0));
        c.first_start_ms = std::min(c.first_start_ms, start);
        c.last_end_ms = std::max(c.last_end_ms, r.timestamp_ms);
    }
    c.request_cost = static_cast<double>(c.invocations) * lp.requests_per_million / 1e6;
    c.compute_cost = c.gb_seconds * gb_second;
    c.ephemeral_cost = ephemeral_gb_seconds * lp.ephemeral_gb_second;
    c.total = c.request_cost + c.compute_cost + c.ephemeral_cost;
    c.wall_seconds = static_cast<double>(c.last_end_ms - c.first_start_ms) / 1000.0;
    std::sort(durations.begin(), durations.end());
    c.p50_ms = durations[(durations.size() - 1) / 2];
    c.max_ms = durations.back();
    return c;
}

void add_jobs(function_cost& c, const std::vector<job_run>& jobs, const config::price_table& prices) {
    const auto& bp = prices.batch;
    for (const auto& j : jobs) {
        const double ran = std::ceil(static_cast<double>(j.stopped_ms - j.started_ms) / 1000.0);
        const double billed =
            j.fargate ? std::max(ran, static_cast<double>(bp.fargate_minimum_seconds)) : ran;
        const double hours = billed / 3600.0;
        const double cost =
            j.fargate ? hours * (j.vcpus * bp.fargate_vcpu_hour + j.memory_mb / 1024.0 * bp.fargate_gb_hour)
                      : hours * j.vcpus * bp.ec2_vcpu_hour;
        ++c.jobs;
        c.job_seconds += billed;
        c.job_cost += cost;
        c.total += cost;
        const bool first = c.invocations == 0 && c.jobs == 1;
        c.first_start_ms = first ? j.started_ms : std::min(c.first_start_ms, j.started_ms);
        c.last_end_ms = first ? j.stopped_ms : std::max(c.last_end_ms, j.stopped_ms);
    }
    if (!jobs.empty()) c.wall_seconds = static_cast<double>(c.last_end_ms - c.first_start_ms) / 1000.0;
}

result<cost_report> cost(
    const target& t,
    const std::vector<std::string>& names,
    const config::price_table& prices
) {
    cost_report out;
    out.currency = prices.currency;
    out.region = prices.region;
    std::vector<std::string> wanted = names;
    if (wanted.empty()) {
        auto fns = list(t);
        if (!fns) return fns.error();
        for (const auto& f : *fns) wanted.push_back(f.name);
    }
    lambda::client lambda(lambda::endpoint{t.lambda_url, t.region, t.credentials});
    std::int64_t first = 0, last = 0;
    for (const auto& name : wanted) {
        auto fn = lambda.get_function(name);
        if (!fn) return fn.error().wrap("reading function '" + name + "'");
        auto lines = logs(t, name);
        std::vector<invocation_report> reports;
        if (lines) {
            for (const auto& l : *lines) {
                if (auto r = parse_report(l.message)) {
                    r->timestamp_ms = l.timestamp_ms;
                    reports.push_back(std::move(*r));
                }
            }
        } else if (lines.error().code != "ResourceNotFoundException") {
            return lines.error();
        }
        auto c = estimate(name, reports, fn->architecture, fn->ephemeral_mb, prices);
        if (const auto mode = fn->environment.find(std::string(env_mode));
            mode != fn->environment.end() && (mode->second == "batch" || mode->second == "lambda-batch")) {
            auto jobs = detail::finished_jobs(t, name);
            if (!jobs) return jobs.error();
            std::vector<job_run> runs;
            for (const auto& j : *jobs)
                runs.push_back({j.started_ms, j.stopped_ms, j.vcpus, j.memory_mb, j.fargate});
            add_jobs(c, runs, prices);
        }
        if (c.invocations > 0 || c.jobs > 0) {
            first = first == 0 ? c.first_start_ms : std::min(first, c.first_start_ms);
            last = std::max(last, c.last_end_ms);
        }
        out.total += c.total;
        out.functions.push_back(std::move(c));
    }
    out.wall_seconds = static_cast<double>(last - first) / 1000.0;
    return out;
}

}  // namespace scar::deploy
