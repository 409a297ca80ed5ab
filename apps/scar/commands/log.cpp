// scar log: a function's log, or the lines of one request.

#include <scar/deploy/deploy.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "../commands.hpp"
#include "../support.hpp"

namespace scar::cli {
namespace {

namespace json = boost::json;

struct log_flags {
    std::string name;
    std::string request_id;
    bool as_json = false;
    target_flags where;
};

/// `-ri` with a Batch job's id: its status and its log stream (SCAR's `scar log -ri`).
bool print_job(const deploy::target& t, const log_flags& f) {
    auto job = deploy::batch_job_log(t, f.request_id);
    if (!job || !*job) return false;  // not a job (or no Batch there): a Lambda request id
    const auto& j = **job;
    if (f.as_json) {
        json::array lines;
        for (const auto& l : j.lines)
            lines.push_back(json::object{{"timestamp", l.timestamp_ms}, {"message", l.message}});
        std::cout << json::serialize(json::object{
                         {"job_id", j.job_id},
                         {"status", j.status},
                         {"status_reason", j.status_reason},
                         {"log_stream", j.log_stream},
                         {"lines", lines}})
                  << "\n";
        return true;
    }
    std::cout << "Batch job status: " << j.status << "\n";
    if (!j.status_reason.empty()) std::cout << "Reason: " << j.status_reason << "\n";
    if (j.log_stream.empty()) std::cout << "(no log yet: the job has not started)\n";
    for (const auto& l : j.lines) std::cout << l.message << "\n";
    return true;
}

int run_log(const log_flags& f) {
    const auto t = resolve(f.where);
    if (!f.request_id.empty() && print_job(t, f)) return 0;
    const auto lines = need(deploy::logs(t, f.name, f.request_id));
    if (f.as_json) {
        json::array out;
        for (const auto& l : lines)
            out.push_back(
                json::object{{"timestamp", l.timestamp_ms}, {"stream", l.stream}, {"message", l.message}}
            );
        std::cout << json::serialize(out) << "\n";
        return 0;
    }
    for (const auto& l : lines) std::cout << l.message << "\n";
    return 0;
}

}  // namespace

void add_log(CLI::App& app) {
    auto f = std::make_shared<log_flags>();
    auto* c = app.add_subcommand("log", "show a function's log, or one request's");
    c->add_option("-n,--name", f->name, "function name")->required();
    c->add_option(
        "--request-id",
        f->request_id,
        "only this request (scar run prints its id), or the Batch job a delegated request became"
    );
    c->add_flag("--json", f->as_json, "print as JSON");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_log(*f)); });
}

}  // namespace scar::cli
