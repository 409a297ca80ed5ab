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

int run_log(const log_flags& f) {
    const auto t = resolve(f.where);
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
    c->add_option("--request-id", f->request_id, "only this request (scar run prints its id)");
    c->add_flag("--json", f->as_json, "print as JSON");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_log(*f)); });
}

}  // namespace scar::cli
