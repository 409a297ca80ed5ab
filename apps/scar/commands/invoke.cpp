// scar invoke: call a function through its API Gateway endpoint (as SCAR's `invoke`).

#include <scar/deploy/api.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "../commands.hpp"
#include "../support.hpp"

namespace scar::cli {
namespace {

struct invoke_flags {
    std::string name;
    std::string data_binary;
    std::string json_data;
    std::vector<std::string> parameters;
    std::string output;
    bool asynchronous = false;
    target_flags where;
};

/// `key=value`, or SCAR's JSON object `{"key": "value", …}`.
std::vector<std::pair<std::string, std::string>> parse_parameters(const std::vector<std::string>& given) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& p : given) {
        const auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0) {
            fail(make_error(
                "InvalidParameterValue",
                "-p '" + p + "' is not key=value; pass each query parameter as -p name=value"
            ));
        }
        out.emplace_back(p.substr(0, eq), p.substr(eq + 1));
    }
    return out;
}

int run_invoke(const invoke_flags& f) {
    deploy::invoke_request req;
    req.name = f.name;
    if (!f.data_binary.empty()) req.data_binary = f.data_binary;
    if (!f.json_data.empty()) req.json_data = f.json_data;
    req.parameters = parse_parameters(f.parameters);
    req.asynchronous = f.asynchronous;
    const auto t = resolve(f.where);
    const auto got = need(deploy::invoke(t, req));
    if (got.launched) {
        std::cout << "Function '" << f.name << "' launched asynchronously (request " << got.request_id
                  << ")\n";
        return 0;
    }
    if (f.output.empty()) {
        std::cout << got.body;
        std::cout.flush();
        return 0;
    }
    std::ofstream out(f.output, std::ios::binary | std::ios::trunc);
    out.write(got.body.data(), static_cast<std::streamsize>(got.body.size()));
    out.close();
    if (!out) {
        fail(make_error("LocalIOError", "cannot write '" + f.output + "'; check the path and the free space")
        );
    }
    std::cerr << "Output of '" << f.name << "' (" << got.body.size() << " bytes) written to " << f.output
              << "\n";
    return 0;
}

}  // namespace

void add_invoke(CLI::App& app) {
    auto f = std::make_shared<invoke_flags>();
    auto* c = app.add_subcommand("invoke", "call a function through its API Gateway endpoint");
    c->add_option("-n,--name", f->name, "function name")->required();
    c->add_option("--data-binary", f->data_binary, "file to send as the body (binary as is)");
    c->add_option("--json-data", f->json_data, "JSON to send as the body");
    c->add_option("-p,--parameters", f->parameters, "name=value query parameter (repeatable)")
        ->allow_extra_args(false);
    c->add_option("-o,--output", f->output, "file to write the response body to (default: stdout)");
    c->add_flag("-a,--asynchronous", f->asynchronous, "invoke asynchronously and return at once");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_invoke(*f)); });
}

}  // namespace scar::cli
