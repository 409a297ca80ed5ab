#include <set>
#include <string>

#include "document.hpp"
#include "scar/config/function.hpp"

namespace scar::config {
namespace {

using detail::toml_key;
using detail::toml_string;

class writer {
public:
    void header(std::string_view h, bool array = false) {
        out_ += array ? "\n[[" : "\n[";
        out_ += h;
        out_ += array ? "]]\n" : "]\n";
    }
    void kv(std::string_view k, std::string_view v) { line(k, toml_string(v)); }
    void kv(std::string_view k, const char* v) { line(k, toml_string(v)); }
    void kv(std::string_view k, int v) { line(k, std::to_string(v)); }
    void kv(std::string_view k, bool v) { line(k, v ? "true" : "false"); }
    void kv(std::string_view k, const std::vector<std::string>& v) {
        std::string a = "[";
        for (const auto& s : v) a += (a.size() > 1 ? ", " : "") + toml_string(s);
        line(k, a + "]");
    }
    void table(std::string_view h, const std::map<std::string, std::string>& vars) {
        header(h);
        for (const auto& [k, v] : vars) kv(k, v);
    }
    void comment(std::string_view c) {
        out_ += "# ";
        out_ += c;
        out_ += "\n";
    }
    [[nodiscard]] std::string str() && { return std::move(out_); }

private:
    void line(std::string_view k, const std::string& v) {
        out_ += toml_key(k);
        out_ += " = ";
        out_ += v;
        out_ += '\n';
    }
    std::string out_;
};

void write_path(writer& w, std::string_view h, const storage_path& p, bool output) {
    w.header(h, true);
    w.kv("storage", p.provider);
    w.kv("path", p.path());
    if (output) {
        w.kv("prefix", p.prefixes);
        w.kv("suffix", p.suffixes);
    }
}

}  // namespace

std::string to_toml(const function_definition& fn, const definitions& defs) {
    writer w;
    w.comment("The deployed configuration of function '" + fn.name + "', written by scar.");
    w.comment("Every key is explicit; the scripts it names sit next to this file.");
    w.header("function", true);
    w.kv("name", fn.name);
    w.kv("image", fn.image);
    w.kv("description", fn.description);
    w.kv("memory", fn.memory_mb);
    w.kv("timeout", fn.timeout_s);
    w.kv("timeout_threshold", fn.timeout_threshold_s);
    w.kv("ephemeral_storage", fn.ephemeral_storage_mb);
    w.kv("execution_mode", to_string(fn.mode));
    w.kv("log_level", fn.log_level);
    w.kv("architecture", fn.architecture);
    if (!fn.role.empty()) w.kv("role", fn.role);
    w.kv("layers", fn.layers);
    if (!fn.init_script.empty()) w.kv("init_script", fn.init_script.filename().string());
    if (!fn.run_script.empty()) w.kv("run_script", fn.run_script.filename().string());
    w.kv("file_stage_in", fn.file_stage_in);

    w.header("function.deployment");
    w.kv("target", to_string(fn.target));
    w.kv("region", fn.region);
    if (!fn.endpoint.empty()) w.kv("endpoint", fn.endpoint);

    w.table("function.environment", fn.environment);
    w.table("function.container.environment", fn.container_environment);
    for (const auto& in : fn.inputs) write_path(w, "function.input", in, false);
    for (const auto& out : fn.outputs) write_path(w, "function.output", out, true);
    if (fn.api_gateway) {
        w.header("function.api_gateway");
        w.kv("name", fn.api_gateway->name);
        w.kv("stage", fn.api_gateway->stage);
        w.kv("path", fn.api_gateway->path);
        w.kv("binary_media_types", fn.api_gateway->binary_media_types);
    }
    w.header("function.cloudwatch");
    w.kv("log_retention_days", fn.log_retention_days);

    const auto& b = fn.batch;
    w.header("function.batch");
    w.kv("vcpus", b.vcpus);
    w.kv("memory", b.memory_mb);
    w.kv("gpu", b.gpu);
    w.kv("max_vcpus", b.max_vcpus);
    w.kv("attempts", b.attempts);
    w.kv("timeout", b.timeout_s);
    w.kv("compute_type", to_string(b.compute));
    w.kv("instance_types", b.instance_types);
    w.kv("subnets", b.subnets);
    w.kv("security_groups", b.security_groups);
    w.table("function.batch.environment", b.environment);

    std::set<std::string> used;
    for (const auto& p : fn.inputs) used.insert(p.provider);
    for (const auto& p : fn.outputs) used.insert(p.provider);
    for (const auto& name : used) {
        const auto it = defs.storage.find(name);
        if (it == defs.storage.end()) continue;
        const storage_provider& p = it->second;
        w.header("storage." + toml_key(p.type) + "." + toml_key(p.id));
        for (const auto& [k, v] :
             {std::pair<const char*, const std::string&>{"endpoint", p.endpoint},
              {"region", p.region},
              {"access_key", p.access_key},
              {"secret_key", p.secret_key},
              {"session_token", p.session_token}}) {
            if (!v.empty()) w.kv(k, v);
        }
        w.kv("verify_tls", p.verify_tls);
        w.kv("path_style", p.path_style);
    }
    return std::move(w).str();
}

}  // namespace scar::config
