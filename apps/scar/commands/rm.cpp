// scar rm: take functions down (one, several, those of a file, or all of scar's).

#include <scar/config/function.hpp>
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

struct rm_flags {
    std::vector<std::string> names;
    std::vector<std::string> files;
    bool all = false;
    bool as_json = false;
    target_flags where;
};

int run_rm(const rm_flags& f) {
    std::vector<std::string> names = f.names;
    if (!f.files.empty()) {
        config::load_options lo;
        for (const auto& file : f.files) lo.files.emplace_back(file);
        for (const auto& fn : need(config::load(lo)).functions) names.push_back(fn.name);
    }
    const auto t = resolve(f.where);
    if (f.all)
        for (const auto& s : need(deploy::list(t))) names.push_back(s.name);
    if (names.empty())
        fail(make_error("InvalidArgument", "say what to remove: -n NAME (repeatable), -f FILE or -a (all)"));
    json::array out;
    for (const auto& name : names) {
        const auto r = need(deploy::remove(t, name));
        if (f.as_json) {
            json::array removed, absent;
            for (const auto& s : r.removed) removed.emplace_back(s);
            for (const auto& s : r.absent) absent.emplace_back(s);
            out.push_back(json::object{{"name", name}, {"removed", removed}, {"absent", absent}});
            continue;
        }
        if (r.removed.empty()) {
            std::cout << "function " << name << ": nothing to remove\n";
            continue;
        }
        std::cout << "function " << name << " removed";
        for (const auto& s : r.removed) std::cout << "\n  - " << s;
        std::cout << "\n";
    }
    if (f.as_json) std::cout << json::serialize(out) << "\n";
    return 0;
}

}  // namespace

void add_rm(CLI::App& app) {
    auto f = std::make_shared<rm_flags>();
    auto* c = app.add_subcommand("rm", "remove functions (their buckets and objects stay)");
    c->add_option("-n,--name", f->names, "function name (repeatable)");
    c->add_option("-f,--file", f->files, "remove the functions this definition file defines");
    c->add_flag("-a,--all", f->all, "remove every function scar deployed");
    c->add_flag("--json", f->as_json, "print what was removed as JSON");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_rm(*f)); });
}

}  // namespace scar::cli
