// scar run: invoke a function directly — with a script, with container arguments, or (when
// it has an input folder and nothing else is given) once for every file already there.

#include <scar/config/function.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/deploy/deploy.hpp>
#include <scar/lambda/client.hpp>
#include <scar/s3/client.hpp>
#include <scar/s3/event.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "../commands.hpp"
#include "../support.hpp"

namespace scar::cli {
namespace {

namespace json = boost::json;

struct run_flags {
    std::string name;
    std::vector<std::string> files;
    std::string script;
    bool async = false;
    std::string output;
    bool as_json = false;
    std::vector<std::string> args;
    target_flags where;
};

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(make_error("InvalidArgument", "cannot read the script '" + path + "'; check the path"));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// SCAR's "run on every input file": one asynchronous invocation per object already in the
/// function's input folders, each with the S3 event a new upload would have produced.
int run_on_inputs(const run_flags& f, const deploy::target& t, const std::vector<std::string>& inputs) {
    auto s3 = s3_client(t);
    auto lambda = lambda_client(t);
    int invoked = 0;
    for (const auto& path : inputs) {
        auto [bucket, folder] = split_bucket_path(path);
        const auto all = need(s3.list_all(bucket, folder.empty() ? std::string() : folder + "/"));
        for (const auto& o : all.objects) {
            if (o.key.ends_with('/')) continue;  // folder markers
            s3::event_record r;
            r.aws_region = t.region;
            r.event_time = clock::system().now();
            r.event_name = "ObjectCreated:Put";
            r.principal_id = t.credentials.access_key_id;
            r.source_ip = "127.0.0.1";
            r.configuration_id = "scar-run";
            r.bucket_name = bucket;
            r.bucket_arn = "arn:aws:s3:::" + bucket;
            r.key = o.key;
            r.size = o.size;
            r.etag = o.etag;
            need(lambda.invoke(f.name, s3::to_json(s3::event_batch{{r}}), lambda::invocation_type::event));
            ++invoked;
        }
    }
    if (f.as_json) {
        std::cout << json::serialize(json::object{{"name", f.name}, {"invocations", invoked}}) << "\n";
    } else {
        std::cout << "invoked " << f.name << " asynchronously for " << invoked << " input file"
                  << (invoked == 1 ? "" : "s") << "; see the results with scar ls -b and scar log -n "
                  << f.name << "\n";
    }
    return 0;
}

/// The function's answer: SCAR's response ({statusCode, body base64, …}) decoded, or the
/// payload as it is.
std::string body_of(const std::string& payload) {
    boost::system::error_code ec;
    const auto doc = json::parse(payload, ec);
    if (ec || !doc.is_object()) return payload;
    const auto& o = doc.as_object();
    const auto* body = o.if_contains("body");
    if (body == nullptr || !body->is_string()) return payload;
    const auto* b64 = o.if_contains("isBase64Encoded");
    if (b64 != nullptr && b64->is_bool() && b64->as_bool()) {
        if (auto raw = encoding::base64_decode(body->as_string())) return *raw;
    }
    return std::string(body->as_string());
}

/// With -f, the function's `run_script` stands in for a missing -s (and -n may be left out
/// when the files define one function).
run_flags with_definitions(run_flags f) {
    if (f.files.empty()) return f;
    config::load_options lo;
    for (const auto& file : f.files) lo.files.emplace_back(file);
    const auto defs = need(config::load(lo));
    const config::function_definition* fn = nullptr;
    for (const auto& d : defs.functions)
        if (d.name == f.name || (f.name.empty() && defs.functions.size() == 1)) fn = &d;
    if (fn == nullptr)
        fail(make_error(
            "InvalidArgument",
            f.name.empty() ? "the files define several functions; say which with -n NAME"
                           : "no function named '" + f.name + "' in the definition files"
        ));
    f.name = fn->name;
    if (f.script.empty() && f.args.empty() && !fn->run_script.empty()) f.script = fn->run_script.string();
    return f;
}

int run_function(const run_flags& given) {
    const auto f = with_definitions(given);
    if (f.name.empty()) fail(make_error("InvalidArgument", "say which function: -n NAME (or -f FILE)"));
    const auto t = resolve(f.where);
    auto lambda = lambda_client(t);
    json::object event;
    if (!f.script.empty()) event["script"] = encoding::base64_encode(read_all(f.script));
    if (!f.args.empty()) {
        json::array a;
        for (const auto& s : f.args) a.emplace_back(s);
        event["cmd_args"] = a;
    }
    if (event.empty()) {
        const auto fn = need(lambda.get_function(f.name));
        if (const auto inputs = deploy::recorded_inputs(fn.environment); !inputs.empty())
            return run_on_inputs(f, t, inputs);
    }
    const auto type = f.async ? lambda::invocation_type::event : lambda::invocation_type::request_response;
    const auto r = need(lambda.invoke(f.name, json::serialize(event), type));
    if (f.async) {
        std::cout
            << (f.as_json
                    ? json::serialize(json::object{{"request_id", r.request_id}}) + "\n"
                    : "invoked " + f.name + " asynchronously (request " + r.request_id +
                          "); see its output with scar log -n " + f.name + " -ri " + r.request_id + "\n");
        return 0;
    }
    if (r.function_error) {
        std::string message = r.payload;
        boost::system::error_code ec;
        const auto doc = json::parse(r.payload, ec);
        if (!ec && doc.is_object())
            if (const auto* m = doc.as_object().if_contains("errorMessage"); m != nullptr && m->is_string())
                message = std::string(m->as_string());
        std::cerr << "scar: " << f.name << " failed (request " << r.request_id << "): " << message << "\n";
        return 1;
    }
    const auto body = body_of(r.payload);
    if (f.as_json) {
        std::cout << json::serialize(json::object{{"request_id", r.request_id}, {"output", body}}) << "\n";
    } else if (!f.output.empty()) {
        std::ofstream out(f.output, std::ios::binary);
        out << body;
        if (!out) fail(make_error("LocalIOError", "cannot write '" + f.output + "'"));
    } else {
        std::cout << body;
    }
    return 0;
}

}  // namespace

void add_run(CLI::App& app) {
    auto f = std::make_shared<run_flags>();
    auto* c = app.add_subcommand("run", "invoke a function directly (script, arguments, or its input files)");
    c->add_option("-n,--name", f->name, "function name");
    c->add_option("-f,--file", f->files, "definition file: its run_script is the default of -s");
    c->add_option("-s,--run-script", f->script, "script to run in the function's container");
    c->add_flag("-a,--asynchronous", f->async, "do not wait for the result");
    c->add_option("-o,--output-file", f->output, "write the function's output here");
    c->add_flag("--json", f->as_json, "print the result as JSON");
    c->add_option("args", f->args, "arguments for the image's command (after --)");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_function(*f)); });
}

}  // namespace scar::cli
