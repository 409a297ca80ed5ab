#include "scar/config/prices.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include "document.hpp"

namespace scar::config {
namespace detail {
extern const char prices_toml_text[];
extern const std::size_t prices_toml_size;
}  // namespace detail

namespace {

using namespace detail;

/// Reads the keys of one table into their fields; every key must be there, no other may be.
class reader {
public:
    reader(const table& t, std::string prefix, origin at, diagnostics& d)
        : t_(t), prefix_(std::move(prefix)), at_(std::move(at)), diag_(d) {}

    void price(std::string_view key, double& out) {
        const value* v = take(key);
        if (v == nullptr) return;
        if (const auto* d = std::get_if<double>(&v->data)) {
            out = *d;
        } else if (const auto* i = v->as_integer()) {
            out = static_cast<double>(*i);
        } else {
            diag_.add(v->where, "is " + describe(*v) + "; write a number, e.g. 0.20");
            return;
        }
        if (out < 0) diag_.add(v->where, "is negative; prices are 0 or more");
    }

    void count(std::string_view key, int& out) {
        const value* v = take(key);
        if (v == nullptr) return;
        const auto* i = v->as_integer();
        if (i == nullptr || *i < 0 || *i > 1'000'000) {
            diag_.add(v->where, "is " + describe(*v) + "; write a whole number from 0 to 1000000");
            return;
        }
        out = static_cast<int>(*i);
    }

    void text(std::string_view key, std::string& out) {
        const value* v = take(key);
        if (v == nullptr) return;
        if (const auto* s = v->as_string()) {
            out = *s;
        } else {
            diag_.add(v->where, "is " + describe(*v) + "; write a string");
        }
    }

    /// Reports keys nobody took.
    void finish() {
        for (const auto& e : t_) {
            if (taken_.count(e.key) == 0 && e.val.as_table() == nullptr)
                diag_.add(
                    e.key_origin(),
                    "is not a key of the price table; see conf/prices.toml for the keys"
                );
        }
        for (const auto& [key, seen] : wanted_)
            if (!seen)
                diag_.add(at_, "misses " + prefix_ + key + "; every key of conf/prices.toml is required");
    }

private:
    const value* take(std::string_view key) {
        const value* v = find(t_, key);
        wanted_[std::string(key)] = v != nullptr;
        if (v != nullptr) taken_[std::string(key)] = true;
        return v;
    }

    const table& t_;
    std::string prefix_;
    origin at_;
    diagnostics& diag_;
    std::map<std::string, bool> taken_;
    std::map<std::string, bool> wanted_;
};

}  // namespace

result<price_table> load_prices(const std::filesystem::path& file) {
    std::string text;
    auto src = std::make_shared<source>();
    if (file.empty()) {
        text.assign(prices_toml_text, prices_toml_size);
        src->name = "conf/prices.toml (built in)";
    } else {
        std::ifstream in(file, std::ios::binary);
        if (!in)
            return make_error(
                "ConfigInvalid",
                "cannot read the price table '" + file.string() +
                    "'; check the path (conf/prices.toml is the model)"
            );
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
        src->name = file.string();
    }
    diagnostics diag;
    const auto doc = read_toml(text, src, diag);
    if (!doc) return make_error("ConfigInvalid", diag.text());

    price_table p;
    origin top{src, 1, 1, ""};
    reader root(*doc, "", top, diag);
    root.text("region", p.region);
    root.text("currency", p.currency);
    const auto section = [&](std::string_view name) -> const table* {
        const value* v = find(*doc, name);
        if (v == nullptr || v->as_table() == nullptr) {
            diag.add(top, "misses the [" + std::string(name) + "] table; see conf/prices.toml");
            return nullptr;
        }
        return v->as_table();
    };
    if (const table* l = section("lambda")) {
        reader r(*l, "lambda.", top, diag);
        r.price("requests_per_million", p.lambda.requests_per_million);
        r.price("gb_second_x86_64", p.lambda.gb_second_x86_64);
        r.price("gb_second_arm64", p.lambda.gb_second_arm64);
        r.price("ephemeral_gb_second", p.lambda.ephemeral_gb_second);
        r.count("ephemeral_included_mb", p.lambda.ephemeral_included_mb);
        r.finish();
    }
    if (const table* b = section("batch")) {
        reader r(*b, "batch.", top, diag);
        r.price("fargate_vcpu_hour", p.batch.fargate_vcpu_hour);
        r.price("fargate_gb_hour", p.batch.fargate_gb_hour);
        r.count("fargate_minimum_seconds", p.batch.fargate_minimum_seconds);
        r.price("ec2_vcpu_hour", p.batch.ec2_vcpu_hour);
        r.finish();
    }
    root.finish();
    if (!diag.empty()) return make_error("ConfigInvalid", diag.text());
    return p;
}

}  // namespace scar::config
