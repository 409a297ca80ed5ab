// scar ls: the functions scar deployed, or with -b the objects of a bucket.

#include <scar/deploy/deploy.hpp>
#include <scar/s3/client.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "../commands.hpp"
#include "../support.hpp"

namespace scar::cli {
namespace {

namespace json = boost::json;

struct ls_flags {
    std::string bucket;
    bool as_json = false;
    target_flags where;
};

int list_bucket(const ls_flags& f, const deploy::target& t) {
    auto [bucket, folder] = split_bucket_path(f.bucket);
    auto s3 = s3_client(t);
    const auto all = need(s3.list_all(bucket, folder.empty() ? std::string() : folder + "/"));
    if (f.as_json) {
        json::array out;
        for (const auto& o : all.objects)
            out.push_back(json::object{{"key", o.key}, {"size", o.size}, {"etag", o.etag}});
        std::cout << json::serialize(out) << "\n";
        return 0;
    }
    for (const auto& o : all.objects) std::cout << std::setw(12) << o.size << "  " << o.key << "\n";
    return 0;
}

int run_ls(const ls_flags& f) {
    const auto t = resolve(f.where);
    if (!f.bucket.empty()) return list_bucket(f, t);
    const auto fns = need(deploy::list(t));
    if (f.as_json) {
        json::array out;
        for (const auto& s : fns) {
            json::array inputs;
            for (const auto& i : s.inputs) inputs.emplace_back(i);
            out.push_back(json::object{
                {"name", s.name},
                {"image", s.image},
                {"memory", s.memory_mb},
                {"timeout", s.timeout_s},
                {"mode", s.mode},
                {"inputs", inputs},
                {"api_url", s.api_url}});
        }
        std::cout << json::serialize(out) << "\n";
        return 0;
    }
    // INPUTS is the last column unless a function has an API Gateway endpoint: then the
    // inputs are padded to their widest and the URL follows (`scar invoke` and curl use it).
    std::vector<std::string> inputs(fns.size());
    std::size_t inputs_width = 6;
    int image_width = 32;  // wider when an image reference is: columns never run together
    bool any_api = false;
    for (std::size_t n = 0; n < fns.size(); ++n) {
        image_width = std::max(image_width, static_cast<int>(fns[n].image.size()) + 2);
        for (const auto& i : fns[n].inputs) inputs[n] += (inputs[n].empty() ? "" : " ") + i;
        if (inputs[n].empty()) inputs[n] = "-";
        inputs_width = std::max(inputs_width, inputs[n].size());
        any_api = any_api || !fns[n].api_url.empty();
    }
    const auto last = [&](const std::string& in, const std::string& url) {
        if (!any_api) return in + "\n";
        return in + std::string(inputs_width + 2 - in.size(), ' ') + url + "\n";
    };
    std::cout << std::left << std::setw(24) << "NAME" << std::setw(8) << "MEMORY" << std::setw(9) << "TIMEOUT"
              << std::setw(14) << "MODE" << std::setw(image_width) << "IMAGE" << last("INPUTS", "API URL");
    for (std::size_t n = 0; n < fns.size(); ++n) {
        const auto& s = fns[n];
        std::cout << std::left << std::setw(24) << s.name << std::setw(8) << s.memory_mb << std::setw(9)
                  << s.timeout_s << std::setw(14) << s.mode << std::setw(image_width) << s.image
                  << last(inputs[n], s.api_url.empty() ? "-" : s.api_url);
    }
    return 0;
}

}  // namespace

void add_ls(CLI::App& app) {
    auto f = std::make_shared<ls_flags>();
    auto* c = app.add_subcommand("ls", "list deployed functions, or a bucket's objects with -b");
    c->add_option("-b,--bucket", f->bucket, "bucket[/folder] to list");
    c->add_flag("--json", f->as_json, "print as JSON");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_ls(*f)); });
}

}  // namespace scar::cli
