// scar cost: what the recorded invocations would cost on AWS, per function and in all.

#include <scar/config/prices.hpp>
#include <scar/deploy/cost.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "../commands.hpp"
#include "../support.hpp"

namespace scar::cli {
namespace {

namespace json = boost::json;

struct cost_flags {
    std::vector<std::string> names;
    std::string prices;
    bool as_json = false;
    target_flags where;
};

std::string money(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.8f", v);
    return buf;
}

std::string fixed(double v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

int run_cost(const cost_flags& f) {
    const auto prices = need(config::load_prices(f.prices));
    const auto r = need(deploy::cost(resolve(f.where), f.names, prices));
    if (f.as_json) {
        json::array fns;
        for (const auto& c : r.functions) {
            fns.push_back(json::object{
                {"name", c.name},
                {"architecture", c.architecture},
                {"invocations", c.invocations},
                {"cold_starts", c.cold_starts},
                {"billed_ms", c.billed_ms},
                {"gb_seconds", c.gb_seconds},
                {"request_cost", c.request_cost},
                {"compute_cost", c.compute_cost},
                {"ephemeral_cost", c.ephemeral_cost},
                {"batch_jobs", c.jobs},
                {"batch_job_seconds", c.job_seconds},
                {"batch_cost", c.job_cost},
                {"total", c.total},
                {"wall_seconds", c.wall_seconds},
                {"p50_ms", c.p50_ms},
                {"max_ms", c.max_ms}});
        }
        std::cout << json::serialize(json::object{
                         {"functions", fns},
                         {"total", r.total},
                         {"wall_seconds", r.wall_seconds},
                         {"currency", r.currency},
                         {"region", r.region}})
                  << "\n";
        return 0;
    }
    std::printf(
        "%-20s %8s %6s %6s %10s %10s %9s %9s %14s\n",
        "FUNCTION",
        "INVOKES",
        "COLD",
        "JOBS",
        "GB-SECONDS",
        "WALL (s)",
        "P50 (ms)",
        "MAX (ms)",
        ("COST (" + r.currency + ")").c_str()
    );
    for (const auto& c : r.functions) {
        std::printf(
            "%-20s %8zu %6zu %6zu %10s %10s %9s %9s %14s\n",
            c.name.c_str(),
            c.invocations,
            c.cold_starts,
            c.jobs,
            fixed(c.gb_seconds, 3).c_str(),
            fixed(c.wall_seconds, 2).c_str(),
            fixed(c.p50_ms, 1).c_str(),
            fixed(c.max_ms, 1).c_str(),
            money(c.total).c_str()
        );
    }
    std::printf(
        "%-20s %8s %6s %6s %10s %10s %9s %9s %14s\n",
        "workflow",
        "",
        "",
        "",
        "",
        fixed(r.wall_seconds, 2).c_str(),
        "",
        "",
        money(r.total).c_str()
    );
    std::printf(
        "on AWS Lambda and Batch in %s at the prices of %s, free tier not subtracted\n",
        r.region.c_str(),
        f.prices.empty() ? "conf/prices.toml" : f.prices.c_str()
    );
    return 0;
}

}  // namespace

void add_cost(CLI::App& app) {
    auto f = std::make_shared<cost_flags>();
    auto* c = app.add_subcommand("cost", "what the invocations so far would cost on AWS, per function");
    c->add_option("-n,--name", f->names, "functions to price (default: every function scar deployed)");
    c->add_option("--prices", f->prices, "price table (default: the built-in conf/prices.toml)");
    c->add_flag("--json", f->as_json, "print as JSON");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_cost(*f)); });
}

}  // namespace scar::cli
