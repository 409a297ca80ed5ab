// scar init and scar update: deploy the functions of definition files (or of flags) to the
// emulator or AWS, or bring deployed ones in line with them. One file: the two verbs take
// the same flags and differ only in the deploy call.

#include <scar/config/function.hpp>
#include <scar/deploy/deploy.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "../commands.hpp"
#include "../support.hpp"

namespace scar::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct init_flags {
    std::vector<std::string> files;
    std::string name;
    std::string image;
    std::string script;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::vector<std::string> env;
    std::vector<std::string> overrides;
    int memory = 0;
    int timeout = 0;
    std::string supervisor;
    bool as_json = false;
    bool update = false;
    target_flags where;
};

/// The supervisor bundle next to this program: <prefix>/lib/scar-supervisor.
fs::path default_supervisor() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) return self.parent_path().parent_path() / "lib" / "scar-supervisor";
    return "/usr/local/lib/scar-supervisor";
}

std::string toml_string(std::string_view s) {
    return json::serialize(json::value(json::string(s)));  // a JSON string is a valid TOML basic string
}

/// Without -f, the flags are the definition: written as a file so that the one loader and
/// its validation apply to them too.
fs::path definition_from_flags(const init_flags& f, const fs::path& dir) {
    if (f.name.empty() || f.image.empty())
        fail(make_error(
            "ConfigInvalid",
            "scar init needs a definition file (-f FILE) or at least -n NAME and -i IMAGE"
        ));
    std::string t =
        "[[function]]\nname = " + toml_string(f.name) + "\nimage = " + toml_string(f.image) + "\n";
    if (!f.script.empty()) t += "init_script = " + toml_string(fs::absolute(f.script).string()) + "\n";
    for (const auto& in : f.inputs)
        t += "[[function.input]]\nstorage = \"s3\"\npath = " + toml_string(in) + "\n";
    for (const auto& out : f.outputs)
        t += "[[function.output]]\nstorage = \"s3\"\npath = " + toml_string(out) + "\n";
    const fs::path p = dir / "command-line.toml";
    std::ofstream(p) << t;
    return p;
}

int run_init(const init_flags& f) {
    config::load_options lo;
    std::unique_ptr<fs::path, void (*)(fs::path*)> tmp(nullptr, [](fs::path* p) {
        std::error_code ec;
        fs::remove_all(*p, ec);
        delete p;
    });
    if (f.files.empty()) {
        tmp.reset(new fs::path(fs::temp_directory_path() / ("scar-init-" + std::to_string(::getpid()))));
        fs::create_directories(*tmp);
        lo.files = {definition_from_flags(f, *tmp)};
    } else {
        for (const auto& file : f.files) lo.files.emplace_back(file);
    }
    lo.overrides = f.overrides;
    if (f.memory > 0) lo.overrides.push_back("memory=" + std::to_string(f.memory));
    if (f.timeout > 0) lo.overrides.push_back("timeout=" + std::to_string(f.timeout));
    for (const auto& kv : f.env) lo.overrides.push_back("container.environment." + kv);
    auto defs = need(config::load(lo));
    std::vector<const config::function_definition*> chosen;
    for (const auto& fn : defs.functions)
        if (f.files.empty() || f.name.empty() || fn.name == f.name) chosen.push_back(&fn);
    if (chosen.empty())
        fail(make_error("ConfigInvalid", "no function named '" + f.name + "' in the definition files"));

    // One target for the whole run: the flag's, else the first function's configuration.
    auto w = f.where;
    if (w.region.empty()) w.region = chosen.front()->region;
    const auto t = resolve(w, config::to_string(chosen.front()->target));
    const std::string where(t.local ? "the local emulator" : "AWS " + t.region);
    deploy::init_options io;
    io.supervisor_dir = f.supervisor.empty() ? default_supervisor() : fs::path(f.supervisor);
    if (const char* home = std::getenv("SCAR_HOME"); home != nullptr && *home != '\0')
        io.image_store = fs::path(home) / "images";
    if (!f.as_json) io.on_step = [](std::string_view s) { std::cerr << "  " << s << "\n"; };
    json::array out;
    for (const auto* fn : chosen) {
        if (!f.as_json)
            std::cerr << (f.update ? "updating " : "deploying ") << fn->name << " on " << where << "\n";
        const auto d = need(f.update ? deploy::update(t, *fn, defs, io) : deploy::init(t, *fn, defs, io));
        if (f.as_json) {
            json::array buckets;
            for (const auto& b : d.buckets) buckets.emplace_back(b);
            out.push_back(json::object{
                {"name", fn->name},
                {"function_arn", d.function_arn},
                {"image_uri", d.image_uri},
                {"log_group", d.log_group},
                {"buckets", buckets}});
        } else {
            std::cout << "function " << fn->name << (f.update ? " updated: " : " ready: ") << d.function_arn
                      << "\n";
            for (const auto& in : fn->inputs)
                std::cout << "  upload to s3://" << in.path() << "/ to trigger it\n";
            for (const auto& o : fn->outputs) std::cout << "  results in s3://" << o.path() << "/\n";
        }
    }
    if (f.as_json) std::cout << json::serialize(out) << "\n";
    return 0;
}

}  // namespace

namespace {

void add_deploy_verb(CLI::App& app, bool update) {
    auto f = std::make_shared<init_flags>();
    f->update = update;
    auto* c = update ? app.add_subcommand("update", "bring deployed functions in line with their definition")
                     : app.add_subcommand("init", "deploy functions from a definition file (or from flags)");
    c->add_option("-f,--file", f->files, "TOML definition file(s); see docs/configuration.md");
    c->add_option("-n,--name", f->name, "function name (with -f: only this one)");
    c->add_option("-i,--image", f->image, "container image, e.g. grycap/imagemagick");
    c->add_option("-s,--init-script", f->script, "script run on every invocation");
    c->add_option("--input", f->inputs, "input bucket[/folder] that triggers the function");
    c->add_option("--output", f->outputs, "output bucket[/folder] for the files the script writes");
    c->add_option("-e,--env", f->env, "NAME=value for the script's environment")->allow_extra_args(false);
    c->add_option("-m,--memory", f->memory, "memory in MB");
    c->add_option("-t,--timeout", f->timeout, "timeout in seconds");
    c->add_option("--set", f->overrides, "key=value override of any configuration key");
    c->add_option("--supervisor", f->supervisor, "the scar-supervisor bundle directory to add to the image");
    c->add_flag("--json", f->as_json, "print what was made as JSON");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_init(*f)); });
}

}  // namespace

void add_init(CLI::App& app) {
    add_deploy_verb(app, false);
    add_deploy_verb(app, true);
}

}  // namespace scar::cli
