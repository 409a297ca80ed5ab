#include "service.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>
#include <scar/image/pull.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/sandbox/container.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <fstream>
#include <regex>
#include <span>
#include <sstream>

#include "../json_fields.hpp"
#include "../util.hpp"
#include "container.hpp"
#include <sys/stat.h>
#include <sys/wait.h>

namespace scar::emulator::lambda {

namespace fs = std::filesystem;
namespace json = boost::json;
using inv_channel =
    net::experimental::concurrent_channel<void(boost::system::error_code, std::shared_ptr<invocation>)>;
using done_channel = net::experimental::concurrent_channel<void(boost::system::error_code, outcome)>;

/// An asynchronous event that was throttled, waiting for capacity (guarded by the service's
/// mutex): woken once when an environment of its function frees up or ends.
struct capacity_waiter {
    explicit capacity_waiter(const net::any_io_executor& ex) : freed(ex, 1) {}
    net::experimental::concurrent_channel<void(boost::system::error_code)> freed;
    bool gone = false;  ///< woken already, or stopped waiting
};

constexpr std::size_t max_sync_payload = 6 * 1024 * 1024;
constexpr std::size_t max_async_payload = 1024 * 1024;
constexpr std::size_t max_response = 6 * 1024 * 1024 + 100;
constexpr std::chrono::seconds init_limit{10};

struct invocation {
    invocation(const net::any_io_executor& ex, std::string id_, std::string payload_)
        : id(std::move(id_)), payload(std::move(payload_)), done(ex, 1), taken(ex, 1) {}
    std::string id;
    std::string payload;
    std::string arn;
    std::string client_context;
    std::int64_t deadline_ms = 0;
    std::int64_t start_ms = 0;
    std::string log;  ///< this invocation's log text, for LogType=Tail
    /// Logged right after START (API Gateway's line for the request).
    std::string note;
    done_channel done;
    /// Signalled when the runtime takes it (`next`): the timeout counts from then.
    net::experimental::concurrent_channel<void(boost::system::error_code)> taken;
    std::atomic<bool> finished{false};
};

struct environment {
    environment(const net::any_io_executor& ex, std::string id_) : id(std::move(id_)), work(ex, 1) {}
    std::string id;
    std::weak_ptr<function> fn;
    std::unique_ptr<environment_process> proc;
    inv_channel work;
    std::shared_ptr<invocation> pending;  ///< handed over, not yet taken by `next`
    std::shared_ptr<invocation> current;  ///< taken by `next`, not yet answered
    bool busy = false;
    bool dead = false;
    bool initialized = false;
    bool report_init = false;
    std::int64_t started_ms = 0;
    std::int64_t init_ms = 0;
    std::int64_t idle_since = 0;
    std::string log_stream;
};

/// PutFunctionEventInvokeConfig: retries and destinations of asynchronous invocations.
struct invoke_config {
    int max_retries = 2;
    int max_event_age_s = 21600;
    std::string on_success;
    std::string on_failure;
    std::string modified;
};

/// An alias: a name for a version, optionally sharing invocations with one more version.
struct alias {
    std::string name;
    std::string version;  ///< "$LATEST" or a number
    std::string description;
    std::string revision;
    std::string extra_version;  ///< RoutingConfig.AdditionalVersionWeights' version, or empty
    double extra_weight = 0;
};

struct function {
    std::string name;
    std::string arn;
    std::string runtime;
    std::string handler;
    std::string role;
    std::string description;
    std::string package_type = "Zip";
    std::string image_uri;
    int memory = 128;
    int timeout = 3;
    int ephemeral = 512;
    std::map<std::string, std::string> env;
    std::vector<std::string> entry_point;
    std::vector<std::string> command;
    std::string working_dir;
    std::string code_sha256;
    std::int64_t code_size = 0;
    std::string code_dir;  ///< unpacked zip, relative to the service root
    std::string last_modified;
    std::string revision;
    std::string state = "Pending";
    std::string state_reason;       ///< why it Failed
    std::string state_reason_code;  ///< InvalidImage, ImageAccessDenied, …
    /// Successful, or InProgress while an updated image is pulled (invocations meanwhile run
    /// the previous one, as on AWS), or Failed when that pull failed.
    std::string last_update_status = "Successful";
    std::string last_update_reason;
    // Image functions: the pulled image.
    std::string image_digest;
    std::string image_rootfs;
    std::vector<std::string> image_entrypoint;
    std::vector<std::string> image_cmd;
    std::vector<std::string> image_env;
    std::string image_workdir;
    std::optional<int> reserved;
    std::vector<std::string> layers;  ///< layer version ARNs, mounted at /opt in this order
    json::array statements;
    std::string dead_letter_target;  ///< DeadLetterConfig.TargetArn (SQS or SNS)
    /// "$LATEST", or a published version's number; a version is an immutable copy of
    /// $LATEST's code and configuration with environments of its own.
    std::string version = "$LATEST";
    std::weak_ptr<function> latest;  ///< a published version's function ($LATEST)
    // $LATEST only: published versions, aliases, event invoke configs by qualifier.
    int last_version = 0;  ///< numbers are never reused
    std::map<int, std::shared_ptr<function>> versions;
    std::map<std::string, alias, std::less<>> aliases;
    std::map<std::string, invoke_config, std::less<>> invoke_configs;
    std::int64_t undelivered_successes = 0;  ///< OnSuccess records the emulator cannot send
    std::vector<std::shared_ptr<environment>> envs;
    std::deque<std::shared_ptr<capacity_waiter>> waiters;  ///< throttled events, oldest first

    [[nodiscard]] std::string qualified_arn() const {
        return version == "$LATEST" ? arn : arn + ":" + version;
    }
};

namespace {

error not_found(const std::string& arn) {
    return make_error("ResourceNotFoundException", "Function not found: " + arn, 404);
}

error invalid(std::string message) {
    return make_error("InvalidParameterValueException", std::move(message), 400);
}

/// "arn:aws:lambda:…:function:name:qualifier", "name:qualifier" or "name" → "name".
std::string function_name_of(std::string s) {
    if (const auto at = s.find(":function:"); at != std::string::npos) s.erase(0, at + 10);
    if (const auto colon = s.find(':'); colon != std::string::npos) s.resize(colon);
    return s;
}

std::string last_modified_now() {
    // "2026-11-23T10:04:05.123+0000"
    auto s = iso8601_ms(now_ms());
    s.pop_back();
    return s + "+0000";
}

std::string uuid() {
    auto h = random_hex(16, false);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20);
}

json::object configuration(const function& f, bool full) {
    json::object vars;
    for (const auto& [k, v] : f.env) vars[k] = v;
    json::object c{
        {"FunctionName", f.name},
        {"FunctionArn", f.qualified_arn()},
        {"Role", f.role},
        {"CodeSize", f.code_size},
        {"CodeSha256", f.code_sha256},
        {"Description", f.description},
        {"Timeout", f.timeout},
        {"MemorySize", f.memory},
        {"LastModified", f.last_modified},
        {"Version", f.version},
        {"Environment", {{"Variables", vars}}},
        {"TracingConfig", {{"Mode", "PassThrough"}}},
        {"RevisionId", f.revision},
        {"PackageType", f.package_type},
        {"Architectures", json::array{"x86_64"}},
        {"EphemeralStorage", {{"Size", f.ephemeral}}},
        {"SnapStart", {{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}}},
        {"LoggingConfig", {{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + f.name}}}};
    if (f.package_type == "Zip") {
        c["Runtime"] = f.runtime;
        c["Handler"] = f.handler;
    }
    if (!f.dead_letter_target.empty()) c["DeadLetterConfig"] = {{"TargetArn", f.dead_letter_target}};
    if (!f.layers.empty()) {
        json::array ls;
        for (const auto& arn : f.layers) ls.push_back(json::object{{"Arn", arn}});
        c["Layers"] = ls;
    }
    if (!f.entry_point.empty() || !f.command.empty() || !f.working_dir.empty()) {
        json::object ic;
        if (!f.entry_point.empty()) ic["EntryPoint"] = json_array(f.entry_point);
        if (!f.command.empty()) ic["Command"] = json_array(f.command);
        if (!f.working_dir.empty()) ic["WorkingDirectory"] = f.working_dir;
        c["ImageConfigResponse"] = {{"ImageConfig", ic}};
    }
    if (full) {
        c["State"] = f.state;
        if (f.state == "Pending") {
            c["StateReason"] = "The function is being created.";
            c["StateReasonCode"] = "Creating";
        } else if (f.state == "Failed") {
            c["StateReason"] = f.state_reason;
            c["StateReasonCode"] = f.state_reason_code;
        }
        c["LastUpdateStatus"] = f.last_update_status;
        if (f.last_update_status == "InProgress") {
            c["LastUpdateStatusReason"] = "The function is being updated.";
            c["LastUpdateStatusReasonCode"] = "Updating";
        } else if (f.last_update_status == "Failed") {
            c["LastUpdateStatusReason"] = f.last_update_reason;
            c["LastUpdateStatusReasonCode"] = "ImageAccessDenied";
        }
    }
    return c;
}

/// Extracts a zip into `dir`, refusing entries that would land outside it.
result<std::int64_t> extract_zip(const std::string& bytes, const fs::path& dir) {
    archive* a = archive_read_new();
    archive_read_support_format_zip(a);
    std::unique_ptr<archive, decltype(&archive_read_free)> guard(a, archive_read_free);
    if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK) {
        return invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
    }
    std::int64_t unzipped = 0;
    archive_entry* e = nullptr;
    int r = ARCHIVE_OK;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const std::string name = archive_entry_pathname(e) != nullptr ? archive_entry_pathname(e) : "";
        const fs::path rel = fs::path(name).lexically_normal();
        if (name.empty() || rel.is_absolute() || rel.empty() || *rel.begin() == "..") {
            return invalid(
                "the zip entry '" + name +
                "' points outside the function's directory; rebuild the zip with relative paths"
            );
        }
        const fs::path target = dir / rel;
        std::error_code ec;
        const auto type = archive_entry_filetype(e);
        if (type == AE_IFDIR) {
            fs::create_directories(target, ec);
            continue;
        }
        if (type != AE_IFREG) continue;  // links and devices are not part of Lambda packages
        fs::create_directories(target.parent_path(), ec);
        std::ofstream out(target, std::ios::binary | std::ios::trunc);
        const void* buf = nullptr;
        std::size_t size = 0;
        la_int64_t offset = 0;
        while (archive_read_data_block(a, &buf, &size, &offset) == ARCHIVE_OK) {
            out.write(static_cast<const char*>(buf), static_cast<std::streamsize>(size));
            unzipped += static_cast<std::int64_t>(size);
        }
        out.close();
        auto mode = archive_entry_perm(e);
        if (mode == 0) mode = 0644;
        ::chmod(target.c_str(), mode | 0444);
        if (unzipped > 262144000) return invalid("Unzipped size must be smaller than 262144000 bytes");
    }
    if (r != ARCHIVE_EOF) {
        return invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
    }
    return unzipped;
}

std::string error_json(std::string_view type, std::string_view message) {
    return json::serialize(json::object{{"errorType", type}, {"errorMessage", message}});
}

long max_rss_mb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("VmHWM:")) return (std::stol(line.substr(6)) + 1023) / 1024;
    return 0;
}

}  // namespace

result<std::shared_ptr<service>> service::open(settings s, std::shared_ptr<logs::service> logs) {
    auto svc = std::make_shared<service>(std::move(s), std::move(logs));
    svc->sandbox_check_ = std::async(std::launch::async, [] {
                              auto ok = sandbox::check_available();
                              if (!ok) {
                                  scar::log::warn(
                                      "lambda: containers are not available here (",
                                      ok.error().message,
                                      "); Zip functions will run as host processes without isolation, Image "
                                      "functions cannot run"
                                  );
                              }
                              return ok;
                          }).share();
    if (auto ok = svc->load(); !ok) return ok.error();
    auto store = dead_letter_store::open(svc->settings_.root / "dead-letters.jsonl", svc->settings_.fsync);
    if (!store) return store.error();
    svc->dead_letters_ = std::move(*store);
    return svc;
}

service::~service() {
    stop_all();
}

void service::stop_all() {
    std::vector<std::shared_ptr<environment>> all;
    {
        const std::lock_guard lock(mutex_);
        for (auto& [id, e] : environments_) all.push_back(e);
    }
    for (auto& e : all) retire(e, "shutdown");
}

std::string service::function_arn(const std::string& name) const {
    return "arn:aws:lambda:" + settings_.region + ":" + settings_.account + ":function:" + name;
}

namespace {

json::object invoke_config_json(const invoke_config& c) {
    return {
        {"max_retries", c.max_retries},
        {"max_event_age_s", c.max_event_age_s},
        {"on_success", c.on_success},
        {"on_failure", c.on_failure},
        {"modified", c.modified}};
}

invoke_config invoke_config_of(const json::object& c) {
    invoke_config out;
    out.max_retries = static_cast<int>(json_int(c, "max_retries").value_or(2));
    out.max_event_age_s = static_cast<int>(json_int(c, "max_event_age_s").value_or(21600));
    out.on_success = json_string(c, "on_success");
    out.on_failure = json_string(c, "on_failure");
    out.modified = json_string(c, "modified");
    return out;
}

/// The fields saved for a function or a published version (function.json, versions/N.json).
json::object stored_fields(const function& f) {
    json::object env;
    for (const auto& [k, v] : f.env) env[k] = v;
    return {
        {"name", f.name},
        {"version", f.version},
        {"runtime", f.runtime},
        {"handler", f.handler},
        {"role", f.role},
        {"description", f.description},
        {"package_type", f.package_type},
        {"image_uri", f.image_uri},
        {"memory", f.memory},
        {"timeout", f.timeout},
        {"ephemeral", f.ephemeral},
        {"env", env},
        {"entry_point", json_array(f.entry_point)},
        {"command", json_array(f.command)},
        {"working_dir", f.working_dir},
        {"code_sha256", f.code_sha256},
        {"code_size", f.code_size},
        {"code_dir", f.code_dir},
        {"last_modified", f.last_modified},
        {"revision", f.revision},
        {"dead_letter_target", f.dead_letter_target},
        {"layers", json_array(f.layers)},
        {"image_digest", f.image_digest},
        {"image_rootfs", f.image_rootfs},
        {"image_entrypoint", json_array(f.image_entrypoint)},
        {"image_cmd", json_array(f.image_cmd)},
        {"image_env", json_array(f.image_env)},
        {"image_workdir", f.image_workdir}};
}

/// What a published version snapshots, as one comparable text (publishing the same code and
/// configuration twice returns the existing version, as on AWS).
std::string snapshot_of(const function& f) {
    auto o = stored_fields(f);
    for (const auto* volatile_field :
         {"version", "description", "last_modified", "revision", "code_dir", "image_rootfs"})
        o.erase(volatile_field);
    return json::serialize(o);
}

/// A function (or published version) from its saved JSON.
std::shared_ptr<function> function_of(const json::object& o) {
    auto f = std::make_shared<function>();
    f->name = json_string(o, "name");
    f->runtime = json_string(o, "runtime");
    f->handler = json_string(o, "handler");
    f->role = json_string(o, "role");
    f->description = json_string(o, "description");
    f->package_type = json_string(o, "package_type");
    f->image_uri = json_string(o, "image_uri");
    f->memory = static_cast<int>(json_int(o, "memory").value_or(128));
    f->timeout = static_cast<int>(json_int(o, "timeout").value_or(3));
    f->ephemeral = static_cast<int>(json_int(o, "ephemeral").value_or(512));
    if (const auto* e = o.if_contains("env"); e != nullptr && e->is_object())
        for (const auto& [k, val] : e->as_object())
            if (val.is_string()) f->env[std::string(k)] = std::string(val.as_string());
    f->entry_point = json_strings(o.if_contains("entry_point"));
    f->command = json_strings(o.if_contains("command"));
    f->working_dir = json_string(o, "working_dir");
    f->layers = json_strings(o.if_contains("layers"));
    f->code_sha256 = json_string(o, "code_sha256");
    f->code_size = json_int(o, "code_size").value_or(0);
    f->code_dir = json_string(o, "code_dir");
    f->last_modified = json_string(o, "last_modified");
    f->revision = json_string(o, "revision");
    f->dead_letter_target = json_string(o, "dead_letter_target");
    f->image_digest = json_string(o, "image_digest");
    f->image_rootfs = json_string(o, "image_rootfs");
    f->image_entrypoint = json_strings(o.if_contains("image_entrypoint"));
    f->image_cmd = json_strings(o.if_contains("image_cmd"));
    f->image_env = json_strings(o.if_contains("image_env"));
    f->image_workdir = json_string(o, "image_workdir");
    if (const auto v = json_string(o, "version"); !v.empty()) f->version = v;
    return f;
}

}  // namespace

result<void> service::load() {
    std::error_code ec;
    fs::create_directories(settings_.root / "functions", ec);
    if (ec)
        return make_error(
            "ServiceException",
            "cannot create '" + settings_.root.string() + "': " + ec.message(),
            500
        );
    const auto parse = [](const fs::path& file) -> std::optional<json::object> {
        std::ifstream in(file);
        if (!in) return std::nullopt;
        std::stringstream ss;
        ss << in.rdbuf();
        boost::system::error_code jec;
        auto v = json::parse(ss.str(), jec);
        if (jec || !v.is_object()) return std::nullopt;
        return std::move(v.as_object());
    };
    for (const auto& d : fs::directory_iterator(settings_.root / "functions", ec)) {
        const auto read = parse(d.path() / "function.json");
        if (!read) continue;
        const auto& o = *read;
        auto f = function_of(o);
        f->version = "$LATEST";
        f->arn = function_arn(f->name);
        f->state = f->package_type == "Image" ? "Pending" : "Active";
        if (const auto r = json_int(o, "reserved")) f->reserved = static_cast<int>(*r);
        if (const auto* ic = o.if_contains("invoke_config"); ic != nullptr && ic->is_object())
            f->invoke_configs["$LATEST"] = invoke_config_of(ic->as_object());
        if (const auto* ics = o.if_contains("invoke_configs"); ics != nullptr && ics->is_object())
            for (const auto& [q, c] : ics->as_object())
                if (c.is_object()) f->invoke_configs[std::string(q)] = invoke_config_of(c.as_object());
        if (const auto* st = o.if_contains("statements"); st != nullptr && st->is_array())
            f->statements = st->as_array();
        f->last_version = static_cast<int>(json_int(o, "last_version").value_or(0));
        if (const auto* as = o.if_contains("aliases"); as != nullptr && as->is_array()) {
            for (const auto& a : as->as_array()) {
                if (!a.is_object()) continue;
                const auto& ao = a.as_object();
                alias al{
                    json_string(ao, "name"),
                    json_string(ao, "version"),
                    json_string(ao, "description"),
                    json_string(ao, "revision"),
                    json_string(ao, "extra_version"),
                    ao.contains("extra_weight") && ao.at("extra_weight").is_number()
                        ? ao.at("extra_weight").to_number<double>()
                        : 0.0};
                f->aliases[al.name] = std::move(al);
            }
        }
        for (const auto& v : fs::directory_iterator(d.path() / "versions", ec)) {
            const auto vo = parse(v.path());
            if (!vo) continue;
            auto ver = function_of(*vo);
            const int n = std::atoi(ver->version.c_str());
            if (n <= 0) continue;
            ver->arn = f->arn;
            ver->latest = f;
            // A version's image was unpacked when it was published; it is kept in the cache.
            ver->state = ver->package_type != "Image" || fs::exists(ver->image_rootfs) ? "Active" : "Failed";
            if (ver->state == "Failed") {
                ver->state_reason_code = "InvalidImage";
                ver->state_reason = "the unpacked image of this version is gone from " + ver->image_rootfs;
            }
            f->last_version = std::max(f->last_version, n);
            f->versions.emplace(n, std::move(ver));
        }
        functions_.emplace(f->name, std::move(f));
    }
    return {};
}

result<void> service::save(const function& f) const {
    auto o = stored_fields(f);
    const fs::path dir = settings_.root / "functions" / f.name;
    std::error_code ec;
    if (f.version != "$LATEST") {
        fs::create_directories(dir / "versions", ec);
        return replace_file(dir / "versions" / (f.version + ".json"), json::serialize(o), "ServiceException");
    }
    o["statements"] = f.statements;
    o["last_version"] = f.last_version;
    if (f.reserved) o["reserved"] = *f.reserved;
    json::object configs;
    for (const auto& [q, c] : f.invoke_configs) configs[q] = invoke_config_json(c);
    o["invoke_configs"] = std::move(configs);
    json::array aliases;
    for (const auto& [name, a] : f.aliases) {
        aliases.push_back(json::object{
            {"name", a.name},
            {"version", a.version},
            {"description", a.description},
            {"revision", a.revision},
            {"extra_version", a.extra_version},
            {"extra_weight", a.extra_weight}});
    }
    o["aliases"] = std::move(aliases);
    fs::create_directories(dir, ec);
    return replace_file(dir / "function.json", json::serialize(o), "ServiceException");
}

result<std::shared_ptr<function>> service::find(const std::string& name_or_arn) const {
    const std::string name = function_name_of(name_or_arn);
    const std::lock_guard lock(mutex_);
    const auto it = functions_.find(name);
    if (it == functions_.end()) return not_found(function_arn(name));
    return it->second;
}

namespace {

/// "arn:aws:lambda:…:function:name:qualifier" or "name:qualifier" → "qualifier" ("" when none).
std::string qualifier_of(std::string s) {
    if (const auto at = s.find(":function:"); at != std::string::npos) s.erase(0, at + 10);
    const auto colon = s.find(':');
    return colon == std::string::npos ? std::string() : s.substr(colon + 1);
}

bool is_version_number(std::string_view q) {
    return !q.empty() && q.size() < 10 &&
           std::all_of(q.begin(), q.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::shared_ptr<function> service::version_of(const function& latest, const std::string& version) const {
    if (version == "$LATEST") {
        const auto it = functions_.find(latest.name);
        return it != functions_.end() ? it->second : nullptr;
    }
    if (!is_version_number(version)) return nullptr;
    const auto it = latest.versions.find(std::stoi(version));
    return it != latest.versions.end() ? it->second : nullptr;
}

result<resolved> service::resolve(const std::string& name_or_arn, const std::string& qualifier) const {
    const std::string name = function_name_of(name_or_arn);
    std::string q = qualifier_of(name_or_arn);
    if (!qualifier.empty() && !q.empty() && q != qualifier) {
        return invalid("The derived qualifier from the function name does not match the specified qualifier."
        );
    }
    if (q.empty()) q = qualifier;
    const std::lock_guard lock(mutex_);
    const auto it = functions_.find(name);
    if (it == functions_.end()) return not_found(function_arn(name) + (q.empty() ? "" : ":" + q));
    resolved r{it->second, it->second, q};
    if (q.empty() || q == "$LATEST") return r;
    std::string version = q;
    if (!is_version_number(q)) {
        const auto a = it->second->aliases.find(q);
        if (a == it->second->aliases.end()) return not_found(function_arn(name) + ":" + q);
        version = a->second.version;
        if (!a->second.extra_version.empty()) {
            // Weighted routing: the additional version takes its share of invocations.
            const auto draw =
                static_cast<double>(std::stoul(random_hex(4, false), nullptr, 16)) / 4294967296.0;
            if (draw < a->second.extra_weight) version = a->second.extra_version;
        }
    }
    r.run = version_of(*it->second, version);
    if (!r.run) return not_found(function_arn(name) + ":" + q);
    return r;
}

result<void> service::unpack_code(function& f, const std::string& zip_base64) {
    const auto zip = encoding::base64_decode(zip_base64);
    if (!zip) return invalid("Code.ZipFile is not valid base64");
    if (zip->size() > 52428800) return invalid("Zipped size must be smaller than 52428800 bytes");
    const std::string rel = "functions/" + f.name + "/code-" + random_hex(6, false);
    const fs::path dir = settings_.root / rel;
    std::error_code ec;
    fs::create_directories(dir, ec);
    auto unzipped = extract_zip(*zip, dir);
    if (!unzipped) {
        fs::remove_all(dir, ec);
        return unzipped.error();
    }
    const auto digest = crypto::sha256_of(*zip);
    f.code_sha256 = encoding::base64_encode(std::span<const std::uint8_t>(digest.data(), digest.size()));
    f.code_size = static_cast<std::int64_t>(zip->size());
    f.code_dir = rel;  // the previous code is removed once no version uses it (update_function)
    return {};
}

/// Applies the configuration fields of a Create/UpdateFunctionConfiguration body.
static result<void> apply_config(function& f, const json::object& in) {
    if (const auto t = json_int(in, "Timeout")) {
        if (*t < 1 || *t > 900)
            return invalid("Timeout must be between 1 and 900 seconds, not " + std::to_string(*t));
        f.timeout = static_cast<int>(*t);
    }
    if (const auto m = json_int(in, "MemorySize")) {
        if (*m < 128 || *m > 10240)
            return invalid("MemorySize must be between 128 and 10240 MB, not " + std::to_string(*m));
        f.memory = static_cast<int>(*m);
    }
    if (const auto* e = in.if_contains("EphemeralStorage"); e != nullptr && e->is_object()) {
        const auto s = json_int(e->as_object(), "Size").value_or(512);
        if (s < 512 || s > 10240) return invalid("EphemeralStorage.Size must be between 512 and 10240 MB");
        f.ephemeral = static_cast<int>(s);
    }
    if (const auto* d = in.if_contains("DeadLetterConfig"); d != nullptr && d->is_object()) {
        const auto target = json_string(d->as_object(), "TargetArn");
        static const std::regex arn_re(R"(^arn:(aws[a-zA-Z-]*)?:(sqs|sns):[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$)"
        );
        if (!target.empty() && !std::regex_match(target, arn_re)) {
            return invalid(
                "DeadLetterConfig.TargetArn must be an SQS queue or SNS topic ARN "
                "(arn:aws:sqs:<region>:<account>:<queue> or arn:aws:sns:<region>:<account>:<topic>), not '" +
                target + "'"
            );
        }
        f.dead_letter_target = target;  // empty: no dead-letter queue
    }
    if (in.contains("Description")) f.description = json_string(in, "Description");
    if (in.contains("Role")) f.role = json_string(in, "Role");
    if (in.contains("Handler")) f.handler = json_string(in, "Handler");
    if (in.contains("Runtime")) f.runtime = json_string(in, "Runtime");
    if (const auto* ls = in.if_contains("Layers"); ls != nullptr && ls->is_array()) {
        f.layers = json_strings(ls);
        if (f.layers.size() > 5) return invalid("Cannot reference more than 5 layers.");
    }
    if (const auto* e = in.if_contains("Environment"); e != nullptr && e->is_object()) {
        f.env.clear();
        std::size_t total = 0;
        if (const auto* vars = e->as_object().if_contains("Variables");
            vars != nullptr && vars->is_object()) {
            for (const auto& [k, v] : vars->as_object()) {
                const std::string key(k);
                static const std::regex reserved(
                    "^(_HANDLER|_X_AMZN_TRACE_ID|AWS_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_FUNCTION_NAME|"
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE|AWS_LAMBDA_FUNCTION_VERSION|AWS_LAMBDA_INITIALIZATION_"
                    "TYPE|"
                    "AWS_LAMBDA_LOG_GROUP_NAME|AWS_LAMBDA_LOG_STREAM_NAME|AWS_ACCESS_KEY|AWS_ACCESS_KEY_ID|"
                    "AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_LAMBDA_RUNTIME_API|LAMBDA_TASK_ROOT|"
                    "LAMBDA_RUNTIME_DIR)$"
                );
                if (std::regex_match(key, reserved)) {
                    return invalid(
                        "Lambda was unable to configure your environment variables because the environment "
                        "variables you have provided contains reserved keys that are currently not supported "
                        "for "
                        "modification. Reserved keys used in this request: " +
                        key
                    );
                }
                f.env[key] = v.is_string() ? std::string(v.as_string()) : json::serialize(v);
                total += key.size() + f.env[key].size();
            }
        }
        if (total > 4096) {
            return invalid(
                "Lambda was unable to configure your environment variables because the environment variables "
                "you have provided exceeded the 4KB limit"
            );
        }
    }
    if (const auto* ic = in.if_contains("ImageConfig"); ic != nullptr && ic->is_object()) {
        f.entry_point = json_strings(ic->as_object().if_contains("EntryPoint"));
        f.command = json_strings(ic->as_object().if_contains("Command"));
        f.working_dir = json_string(ic->as_object(), "WorkingDirectory");
    }
    return {};
}

result<std::string> service::create_function(const std::string& body) {
    boost::system::error_code jec;
    auto doc = json::parse(body, jec);
    if (jec || !doc.is_object())
        return make_error("InvalidRequestContentException", "the request body is not a JSON object", 400);
    const auto& in = doc.as_object();
    auto f = std::make_shared<function>();
    f->name = json_string(in, "FunctionName");
    static const std::regex name_re("^[a-zA-Z0-9-_]{1,64}$");
    if (!std::regex_match(f->name, name_re)) {
        return make_error(
            "ValidationException",
            "1 validation error detected: Value '" + f->name +
                "' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression "
                "pattern: "
                "[a-zA-Z0-9-_]{1,64}",
            400
        );
    }
    f->arn = function_arn(f->name);
    f->package_type = in.contains("PackageType") ? json_string(in, "PackageType") : "Zip";
    if (f->package_type != "Zip" && f->package_type != "Image")
        return invalid("PackageType must be Zip or Image");
    if (auto ok = apply_config(*f, in); !ok) return ok.error();
    if (f->role.empty()) return invalid("Role is required: an IAM role ARN (the emulator does not check it)");
    const auto* code = in.if_contains("Code");
    if (code == nullptr || !code->is_object()) return invalid("Code is required");
    {
        const std::lock_guard lock(mutex_);
        if (functions_.contains(f->name)) {
            return make_error("ResourceConflictException", "Function already exist: " + f->name, 409);
        }
    }
    if (f->package_type == "Image") {
        f->image_uri = json_string(code->as_object(), "ImageUri");
        if (f->image_uri.empty()) return invalid("Code.ImageUri is required for PackageType Image");
        if (auto ref = image::parse_reference(f->image_uri); !ref) return invalid(ref.error().message);
        if (auto ok = sandbox_available(); !ok) {
            return invalid("Image functions need a container sandbox on this host: " + ok.error().message);
        }
        f->last_modified = last_modified_now();
        f->revision = uuid();
        if (auto ok = save(*f); !ok) return ok.error();
        auto out = json::serialize(configuration(*f, true));
        {
            const std::lock_guard lock(mutex_);
            if (!functions_.emplace(f->name, f).second) {
                return make_error("ResourceConflictException", "Function already exist: " + f->name, 409);
            }
        }
        prepare_image(f);
        return out;
    }
    if (f->runtime != "provided.al2023" && f->runtime != "provided.al2" && f->runtime != "provided") {
        return invalid(
            "The emulator runs Zip functions with a custom runtime only: set Runtime to provided.al2023 (or "
            "provided.al2) and put an executable 'bootstrap' at the root of the zip; '" +
            f->runtime + "' is not supported"
        );
    }
    const auto zip = json_string(code->as_object(), "ZipFile");
    if (zip.empty()) return invalid("Code.ZipFile is required (S3 code locations are not supported yet)");
    if (auto ok = unpack_code(*f, zip); !ok) return ok.error();
    f->last_modified = last_modified_now();
    f->revision = uuid();
    if (auto ok = save(*f); !ok) return ok.error();
    auto out = json::serialize(configuration(*f, true));  // Pending, as AWS answers
    f->state = "Active";                                  // the code is unpacked: ready at once
    const std::lock_guard lock(mutex_);
    if (!functions_.emplace(f->name, f).second) {
        return make_error("ResourceConflictException", "Function already exist: " + f->name, 409);
    }
    return out;
}

result<std::string> service::update_function(const std::string& name, const std::string& body, bool code) {
    auto f = find(name);
    if (!f) return f.error();
    boost::system::error_code jec;
    auto doc = json::parse(body.empty() ? "{}" : body, jec);
    if (jec || !doc.is_object())
        return make_error("InvalidRequestContentException", "the request body is not a JSON object", 400);
    const auto& in = doc.as_object();
    function updated = **f;
    updated.envs.clear();
    if (const auto rev = json_string(in, "RevisionId"); !rev.empty() && rev != updated.revision) {
        return make_error(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
            "API to "
            "retrieve the latest Revision Id",
            412
        );
    }
    bool new_image = false;
    if (code && updated.package_type == "Image") {
        const auto uri = json_string(in, "ImageUri");
        if (uri.empty()) return invalid("ImageUri is required to update an Image function's code");
        if (auto ref = image::parse_reference(uri); !ref) return invalid(ref.error().message);
        updated.image_uri = uri;
        new_image = true;
    } else if (code) {
        const auto zip = json_string(in, "ZipFile");
        if (zip.empty()) return invalid("ZipFile is required (S3 code locations are not supported yet)");
        if (auto ok = unpack_code(updated, zip); !ok) return ok.error();
    } else if (auto ok = apply_config(updated, in); !ok) {
        return ok.error();
    }
    updated.last_modified = last_modified_now();
    updated.revision = uuid();
    if (auto ok = save(updated); !ok) return ok.error();
    std::vector<std::shared_ptr<environment>> old;
    std::string old_code;
    {
        const std::lock_guard lock(mutex_);
        auto& live = **f;
        old = live.envs;
        // What other requests changed meanwhile stays: versions, aliases, policy, concurrency.
        updated.envs = std::move(live.envs);
        updated.waiters = std::move(live.waiters);
        updated.versions = std::move(live.versions);
        updated.aliases = std::move(live.aliases);
        updated.last_version = live.last_version;
        updated.invoke_configs = std::move(live.invoke_configs);
        updated.statements = std::move(live.statements);
        updated.reserved = live.reserved;
        const bool had_image = !live.image_digest.empty();
        if (live.code_dir != updated.code_dir) {
            old_code = live.code_dir;
            for (const auto& [n, v] : updated.versions)
                if (v->code_dir == old_code) old_code.clear();
        }
        live = std::move(updated);
        if (new_image && had_image) {
            live.last_update_status = "InProgress";  // the previous image serves until the new one is ready
        } else {
            live.state = new_image ? "Pending" : "Active";
            live.last_update_status = "Successful";
        }
    }
    // New invocations get environments with the new code or configuration.
    for (auto& e : old) {
        const std::lock_guard lock(mutex_);
        if (!e->busy) {
            e->dead = true;
            if (e->proc) e->proc->kill();
        }
    }
    if (!old_code.empty()) {
        std::error_code ec;
        fs::remove_all(settings_.root / old_code, ec);
    }
    if (new_image) prepare_image(*f);
    const std::lock_guard lock(mutex_);
    return json::serialize(configuration(**f, true));
}

fs::path service::layer_dir(const std::string& name, int version) const {
    return settings_.root / "layers" / name / std::to_string(version);
}

result<std::string> service::layer_request(
    const std::string& method,
    const std::string& name,
    const std::string& version_text,
    const std::string& body
) {
    static const std::regex name_re("^[a-zA-Z0-9-_]{1,140}$");
    if (!std::regex_match(name, name_re))
        return invalid("Layer names are 1-140 letters, digits, '-' and '_'");
    const std::string layer_arn =
        "arn:aws:lambda:" + settings_.region + ":" + settings_.account + ":layer:" + name;
    const fs::path base = settings_.root / "layers" / name;
    const auto read_meta = [&](int v) -> std::optional<json::object> {
        std::ifstream in(layer_dir(name, v).string() + ".json");
        if (!in) return std::nullopt;
        std::stringstream ss;
        ss << in.rdbuf();
        boost::system::error_code ec;
        auto doc = json::parse(ss.str(), ec);
        if (ec || !doc.is_object()) return std::nullopt;
        return doc.as_object();
    };
    if (method == "POST") {
        boost::system::error_code jec;
        auto doc = json::parse(body, jec);
        if (jec || !doc.is_object())
            return make_error("InvalidRequestContentException", "the request body is not a JSON object", 400);
        const auto& in = doc.as_object();
        const auto* content = in.if_contains("Content");
        const auto zip_b64 =
            content != nullptr && content->is_object() ? json_string(content->as_object(), "ZipFile") : "";
        if (zip_b64.empty())
            return invalid("Content.ZipFile is required (S3 locations are not supported yet)");
        const auto zip = encoding::base64_decode(zip_b64);
        if (!zip) return invalid("Content.ZipFile is not valid base64");
        const std::lock_guard lock(mutex_);
        std::error_code ec;
        fs::create_directories(base, ec);
        int version = 1;  // versions are never reused, even after deletion
        {
            std::ifstream next(base / "next");
            next >> version;
            if (version < 1) version = 1;
        }
        std::ofstream(base / "next", std::ios::trunc) << version + 1;
        const fs::path dir = layer_dir(name, version);
        auto unzipped = extract_zip(*zip, dir);
        if (!unzipped) {
            fs::remove_all(dir, ec);
            return unzipped.error();
        }
        const auto digest = crypto::sha256_of(*zip);
        json::object out{
            {"LayerArn", layer_arn},
            {"LayerVersionArn", layer_arn + ":" + std::to_string(version)},
            {"Description", json_string(in, "Description")},
            {"CreatedDate", last_modified_now()},
            {"Version", version},
            {"Content",
             {{"Location", ""},
              {"CodeSha256",
               encoding::base64_encode(std::span<const std::uint8_t>(digest.data(), digest.size()))},
              {"CodeSize", zip->size()}}},
            {"CompatibleRuntimes", json_array(json_strings(in.if_contains("CompatibleRuntimes")))},
            {"CompatibleArchitectures", json_array(json_strings(in.if_contains("CompatibleArchitectures")))},
            {"LicenseInfo", json_string(in, "LicenseInfo")}};
        std::ofstream(dir.string() + ".json", std::ios::trunc) << json::serialize(out);
        return json::serialize(out);
    }
    if (version_text.empty()) {  // ListLayerVersions, newest first
        json::array out;
        std::error_code ec;
        std::vector<int> versions;
        for (const auto& e : fs::directory_iterator(base, ec)) {
            if (e.path().extension() == ".json") versions.push_back(std::atoi(e.path().stem().c_str()));
        }
        std::sort(versions.rbegin(), versions.rend());
        for (const int v : versions) {
            if (auto meta = read_meta(v)) {
                meta->erase("Content");
                meta->erase("LayerArn");
                out.push_back(std::move(*meta));
            }
        }
        return json::serialize(json::object{{"LayerVersions", out}});
    }
    const int version = std::atoi(version_text.c_str());
    if (version < 1) return invalid("Layer Version Cannot be less than 1");
    if (method == "DELETE") {
        std::error_code ec;
        fs::remove(layer_dir(name, version).string() + ".json", ec);
        // The files stay for functions that use this version, as on AWS.
        return std::string();
    }
    auto meta = read_meta(version);
    if (!meta)
        return make_error("ResourceNotFoundException", "The resource you requested does not exist.", 404);
    return json::serialize(*meta);
}

result<fs::path> service::merged_layers(const function& f) const {
    if (f.layers.empty()) return fs::path{};
    std::string key;
    std::vector<fs::path> dirs;
    for (const auto& arn : f.layers) {
        // arn:aws:lambda:<region>:<account>:layer:<name>:<version>
        const auto at = arn.find(":layer:");
        const auto colon = arn.rfind(':');
        if (at == std::string::npos || colon <= at + 7)
            return invalid("'" + arn + "' is not a layer version ARN");
        const std::string name = arn.substr(at + 7, colon - at - 7);
        const int version = std::atoi(arn.c_str() + colon + 1);
        const fs::path dir = layer_dir(name, version);
        if (!fs::is_directory(dir)) return invalid("Layer version " + arn + " does not exist.");
        dirs.push_back(dir);
        key += arn + "\n";
    }
    const fs::path merged = settings_.root / "opt" / encoding::to_hex(crypto::sha256_of(key));
    if (fs::exists(merged)) return merged;
    const fs::path tmp = merged.string() + "." + random_hex(6, false) + ".tmp";
    std::error_code ec;
    fs::create_directories(tmp, ec);
    for (const auto& dir : dirs) {  // later layers overwrite earlier ones, as in /opt on AWS
        fs::copy(
            dir,
            tmp,
            fs::copy_options::recursive | fs::copy_options::overwrite_existing |
                fs::copy_options::copy_symlinks,
            ec
        );
        if (ec) return make_error("ServiceException", "cannot assemble the layers: " + ec.message(), 500);
    }
    fs::rename(tmp, merged, ec);
    if (ec) fs::remove_all(tmp, ec);  // another environment assembled it first
    return merged;
}

void service::prepare_images() {
    std::vector<std::shared_ptr<function>> images;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& [n, f] : functions_)
            if (f->package_type == "Image") images.push_back(f);
    }
    for (const auto& f : images) prepare_image(f);
}

void service::prepare_image(const std::shared_ptr<function>& fn) {
    std::string uri;
    {
        const std::lock_guard lock(mutex_);
        uri = fn->image_uri;
    }
    // Pulled on a thread of its own: the function is Pending meanwhile, as on AWS.
    std::thread([this, fn, uri] {
        auto ref = image::parse_reference(uri);
        // <account>.dkr.ecr.<region>.amazonaws.com of this emulator's account is its own ECR.
        const std::string own_ecr = settings_.account + ".dkr.ecr." + settings_.region + ".amazonaws.com";
        if (ref && ref->registry == own_ecr) ref->registry = registry_host_;
        image::pull_options po;
        po.registry.auth.ecr_registries = {registry_host_};
        po.registry.auth.ecr_token = [this](std::string_view) -> result<std::string> {
            return encoding::base64_encode(settings_.access_key + ":" + settings_.secret_key);
        };
        const image::store st(settings_.root / "images");
        result<image::pulled_image> pulled =
            ref ? image::pull(*ref, st, po) : result<image::pulled_image>(ref.error());
        const std::lock_guard lock(mutex_);
        if (fn->image_uri != uri) return;  // updated meanwhile; that update prepares its own
        if (!pulled && fn->last_update_status == "InProgress") {
            // A failed update: the function keeps running its previous image.
            fn->last_update_status = "Failed";
            fn->last_update_reason = "cannot pull " + uri + ": " + pulled.error().message;
            scar::log::warn("lambda: function ", fn->name, ": ", fn->last_update_reason);
            return;
        }
        if (!pulled) {
            fn->state = "Failed";
            fn->state_reason_code =
                pulled.error().code == "Unauthorized" ? "ImageAccessDenied" : "InvalidImage";
            fn->state_reason = "cannot pull " + uri + ": " + pulled.error().message;
            scar::log::warn("lambda: function ", fn->name, ": ", fn->state_reason);
            return;
        }
        const auto& cfg = pulled->image.config.config;
        fn->image_digest = pulled->image.manifest_digest;
        fn->image_rootfs = pulled->rootfs.string();
        fn->image_entrypoint = cfg.entrypoint;
        fn->image_cmd = cfg.cmd;
        fn->image_env = cfg.env;
        fn->image_workdir = cfg.working_dir;
        fn->code_sha256 = fn->image_digest.substr(fn->image_digest.find(':') + 1);
        fn->state = "Active";
        fn->last_update_status = "Successful";
        fn->last_update_reason.clear();
        fn->state_reason.clear();
        fn->state_reason_code.clear();
        // Environments of the previous image finish what they do and are not reused.
        for (const auto& e : fn->envs)
            if (!e->busy) e->dead = true;
    }).detach();
}

void service::write_error(exchange& ex, const error& e) const {
    ex.status = e.http_status != 0 ? e.http_status : 500;
    ex.set_header("Content-Type", "application/json");
    ex.set_header("x-amzn-ErrorType", e.code);
    ex.set_header("x-amzn-RequestId", ex.request_id);
    json::object body{{"Type", ex.status >= 500 ? "Service" : "User"}, {"message", e.message}};
    if (e.code == "TooManyRequestsException")
        body["Reason"] = "ReservedFunctionConcurrentInvocationLimitExceeded";
    ex.response_body = json::serialize(body);
}

net::awaitable<void> service::handle(exchange& ex, const sigv4::verified_request&) {
    ex.set_header("x-amzn-RequestId", ex.request_id);
    std::vector<std::string> parts;
    {
        std::string_view p = ex.path;
        while (!p.empty()) {
            if (p.front() == '/') p.remove_prefix(1);
            const auto slash = p.find('/');
            auto seg = p.substr(0, slash);
            auto decoded = encoding::uri_decode(seg);
            if (!seg.empty()) parts.push_back(decoded ? *decoded : std::string(seg));
            p = slash == std::string_view::npos ? std::string_view{} : p.substr(slash);
        }
    }
    const std::string& m = ex.method;
    const std::string body = ex.body.value_or("");
    const auto respond = [&ex, this](result<std::string> r, int status = 200) {
        if (!r) {
            write_error(ex, r.error());
            return;
        }
        ex.status = status;
        ex.set_header("Content-Type", "application/json");
        ex.response_body = std::move(*r);
    };
    const std::size_t n = parts.size();
    if (n >= 3 && parts[0] == "_scar" && parts[1] == "lambda" && parts[2] == "dead-letters") {
        int status = 200;
        auto r = dead_letter_request(ex, parts, status);
        if (r && status == 204) {
            ex.status = 204;
        } else {
            respond(std::move(r), status);
        }
        co_return;
    }
    const std::string version = n > 0 ? parts[0] : "";
    const bool functions = n >= 2 && parts[1] == "functions";
    if (version == "2015-03-31" && functions && n == 2) {
        if (m == "POST") {
            respond(create_function(body), 201);
            co_return;
        }
        if (m == "GET") {
            const auto* marker = ex.param("Marker");
            std::size_t max = 50;
            if (const auto* mi = ex.param("MaxItems")) max = std::clamp<std::size_t>(std::stoul(*mi), 1, 50);
            json::array out;
            std::string next;
            const std::lock_guard lock(mutex_);
            for (auto it = marker != nullptr ? functions_.upper_bound(*marker) : functions_.begin();
                 it != functions_.end();
                 ++it) {
                if (out.size() == max) {
                    next = std::prev(it)->first;
                    break;
                }
                out.push_back(configuration(*it->second, false));
            }
            json::object res{{"Functions", out}};
            if (!next.empty()) res["NextMarker"] = next;
            respond(json::serialize(res));
            co_return;
        }
    }
    if (version == "2016-08-19" && n == 2 && parts[1] == "account-settings" && m == "GET") {
        int reserved = 0;
        std::size_t count = 0;
        {
            const std::lock_guard lock(mutex_);
            for (const auto& [k, f] : functions_) reserved += f->reserved.value_or(0);
            count = functions_.size();
        }
        respond(json::serialize(json::object{
            {"AccountLimit",
             {{"TotalCodeSize", 80530636800LL},
              {"CodeSizeUnzipped", 262144000},
              {"CodeSizeZipped", 52428800},
              {"ConcurrentExecutions", settings_.account_concurrency},
              {"UnreservedConcurrentExecutions", settings_.account_concurrency - reserved}}},
            {"AccountUsage", {{"TotalCodeSize", 0}, {"FunctionCount", count}}}}));
        co_return;
    }
    if (version == "2018-10-31" && n >= 3 && parts[1] == "layers" && (n == 3 || parts[3] == "versions")) {
        respond(
            layer_request(m, parts[2], n >= 5 ? parts[4] : "", n == 3 ? "" : body),
            m == "POST" ? 201 : 200
        );
        if (m == "DELETE" && ex.status == 200) {
            ex.status = 204;
            ex.response_body.clear();
        }
        co_return;
    }
    if (!functions || n < 3) {
        write_error(
            ex,
            make_error(
                "UnknownOperationException",
                "the emulator's Lambda does not serve " + m + " " + ex.path,
                404
            )
        );
        co_return;
    }
    const std::string& name = parts[2];
    auto fn = find(name);
    if (!fn) {
        write_error(ex, fn.error());
        co_return;
    }
    const std::string sub = n >= 4 ? parts[3] : "";
    const auto* qualifier_param = ex.param("Qualifier");
    const std::string qualifier = qualifier_param != nullptr ? *qualifier_param : "";
    // GetFunction and GetFunctionConfiguration of a version or alias: that version's
    // configuration (an alias's ARN as the FunctionArn).
    const auto configuration_of = [&]() -> result<json::object> {
        auto r = resolve(name, qualifier);
        if (!r) return r.error();
        const std::lock_guard lock(mutex_);
        const auto& q = r->qualifier;
        std::shared_ptr<function> shown = r->run;
        if (!q.empty() && !is_version_number(q) && q != "$LATEST") {
            const auto& a = r->latest->aliases.at(q);
            shown = version_of(*r->latest, a.version);
            if (!shown) return not_found(function_arn(r->latest->name) + ":" + q);
        }
        auto c = configuration(*shown, true);
        if (!q.empty()) c["FunctionArn"] = function_arn(shown->name) + ":" + q;
        return c;
    };
    if (version == "2015-03-31" && sub.empty()) {
        if (m == "GET") {
            auto c = configuration_of();
            if (!c) {
                write_error(ex, c.error());
                co_return;
            }
            const std::lock_guard lock(mutex_);
            auto& f = **fn;
            json::object code{{"RepositoryType", "S3"}, {"Location", ""}};
            if (f.package_type == "Image") {
                code = {{"RepositoryType", "ECR"}, {"ImageUri", f.image_uri}};
                if (!f.image_digest.empty()) {
                    const auto ref = image::parse_reference(f.image_uri);
                    if (ref)
                        code["ResolvedImageUri"] =
                            ref->registry + "/" + ref->repository + "@" + f.image_digest;
                }
            }
            json::object res{{"Configuration", std::move(*c)}, {"Code", code}};
            if (f.reserved) res["Concurrency"] = {{"ReservedConcurrentExecutions", *f.reserved}};
            respond(json::serialize(res));
        } else if (m == "DELETE" && (!qualifier.empty() || !qualifier_of(name).empty())) {
            if (auto ok = delete_version(*fn, qualifier.empty() ? qualifier_of(name) : qualifier); !ok) {
                write_error(ex, ok.error());
            } else {
                ex.status = 204;
            }
        } else if (m == "DELETE") {
            std::vector<std::shared_ptr<environment>> envs;
            {
                const std::lock_guard lock(mutex_);
                envs = (*fn)->envs;
                for (const auto& [v, ver] : (*fn)->versions)
                    envs.insert(envs.end(), ver->envs.begin(), ver->envs.end());
                functions_.erase((*fn)->name);
            }
            for (auto& e : envs) retire(e, "function deleted");
            std::error_code ec;
            fs::remove_all(settings_.root / "functions" / (*fn)->name, ec);
            ex.status = 204;
        } else {
            write_error(ex, make_error("MethodNotAllowed", "use GET or DELETE on a function", 405));
        }
        co_return;
    }
    if (version == "2015-03-31" && sub == "configuration") {
        if (m == "GET") {
            auto c = configuration_of();
            respond(c ? result<std::string>(json::serialize(*c)) : result<std::string>(c.error()));
        } else {
            respond(update_function(name, body, false));
        }
        co_return;
    }
    if (version == "2015-03-31" && sub == "code" && m == "PUT") {
        respond(update_function(name, body, true));
        co_return;
    }
    if (version == "2015-03-31" && sub == "invocations" && m == "POST") {
        co_await invoke(ex, name);
        co_return;
    }
    if (version == "2015-03-31" && sub == "versions" && n == 4) {
        if (m == "POST") {
            respond(publish_version(*fn, body), 201);
        } else {
            respond(list_versions(**fn, ex));
        }
        co_return;
    }
    if (version == "2015-03-31" && sub == "aliases" && n <= 5) {
        int status = 200;
        auto r = alias_request(ex, *fn, n == 5 ? parts[4] : "", body, status);
        if (r && status == 204) {
            ex.status = 204;
        } else {
            respond(std::move(r), status);
        }
        co_return;
    }
    if (sub == "concurrency") {
        const std::lock_guard lock(mutex_);
        auto& f = **fn;
        if (m == "PUT") {
            boost::system::error_code jec;
            auto doc = json::parse(body, jec);
            const auto v = !jec && doc.is_object() ? json_int(doc.as_object(), "ReservedConcurrentExecutions")
                                                   : std::nullopt;
            if (!v || *v < 0 || *v > settings_.account_concurrency) {
                write_error(
                    ex,
                    invalid(
                        "ReservedConcurrentExecutions must be between 0 and the account limit of " +
                        std::to_string(settings_.account_concurrency)
                    )
                );
                co_return;
            }
            f.reserved = static_cast<int>(*v);
            (void)save(f);
            respond(json::serialize(json::object{{"ReservedConcurrentExecutions", *v}}));
        } else if (m == "DELETE") {
            f.reserved.reset();
            (void)save(f);
            ex.status = 204;
        } else {
            respond(
                f.reserved ? json::serialize(json::object{{"ReservedConcurrentExecutions", *f.reserved}})
                           : std::string("{}")
            );
        }
        co_return;
    }
    if (version == "2019-09-25" && sub == "event-invoke-config") {
        auto r = event_invoke_config(m, **fn, qualifier, body);
        if (r && r->empty()) {
            ex.status = 204;
        } else {
            respond(std::move(r));
        }
        co_return;
    }
    if (sub == "policy") {
        const std::lock_guard lock(mutex_);
        auto& f = **fn;
        if (m == "POST") {
            boost::system::error_code jec;
            auto doc = json::parse(body, jec);
            if (jec || !doc.is_object()) {
                write_error(
                    ex,
                    make_error("InvalidRequestContentException", "the request body is not a JSON object", 400)
                );
                co_return;
            }
            const auto& in = doc.as_object();
            const auto sid = json_string(in, "StatementId");
            for (const auto& s : f.statements) {
                if (s.is_object() && json_string(s.as_object(), "Sid") == sid) {
                    write_error(
                        ex,
                        make_error(
                            "ResourceConflictException",
                            "The statement id (" + sid +
                                ") provided already exists. Please provide a new statement id, or remove the "
                                "existing statement.",
                            409
                        )
                    );
                    co_return;
                }
            }
            const auto principal = json_string(in, "Principal");
            json::object st{
                {"Sid", sid},
                {"Effect", "Allow"},
                {"Principal",
                 principal.find('.') != std::string::npos ? json::object{{"Service", principal}}
                                                          : json::object{{"AWS", principal}}},
                {"Action", json_string(in, "Action")},
                {"Resource", f.arn}};
            if (const auto src = json_string(in, "SourceArn"); !src.empty())
                st["Condition"] = {{"ArnLike", {{"AWS:SourceArn", src}}}};
            f.statements.push_back(st);
            f.revision = uuid();
            (void)save(f);
            respond(json::serialize(json::object{{"Statement", json::serialize(st)}}), 201);
        } else if (m == "GET") {
            if (f.statements.empty()) {
                write_error(
                    ex,
                    make_error(
                        "ResourceNotFoundException",
                        "No policy is associated with the given resource.",
                        404
                    )
                );
                co_return;
            }
            const json::object policy{
                {"Version", "2012-10-17"},
                {"Id", "default"},
                {"Statement", f.statements}};
            respond(
                json::serialize(json::object{{"Policy", json::serialize(policy)}, {"RevisionId", f.revision}})
            );
        } else if (m == "DELETE" && n >= 5) {
            const auto before = f.statements.size();
            json::array kept;
            for (const auto& s : f.statements)
                if (!(s.is_object() && json_string(s.as_object(), "Sid") == parts[4])) kept.push_back(s);
            if (kept.size() == before) {
                write_error(
                    ex,
                    make_error(
                        "ResourceNotFoundException",
                        "Statement " + parts[4] + " is not found in resource policy.",
                        404
                    )
                );
                co_return;
            }
            f.statements = std::move(kept);
            f.revision = uuid();
            (void)save(f);
            ex.status = 204;
        }
        co_return;
    }
    write_error(
        ex,
        make_error(
            "UnknownOperationException",
            "the emulator's Lambda does not implement " + m + " " + ex.path +
                " (tags, function URLs and provisioned concurrency are not served)",
            404
        )
    );
}

namespace {

/// A model constraint failure, worded as AWS words them.
error validation(const std::string& field, const std::string& value, const std::string& constraint) {
    return make_error(
        "ValidationException",
        "1 validation error detected: Value '" + value + "' at '" + field +
            "' failed to satisfy constraint: Member must " + constraint,
        400
    );
}

/// The destination ARN pattern of Lambda's API model (OnSuccess and OnFailure).
constexpr std::string_view destination_pattern =
    R"(^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*))";

/// "arn:aws:sqs:…" → "sqs".
std::string arn_service(const std::string& arn) {
    const auto a = arn.find(':', arn.find(':') + 1);
    if (a == std::string::npos) return {};
    const auto b = arn.find(':', a + 1);
    return arn.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
}

/// GetFunctionEventInvokeConfig's answer.
std::string event_invoke_config_json(
    const function& f,
    const std::string& qualifier,
    const invoke_config& c
) {
    const auto destination = [](const std::string& arn) {
        return arn.empty() ? json::object{} : json::object{{"Destination", arn}};
    };
    return json::serialize(json::object{
        {"LastModified", c.modified},
        {"FunctionArn", f.arn + ":" + qualifier},
        {"MaximumRetryAttempts", c.max_retries},
        {"MaximumEventAgeInSeconds", c.max_event_age_s},
        {"DestinationConfig",
         {{"OnSuccess", destination(c.on_success)}, {"OnFailure", destination(c.on_failure)}}}});
}

}  // namespace

result<void> service::check_destinations(
    const function& f,
    const std::string& on_success,
    const std::string& on_failure
) const {
    static const std::regex pattern{std::string(destination_pattern)};
    const std::pair<std::string_view, const std::string*> both[] = {
        {"onSuccess", &on_success},
        {"onFailure", &on_failure}};
    for (const auto& [field, arn] : both) {
        const std::string path = "destinationConfig." + std::string(field) + ".destination";
        if (arn->size() > 350) return validation(path, *arn, "have length less than or equal to 350");
        if (!std::regex_match(*arn, pattern))
            return validation(
                path,
                *arn,
                "satisfy regular expression pattern: " + std::string(destination_pattern)
            );
    }
    bool supported = true;
    for (const auto& [field, arn] : both) {
        if (arn->empty()) continue;
        const auto kind = arn_service(*arn);
        if (kind == "lambda") {
            // Only this emulator's functions can be destinations here (AWS: any function the
            // role may invoke, in any account).
            const std::string own =
                "arn:aws:lambda:" + settings_.region + ":" + settings_.account + ":function:";
            const std::string name =
                arn->starts_with(own) ? arn->substr(own.size(), arn->find(':', own.size()) - own.size()) : "";
            if (name == f.name) return invalid("You can't specify the function as a destination for itself.");
            if (name.empty() || !resolve(*arn, ""))
                return invalid("The destination ARN " + *arn + " is invalid.");
        } else if (kind != "sqs" && kind != "sns" && kind != "events" && !(kind == "s3" && field == "onFailure")) {
            supported = false;  // S3 buckets take failure records only
        }
    }
    if (!supported) {
        const auto part = [](std::string_view type, const std::string& arn) {
            return arn.empty() ? std::string("null") : std::string(type) + "(destination=" + arn + ")";
        };
        return invalid(
            "The provided destination config DestinationConfig(onSuccess=" + part("OnSuccess", on_success) +
            ", onFailure=" + part("OnFailure", on_failure) + ") is invalid."
        );
    }
    return {};
}

result<std::string> service::event_invoke_config(
    const std::string& method,
    function& f,
    const std::string& qualifier_param,
    const std::string& body
) {
    // Each qualifier has its own configuration; none given means $LATEST.
    const std::string qualifier = qualifier_param.empty() ? "$LATEST" : qualifier_param;
    if (auto r = resolve(f.name, qualifier); !r) return r.error();
    const auto missing = [&f, &qualifier] {
        return make_error(
            "ResourceNotFoundException",
            "The function " + f.arn + ":" + qualifier + " doesn't have an EventInvokeConfig",
            404
        );
    };
    if (method == "GET" || method == "DELETE") {
        const std::lock_guard lock(mutex_);
        const auto it = f.invoke_configs.find(qualifier);
        if (it == f.invoke_configs.end()) return missing();
        if (method == "GET") return event_invoke_config_json(f, qualifier, it->second);
        f.invoke_configs.erase(it);
        if (auto ok = save(f); !ok) return ok.error();
        return std::string();
    }
    if (method != "PUT" && method != "POST")
        return make_error("MethodNotAllowed", "use PUT, POST, GET or DELETE on an event invoke config", 405);
    boost::system::error_code jec;
    auto doc = json::parse(body.empty() ? "{}" : body, jec);
    if (jec || !doc.is_object())
        return make_error("InvalidRequestContentException", "the request body is not a JSON object", 400);
    const auto& in = doc.as_object();
    const auto retries = json_int(in, "MaximumRetryAttempts");
    const auto age = json_int(in, "MaximumEventAgeInSeconds");
    const auto* dc = in.if_contains("DestinationConfig");
    if (!retries && !age && dc == nullptr)
        return invalid("You must specify at least one of error handling or destination setting.");
    if (retries && (*retries < 0 || *retries > 2)) {
        return validation(
            "maximumRetryAttempts",
            std::to_string(*retries),
            *retries < 0 ? "have value greater than or equal to 0" : "have value less than or equal to 2"
        );
    }
    if (age && (*age < 60 || *age > 21600)) {
        return validation(
            "maximumEventAgeInSeconds",
            std::to_string(*age),
            *age < 60 ? "have value greater than or equal to 60" : "have value less than or equal to 21600"
        );
    }
    // A destination given replaces that one; one left out is kept by Update, cleared by Put.
    std::optional<std::string> on_success;
    std::optional<std::string> on_failure;
    if (dc != nullptr && dc->is_object()) {
        for (auto [key, target] :
             {std::pair{"OnSuccess", &on_success}, std::pair{"OnFailure", &on_failure}}) {
            if (const auto* d = dc->as_object().if_contains(key); d != nullptr && d->is_object())
                *target = json_string(d->as_object(), "Destination");
        }
    }
    if (auto ok = check_destinations(f, on_success.value_or(""), on_failure.value_or("")); !ok)
        return ok.error();
    const std::lock_guard lock(mutex_);
    const bool exists = f.invoke_configs.contains(qualifier);
    if (method == "POST" && !exists) return missing();
    auto& c = f.invoke_configs[qualifier];
    if (method == "PUT") c = invoke_config{};
    if (retries) c.max_retries = static_cast<int>(*retries);
    if (age) c.max_event_age_s = static_cast<int>(*age);
    if (on_success) c.on_success = *on_success;
    if (on_failure) c.on_failure = *on_failure;
    c.modified = iso8601_ms(now_ms());
    if (auto ok = save(f); !ok) return ok.error();
    return event_invoke_config_json(f, qualifier, c);
}

result<std::string> service::publish_version(const std::shared_ptr<function>& fn, const std::string& body) {
    boost::system::error_code jec;
    auto doc = json::parse(body.empty() ? "{}" : body, jec);
    if (jec || !doc.is_object())
        return make_error("InvalidRequestContentException", "the request body is not a JSON object", 400);
    const auto& in = doc.as_object();
    const std::lock_guard lock(mutex_);
    auto& f = *fn;
    if (f.state != "Active" || f.last_update_status == "InProgress") {
        return make_error(
            "ResourceConflictException",
            "The operation cannot be performed at this time. An update is in progress for resource: " + f.arn,
            409
        );
    }
    if (const auto sha = json_string(in, "CodeSha256"); !sha.empty() && sha != f.code_sha256) {
        return invalid(
            "CodeSHA256 (" + sha + ") is different from current CodeSHA256 in $LATEST (" + f.code_sha256 +
            "). Please try again."
        );
    }
    if (const auto rev = json_string(in, "RevisionId"); !rev.empty() && rev != f.revision) {
        return make_error(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
            "API to retrieve the latest Revision Id",
            412
        );
    }
    // Nothing changed since the last version: that version, as AWS answers.
    if (!f.versions.empty() && snapshot_of(*f.versions.rbegin()->second) == snapshot_of(f))
        return json::serialize(configuration(*f.versions.rbegin()->second, true));
    auto v = std::make_shared<function>();
    *v = f;
    v->envs.clear();
    v->waiters.clear();
    v->versions.clear();
    v->aliases.clear();
    v->invoke_configs.clear();
    v->statements.clear();
    v->latest = fn;
    v->version = std::to_string(f.last_version + 1);
    if (in.contains("Description")) v->description = json_string(in, "Description");
    v->last_modified = last_modified_now();
    v->revision = uuid();
    if (auto ok = save(*v); !ok) return ok.error();
    f.last_version += 1;
    f.versions.emplace(f.last_version, v);
    if (auto ok = save(f); !ok) return ok.error();
    return json::serialize(configuration(*v, true));
}

result<std::string> service::list_versions(const function& fn, const exchange& ex) const {
    std::size_t max = 50;
    if (const auto* text = ex.param("MaxItems")) {
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), max);
        if (ec != std::errc{} || end != text->data() + text->size() || max < 1 || max > 10000)
            return validation("maxItems", *text, "have value between 1 and 10000");
        max = std::min<std::size_t>(max, 50);
    }
    const auto* marker_param = ex.param("Marker");
    const std::string marker = marker_param != nullptr ? *marker_param : "";
    const std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<function>> all;
    if (const auto it = functions_.find(fn.name); it != functions_.end()) all.push_back(it->second);
    for (const auto& [n, v] : fn.versions) all.push_back(v);
    auto it = all.begin();
    if (!marker.empty()) {
        it = std::find_if(all.begin(), all.end(), [&marker](const auto& v) { return v->version == marker; });
        if (it == all.end()) return invalid("Marker '" + marker + "' is not a version of " + fn.arn);
        ++it;
    }
    json::array out;
    std::string next;
    for (; it != all.end(); ++it) {
        if (out.size() == max) {
            next = (*std::prev(it))->version;
            break;
        }
        out.push_back(configuration(**it, false));
    }
    json::object res{{"Versions", std::move(out)}};
    if (!next.empty()) res["NextMarker"] = next;
    return json::serialize(res);
}

result<void> service::delete_version(const std::shared_ptr<function>& fn, const std::string& qualifier) {
    if (qualifier == "$LATEST")
        return invalid("$LATEST version cannot be deleted without deleting the function.");
    if (!is_version_number(qualifier)) {
        return invalid(
            "DeleteFunction deletes a function or one of its versions, not the alias '" + qualifier +
            "'; use DeleteAlias"
        );
    }
    std::shared_ptr<function> v;
    std::string unused_code;
    {
        const std::lock_guard lock(mutex_);
        const auto it = fn->versions.find(std::stoi(qualifier));
        if (it == fn->versions.end()) return not_found(fn->arn + ":" + qualifier);
        std::string using_it;
        for (const auto& [name, a] : fn->aliases) {
            if (a.version == qualifier || a.extra_version == qualifier)
                using_it += (using_it.empty() ? "" : ", ") + name;
        }
        if (!using_it.empty()) {
            return make_error(
                "ResourceConflictException",
                "Unable to delete version because the following aliases reference it: [" + using_it + "]",
                409
            );
        }
        v = it->second;
        fn->versions.erase(it);
        unused_code = v->code_dir;
        if (fn->code_dir == unused_code) unused_code.clear();
        for (const auto& [n, other] : fn->versions)
            if (other->code_dir == unused_code) unused_code.clear();
        if (auto ok = save(*fn); !ok) return ok.error();
    }
    std::vector<std::shared_ptr<environment>> envs;
    {
        const std::lock_guard lock(mutex_);
        envs = v->envs;
    }
    for (const auto& e : envs) retire(e, "version deleted");
    std::error_code ec;
    fs::remove(settings_.root / "functions" / fn->name / "versions" / (qualifier + ".json"), ec);
    if (!unused_code.empty()) fs::remove_all(settings_.root / unused_code, ec);
    return {};
}

namespace {

json::object alias_json(const function& f, const alias& a) {
    json::object o{
        {"AliasArn", f.arn + ":" + a.name},
        {"Name", a.name},
        {"FunctionVersion", a.version},
        {"Description", a.description},
        {"RevisionId", a.revision}};
    if (!a.extra_version.empty())
        o["RoutingConfig"] = {{"AdditionalVersionWeights", {{a.extra_version, a.extra_weight}}}};
    return o;
}

}  // namespace

result<std::string> service::alias_request(
    const exchange& ex,
    const std::shared_ptr<function>& fn,
    const std::string& alias_name,
    const std::string& body,
    int& status
) {
    const std::string& m = ex.method;
    auto& f = *fn;
    const auto no_alias = [&f](const std::string& name) {
        return make_error("ResourceNotFoundException", "Alias not found: " + f.arn + ":" + name, 404);
    };
    if (alias_name.empty() && m == "GET") {  // ListAliases
        const auto* only = ex.param("FunctionVersion");
        const auto* marker = ex.param("Marker");
        std::size_t max = 50;
        if (const auto* text = ex.param("MaxItems")) {
            const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), max);
            if (ec != std::errc{} || end != text->data() + text->size() || max < 1 || max > 10000)
                return validation("maxItems", *text, "have value between 1 and 10000");
            max = std::min<std::size_t>(max, 50);
        }
        const std::lock_guard lock(mutex_);
        json::array out;
        std::string next;
        for (auto it = marker != nullptr ? f.aliases.upper_bound(*marker) : f.aliases.begin();
             it != f.aliases.end();
             ++it) {
            if (only != nullptr && it->second.version != *only) continue;
            if (out.size() == max) {
                next = out.back().as_object().at("Name").as_string().c_str();
                break;
            }
            out.push_back(alias_json(f, it->second));
        }
        json::object res{{"Aliases", std::move(out)}};
        if (!next.empty()) res["NextMarker"] = next;
        return json::serialize(res);
    }
    if (!alias_name.empty() && m == "GET") {
        const std::lock_guard lock(mutex_);
        const auto it = f.aliases.find(alias_name);
        if (it == f.aliases.end()) return no_alias(alias_name);
        return json::serialize(alias_json(f, it->second));
    }
    if (!alias_name.empty() && m == "DELETE") {
        const std::lock_guard lock(mutex_);
        f.aliases.erase(alias_name);  // idempotent, as AWS
        f.invoke_configs.erase(alias_name);
        if (auto ok = save(f); !ok) return ok.error();
        status = 204;
        return std::string();
    }
    const bool create = alias_name.empty() && m == "POST";
    if (!create && !(m == "PUT" && !alias_name.empty())) {
        return make_error(
            "UnknownOperationException",
            "aliases serve POST and GET on /aliases, GET, PUT and DELETE on /aliases/{Name}, not " + m,
            404
        );
    }
    boost::system::error_code jec;
    auto doc = json::parse(body.empty() ? "{}" : body, jec);
    if (jec || !doc.is_object())
        return make_error("InvalidRequestContentException", "the request body is not a JSON object", 400);
    const auto& in = doc.as_object();
    const std::string name = create ? json_string(in, "Name") : alias_name;
    static const std::regex name_re("^[a-zA-Z0-9-_]{1,128}$");
    if (!std::regex_match(name, name_re) || is_version_number(name))
        return validation("name", name, "satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
    const std::lock_guard lock(mutex_);
    const auto existing = f.aliases.find(name);
    if (create && existing != f.aliases.end())
        return make_error("ResourceConflictException", "Alias already exists: " + f.arn + ":" + name, 409);
    if (!create && existing == f.aliases.end()) return no_alias(name);
    alias a = create ? alias{name, "", "", "", "", 0} : existing->second;
    if (!create) {
        if (const auto rev = json_string(in, "RevisionId"); !rev.empty() && rev != a.revision) {
            return make_error(
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias "
                "API to retrieve the latest Revision Id",
                412
            );
        }
    }
    if (in.contains("FunctionVersion") || create) {
        a.version = json_string(in, "FunctionVersion");
        if (a.version.empty()) return validation("functionVersion", "null", "not be null");
        if (!version_of(f, a.version)) return not_found(f.arn + ":" + a.version);
    }
    if (in.contains("Description")) a.description = json_string(in, "Description");
    if (const auto* rc = in.if_contains("RoutingConfig"); rc != nullptr && rc->is_object()) {
        a.extra_version.clear();
        a.extra_weight = 0;
        if (const auto* w = rc->as_object().if_contains("AdditionalVersionWeights");
            w != nullptr && w->is_object()) {
            const auto& weights = w->as_object();
            if (weights.size() > 1) {
                return invalid(
                    "RoutingConfig.AdditionalVersionWeights names " + std::to_string(weights.size()) +
                    " versions; an alias routes to at most one version besides FunctionVersion"
                );
            }
            for (const auto& [v, weight] : weights) {
                const std::string extra(v);
                const double share = weight.is_number() ? weight.to_number<double>() : -1;
                if (share < 0 || share > 1)
                    return validation(
                        "routingConfig.additionalVersionWeights",
                        json::serialize(weight),
                        "have value between 0.0 and 1.0"
                    );
                if (!is_version_number(extra) || !version_of(f, extra)) return not_found(f.arn + ":" + extra);
                a.extra_version = extra;
                a.extra_weight = share;
            }
        }
    }
    if (!a.extra_version.empty()) {
        if (a.version == "$LATEST")
            return invalid("$LATEST is not supported for an alias pointing to more than 1 version");
        if (a.extra_version == a.version) {
            return invalid(
                "Invalid function version " + a.extra_version +
                ". Function version in AdditionalVersionWeights cannot be the same as the alias's "
                "FunctionVersion."
            );
        }
    }
    a.revision = uuid();
    f.aliases[name] = a;
    if (auto ok = save(f); !ok) return ok.error();
    if (create) status = 201;
    return json::serialize(alias_json(f, a));
}

result<std::shared_ptr<environment>> service::launch(
    const std::shared_ptr<function>& fn,
    const net::any_io_executor& exec
) {
    auto env = std::make_shared<environment>(exec, random_hex(16, false));
    env->fn = fn;
    env->started_ms = now_ms();
    const auto date = iso8601_ms(env->started_ms);
    // Not the environment's id: that is its Runtime API address, and anyone may read
    // stream names.
    env->log_stream = date.substr(0, 4) + "/" + date.substr(5, 2) + "/" + date.substr(8, 2) + "/[" +
                      fn->version + "]" + random_hex(16, false);
    const bool image_fn = fn->package_type == "Image";
    // Zip functions run in a container too where the host allows it; otherwise as plain
    // host processes.
    const bool sandboxed = image_fn || static_cast<bool>(sandbox_available());
    const fs::path code = settings_.root / fn->code_dir;
    const std::string task_root = sandboxed ? "/var/task" : code.string();
    // Later entries win: defaults, then the image's ENV, the function's variables, and
    // Lambda's reserved variables last.
    std::vector<std::pair<std::string, std::string>> vars = {
        {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        {"LANG", "en_US.UTF-8"},
        {"TZ", ":UTC"}};
    if (image_fn) {
        for (const auto& e : fn->image_env) {
            const auto eq = e.find('=');
            if (eq != std::string::npos) vars.emplace_back(e.substr(0, eq), e.substr(eq + 1));
        }
    }
    for (const auto& [k, v] : fn->env) vars.emplace_back(k, v);
    const std::vector<std::pair<std::string, std::string>> reserved = {
        {"AWS_LAMBDA_RUNTIME_API", runtime_address_ + "/_runtime/" + env->id},
        {"_HANDLER", fn->handler},
        {"LAMBDA_TASK_ROOT", task_root},
        {"LAMBDA_RUNTIME_DIR", sandboxed ? "/var/runtime" : task_root},
        {"AWS_LAMBDA_FUNCTION_NAME", fn->name},
        {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(fn->memory)},
        {"AWS_LAMBDA_FUNCTION_VERSION", fn->version},
        {"AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"},
        {"AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + fn->name},
        {"AWS_LAMBDA_LOG_STREAM_NAME", env->log_stream},
        {"AWS_REGION", settings_.region},
        {"AWS_DEFAULT_REGION", settings_.region},
        {"AWS_ACCESS_KEY_ID", settings_.access_key},
        {"AWS_SECRET_ACCESS_KEY", settings_.secret_key},
        {"AWS_ENDPOINT_URL", "http://" + runtime_address_}};
    vars.insert(vars.end(), reserved.begin(), reserved.end());
    std::vector<std::string> env_list;
    {
        std::map<std::string, std::string> merged;
        for (const auto& [k, v] : vars) merged[k] = v;
        for (const auto& [k, v] : merged) env_list.push_back(k + "=" + v);
    }
    std::weak_ptr<environment> weak = env;
    auto on_line = [this, weak](std::string_view line) {
        if (auto e = weak.lock()) log(e, std::string(line));
    };
    result<std::unique_ptr<environment_process>> proc = make_error("ServiceException", "not started", 500);
    if (sandboxed && !image_fn) {
        // The host's system directories stand in for the provided.al2023 base: read-only,
        // with only the /etc files programs need (not the host's secrets), the code at
        // /var/task.
        sandbox::spec spec;
        spec.rootfs = settings_.root / "zip-root";
        std::error_code ec;
        fs::create_directories(spec.rootfs, ec);
        for (const char* dir : {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
            if (fs::exists(dir)) spec.mounts.push_back({dir, dir, true});
        }
        for (const char* file :
             {"/etc/resolv.conf",
              "/etc/hosts",
              "/etc/passwd",
              "/etc/group",
              "/etc/nsswitch.conf",
              "/etc/ld.so.cache",
              "/etc/localtime",
              "/etc/ssl",
              "/etc/ca-certificates",
              "/etc/alternatives"}) {
            if (fs::exists(file)) spec.mounts.push_back({file, file, true});
        }
        spec.mounts.push_back({code, "/var/task", true});
        auto opt = merged_layers(*fn);
        if (!opt) return opt.error();
        if (!opt->empty()) spec.mounts.push_back({*opt, "/opt", true});
        spec.argv = {"/var/task/bootstrap"};
        spec.env = std::move(env_list);
        spec.cwd = "/var/task";
        spec.memory_bytes = static_cast<std::uint64_t>(fn->memory) << 20;
        spec.tmp_bytes = static_cast<std::uint64_t>(fn->ephemeral) << 20;
        spec.hostname = "lambda";
        auto started =
            container_process::start(std::move(spec), on_line, [this, weak](const std::string& reason) {
                if (auto e = weak.lock()) retire(e, reason);
            });
        if (started) {
            proc = std::unique_ptr<environment_process>(std::move(*started));
        } else {
            proc = started.error();
        }
    } else if (image_fn) {
        sandbox::spec spec;
        spec.rootfs = fn->image_rootfs;
        // ImageConfig overrides the image's ENTRYPOINT and CMD; a new entrypoint drops the
        // image's CMD, as `docker run --entrypoint` does.
        const auto& entry = fn->entry_point.empty() ? fn->image_entrypoint : fn->entry_point;
        const auto& cmd = !fn->command.empty()
                              ? fn->command
                              : (fn->entry_point.empty() ? fn->image_cmd : std::vector<std::string>{});
        spec.argv = entry;
        spec.argv.insert(spec.argv.end(), cmd.begin(), cmd.end());
        if (spec.argv.empty()) {
            return make_error(
                "InvalidParameterValueException",
                "the image " + fn->image_uri +
                    " has no ENTRYPOINT or CMD, and the function's ImageConfig sets none",
                400
            );
        }
        spec.env = std::move(env_list);
        spec.cwd = !fn->working_dir.empty() ? fn->working_dir
                                            : (!fn->image_workdir.empty() ? fn->image_workdir : "/");
        spec.memory_bytes = static_cast<std::uint64_t>(fn->memory) << 20;
        spec.tmp_bytes = static_cast<std::uint64_t>(fn->ephemeral) << 20;
        spec.hostname = "lambda";
        auto started =
            container_process::start(std::move(spec), on_line, [this, weak](const std::string& reason) {
                if (auto e = weak.lock()) retire(e, reason);
            });
        if (started) {
            proc = std::unique_ptr<environment_process>(std::move(*started));
        } else {
            proc = started.error();
        }
    } else {
        launch_spec spec;
        spec.argv = {(code / "bootstrap").string()};
        spec.cwd = code;
        spec.env = std::move(env_list);
        auto started = host_process::start(spec, on_line, [this, weak](int status) {
            auto e = weak.lock();
            if (!e) return;
            std::string reason =
                WIFEXITED(status)
                    ? "Runtime exited with error: exit status " + std::to_string(WEXITSTATUS(status))
                    : "Runtime exited with error: signal: " + std::string(strsignal(WTERMSIG(status)));
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                reason = "Runtime exited without providing a reason";
            retire(e, reason);
        });
        if (started) {
            proc = std::unique_ptr<environment_process>(std::move(*started));
        } else {
            proc = started.error();
        }
    }
    if (!proc) return proc.error();
    env->proc = std::move(*proc);
    fn->envs.push_back(env);
    environments_[env->id] = env;
    ++running_;
    return env;
}

void service::log(
    const std::shared_ptr<environment>& env,
    std::string line,
    const std::shared_ptr<invocation>& inv
) {
    const auto fn = env->fn.lock();
    if (!fn) return;
    {
        const std::lock_guard lock(mutex_);
        if (const auto& target = inv ? inv : env->current) target->log.append(line).push_back('\n');
    }
    (void)logs_->append("/aws/lambda/" + fn->name, env->log_stream, {{now_ms(), 0, std::move(line)}});
}

void service::wake_waiter(function* fn) {
    const auto wake_one = [](std::deque<std::shared_ptr<capacity_waiter>>& waiters) {
        while (!waiters.empty()) {
            const auto w = std::move(waiters.front());
            waiters.pop_front();
            if (w->gone) continue;
            w->gone = true;
            w->freed.try_send(boost::system::error_code{});
            return true;
        }
        return false;
    };
    // Its own events first; then any function's (the account's capacity is shared).
    if (fn != nullptr && wake_one(fn->waiters)) return;
    for (auto& [name, f] : functions_)
        if (wake_one(f->waiters)) return;
}

void service::retire(const std::shared_ptr<environment>& env, const std::string& reason) {
    std::shared_ptr<invocation> orphan;
    {
        const std::lock_guard lock(mutex_);
        if (environments_.erase(env->id) == 0) return;  // already retired
        env->dead = true;
        --running_;
        if (auto fn = env->fn.lock()) std::erase(fn->envs, env);
        wake_waiter(env->fn.lock().get());
        orphan = env->current ? env->current : env->pending;
        env->current.reset();
        env->pending.reset();
    }
    if (env->proc) env->proc->kill();
    env->work.close();
    if (orphan && !orphan->finished.exchange(true)) {
        orphan->done.try_send(
            boost::system::error_code{},
            outcome{true, error_json("Runtime.ExitError", "RequestId: " + orphan->id + " Error: " + reason)}
        );
        orphan->taken.try_send(boost::system::error_code{});  // if it ended before taking it
    }
}

net::awaitable<outcome> service::run(
    std::shared_ptr<function> fn,
    std::shared_ptr<invocation> inv,
    std::string* log_tail
) {
    using namespace net::experimental::awaitable_operators;
    const auto exec = co_await net::this_coro::executor;
    std::shared_ptr<environment> env;
    std::shared_ptr<environment> idle;  ///< ended to make room under the account limit
    bool cold = false;
    {
        const std::lock_guard lock(mutex_);
        const auto now = now_ms();
        // Reserved concurrency is the function's, shared by all its versions; 0 throttles
        // every invocation at once, warm environments or not.
        const auto latest = fn->latest.lock();
        const function& base = latest ? *latest : *fn;
        if (base.reserved == 0)
            throw aws_exception(make_error("TooManyRequestsException", "Rate Exceeded.", 429));
        for (const auto& e : fn->envs) {
            if (!e->busy && !e->dead) {
                env = e;
                break;
            }
        }
        if (!env) {
            auto mine = base.envs.size();
            for (const auto& [n, v] : base.versions) mine += v->envs.size();
            if (base.reserved && static_cast<int>(mine) >= *base.reserved)
                throw aws_exception(make_error("TooManyRequestsException", "Rate Exceeded.", 429));
            if (running_ >= settings_.account_concurrency) {
                // Concurrency counts invocations in flight, not idle environments: the one idle
                // longest (of another function: this one has none idle) ends to make room.
                for (const auto& [id, e] : environments_)
                    if (!e->busy && !e->dead && (!idle || e->idle_since < idle->idle_since)) idle = e;
                if (!idle) throw aws_exception(make_error("TooManyRequestsException", "Rate Exceeded.", 429));
                environments_.erase(idle->id);
                idle->dead = true;
                --running_;
                if (auto owner = idle->fn.lock()) std::erase(owner->envs, idle);
            }
            if (fn->package_type == "Zip" && !fs::exists(settings_.root / fn->code_dir / "bootstrap")) {
                co_return outcome{
                    true,
                    error_json(
                        "Runtime.InvalidEntrypoint",
                        "RequestId: " + inv->id +
                            " Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
                    )};
            }
            auto launched = launch(fn, exec);
            if (!launched) throw aws_exception(launched.error());
            env = *launched;
            env->report_init = true;
            cold = true;
        }
        env->busy = true;
        env->pending = inv;
        inv->start_ms = now;
        inv->deadline_ms = now + fn->timeout * 1000LL;
    }
    if (idle) {
        if (idle->proc) idle->proc->kill();
        idle->work.close();
    }
    env->work.try_send(boost::system::error_code{}, inv);
    net::steady_timer timer(exec);
    // The timeout counts from when the runtime takes the event (as on AWS); before that, a
    // cold environment has up to init_limit to finish its init. The answer is not awaited
    // alongside `taken`: a fast runtime answers right after taking the event, and the answer
    // received by the wait that lost the race would be dropped (the invocation then hung).
    // An environment that ends before taking the event signals `taken` too (retire).
    timer.expires_after(cold ? init_limit : std::chrono::seconds(fn->timeout));
    auto first = co_await (
        inv->taken.async_receive(net::as_tuple(net::use_awaitable)) ||
        timer.async_wait(net::as_tuple(net::use_awaitable))
    );
    std::optional<std::tuple<boost::system::error_code, outcome>> answered;
    if (first.index() == 0) {
        std::int64_t left = 0;
        {
            const std::lock_guard lock(mutex_);
            left = inv->deadline_ms - now_ms();
        }
        timer.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(left, 0)));
        auto winner = co_await (
            inv->done.async_receive(net::as_tuple(net::use_awaitable)) ||
            timer.async_wait(net::as_tuple(net::use_awaitable))
        );
        if (winner.index() == 0) answered = std::get<0>(winner);
    }
    if (answered) {
        auto [ec, out] = std::move(*answered);
        if (log_tail != nullptr) {
            const std::lock_guard lock(mutex_);
            *log_tail = inv->log;
        }
        if (!ec) co_return out;
    }
    if (inv->finished.exchange(true)) {
        // answered just as the deadline passed
        auto [ec, out] = co_await inv->done.async_receive(net::as_tuple(net::use_awaitable));
        if (!ec) co_return out;
    }
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f", static_cast<double>(fn->timeout));
    const std::string message = "RequestId: " + inv->id + " Error: Task timed out after " + secs + " seconds";
    log(env,
        std::string(iso8601_ms(now_ms())) + " " + inv->id + " Task timed out after " + secs + " seconds",
        inv);
    retire(env, "timeout");
    if (log_tail != nullptr) {
        const std::lock_guard lock(mutex_);
        *log_tail = inv->log;
    }
    co_return outcome{true, error_json("Sandbox.Timedout", message)};
}

net::awaitable<void> service::invoke(exchange& ex, const std::string& name) {
    const auto* qualifier = ex.param("Qualifier");
    auto target = resolve(name, qualifier != nullptr ? *qualifier : "");
    if (!target) {
        const bool qualified = qualifier != nullptr || !qualifier_of(name).empty();
        write_error(
            ex,
            target.error().code == "ResourceNotFoundException" && !qualified
                ? not_found(function_arn(function_name_of(name)) + ":$LATEST")
                : target.error()
        );
        co_return;
    }
    const auto* fn = &target->run;
    const auto type = std::string(ex.header("x-amz-invocation-type").value_or("RequestResponse"));
    if (type != "RequestResponse" && type != "Event" && type != "DryRun") {
        write_error(
            ex,
            invalid("X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not '" + type + "'")
        );
        co_return;
    }
    std::string payload = ex.body.value_or("");
    if (payload.empty()) payload = "{}";
    const std::size_t limit = type == "Event" ? max_async_payload : max_sync_payload;
    if (payload.size() > limit) {
        write_error(
            ex,
            make_error(
                "RequestEntityTooLargeException",
                type == "Event"
                    ? std::to_string(payload.size()) +
                          " byte payload is too large for the Event invocation type (limit " +
                          std::to_string(limit) + " bytes)"
                    : "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
                413
            )
        );
        co_return;
    }
    boost::system::error_code jec;
    (void)json::parse(payload, jec);
    if (jec) {
        write_error(
            ex,
            make_error(
                "InvalidRequestContentException",
                "Could not parse request body into json: Could not parse payload into json: " + jec.message(),
                400
            )
        );
        co_return;
    }
    {
        const std::lock_guard lock(mutex_);
        if ((*fn)->state != "Active") {
            write_error(
                ex,
                make_error(
                    "ResourceConflictException",
                    "The operation cannot be performed at this time. The function is currently in the "
                    "following state: " +
                        (*fn)->state + ((*fn)->state_reason.empty() ? "" : " (" + (*fn)->state_reason + ")"),
                    409
                )
            );
            co_return;
        }
    }
    if (type == "DryRun") {
        ex.status = 204;
        co_return;
    }
    if (type == "Event") {
        auto id = queue_event((*fn)->name, target->qualifier, std::move(payload));
        if (!id) {
            write_error(ex, id.error());
            co_return;
        }
        ex.set_header("x-amzn-RequestId", *id);  // the id every attempt runs with, as on AWS
        ex.status = 202;
        co_return;
    }
    const auto exec = co_await net::this_coro::executor;
    auto inv = std::make_shared<invocation>(exec, uuid(), std::move(payload));
    ex.set_header("x-amzn-RequestId", inv->id);
    // The ARN as invoked: qualified when the caller named a version or an alias.
    inv->arn = (*fn)->arn + (target->qualifier.empty() ? "" : ":" + target->qualifier);
    if (const auto cc = ex.header("x-amz-client-context")) {
        if (auto decoded = encoding::base64_decode(*cc)) inv->client_context = *decoded;
    }
    std::string tail;
    outcome out;
    try {
        out = co_await run(*fn, inv, &tail);
    } catch (const aws_exception& e) {
        write_error(ex, e.err());
        co_return;
    }
    ex.status = 200;
    ex.set_header("X-Amz-Executed-Version", (*fn)->version);
    ex.set_header("Content-Type", "application/json");
    if (out.function_error) ex.set_header("X-Amz-Function-Error", "Unhandled");
    if (ex.header("x-amz-log-type").value_or("None") == "Tail") {
        if (tail.size() > 4096) tail.erase(0, tail.size() - 4096);
        ex.set_header("X-Amz-Log-Result", encoding::base64_encode(tail));
    }
    ex.response_body = std::move(out.body);
}

net::awaitable<result<outcome>> service::invoke_sync(
    const std::string& name_or_arn,
    std::string payload,
    std::string log_line
) {
    auto target = resolve(name_or_arn, "");
    if (!target) co_return target.error();
    const auto* fn = &target->run;
    if (payload.size() > max_sync_payload) {
        co_return make_error(
            "RequestEntityTooLargeException",
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
            413
        );
    }
    boost::system::error_code jec;
    (void)json::parse(payload, jec);
    if (jec) {
        co_return make_error(
            "InvalidRequestContentException",
            "Could not parse request body into json: " + jec.message(),
            400
        );
    }
    {
        const std::lock_guard lock(mutex_);
        if ((*fn)->state != "Active") {
            co_return make_error(
                "ResourceConflictException",
                "The operation cannot be performed at this time. The function is currently in the "
                "following state: " +
                    (*fn)->state,
                409
            );
        }
    }
    auto inv = std::make_shared<invocation>(co_await net::this_coro::executor, uuid(), std::move(payload));
    inv->arn = (*fn)->arn + (target->qualifier.empty() ? "" : ":" + target->qualifier);
    inv->note = std::move(log_line);
    try {
        co_return co_await run(*fn, inv, nullptr);
    } catch (const aws_exception& e) {
        co_return e.err();
    }
}

namespace {

/// The errorType and errorMessage of a Runtime API error body (or the body itself).
std::pair<std::string, std::string> error_of(const std::string& body) {
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return {"Unhandled", body};
    return {json_string(v.as_object(), "errorType"), json_string(v.as_object(), "errorMessage")};
}

/// Logs what escaped a spawned coroutine (a bug: errors are values here).
void log_escape(const std::string& what, const std::exception_ptr& e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        scar::log::error("lambda: ", what, ": ", x.what());
    }
}

}  // namespace

void service::keep_dead_letter(lambda::dead_letter d) {
    const std::string name = d.function;
    const std::string why = d.condition;
    if (auto kept = dead_letters_->add(std::move(d)); !kept) {
        scar::log::error(
            "lambda: an event for '",
            name,
            "' failed (",
            why,
            ") and is lost: ",
            kept.error().message
        );
        return;
    }
    scar::log::warn(
        "lambda: an event for '",
        name,
        "' failed (",
        why,
        "); kept in the dead-letter store (scar dlq)"
    );
}

result<std::string> service::queue_event(
    const std::string& function_arn_or_name,
    const std::string& qualifier,
    std::string payload
) {
    auto target = resolve(function_arn_or_name, qualifier);
    if (!target) return target.error();
    const auto& fn = target->latest;
    // Accepted means on disk: the event survives a crash and is delivered after a restart
    // (at least once, as AWS promises).
    queued_event ev{std::move(payload), target->qualifier, uuid(), now_ms(), {}};
    ev.file = settings_.root / "queue" / (std::to_string(ev.accepted_ms) + "-" + ev.request_id + ".json");
    std::error_code ec;
    fs::create_directories(ev.file.parent_path(), ec);
    const fs::path tmp = ev.file.string() + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    out << json::serialize(json::object{
        {"function", fn->name},
        {"qualifier", ev.qualifier},
        {"payload", ev.payload},
        {"id", ev.request_id},
        {"accepted_ms", ev.accepted_ms}});
    out.close();
    if (!out || (fs::rename(tmp, ev.file, ec), ec)) {
        return make_error(
            "ServiceException",
            "cannot queue an event for '" + fn->name + "' in " + ev.file.parent_path().string() +
                "; check the emulator's --data-dir",
            500
        );
    }
    std::string id = ev.request_id;
    dispatch_event(fn, std::move(ev));
    return id;
}

bool service::invoke_event(const std::string& function_arn_or_name, std::string payload) {
    auto id = queue_event(function_arn_or_name, "", std::move(payload));
    if (!id && id.error().code != "ResourceNotFoundException")
        scar::log::error("lambda: ", id.error().message);
    return static_cast<bool>(id);
}

void service::dispatch_event(std::shared_ptr<function> fn, queued_event ev) {
    if (!executor_) return;
    const std::string what = "delivering event " + ev.request_id;
    net::co_spawn(executor_, deliver(std::move(fn), std::move(ev)), [what](const std::exception_ptr& e) {
        log_escape(what, e);
    });
}

net::awaitable<void> service::deliver(std::shared_ptr<function> f, queued_event ev) {
    const auto ex = co_await net::this_coro::executor;
    // AWS: two retries after a function error, about 1 and 2 minutes apart; throttled
    // events wait and are retried up to the maximum event age (6 hours), counted from when
    // the event was accepted — both as PutFunctionEventInvokeConfig sets them, for the
    // qualifier invoked ($LATEST when none).
    const std::string config_key = ev.qualifier.empty() ? "$LATEST" : ev.qualifier;
    invoke_config config;
    std::string dlq;
    {
        const std::lock_guard lock(mutex_);
        if (const auto it = f->invoke_configs.find(config_key); it != f->invoke_configs.end())
            config = it->second;
        dlq = f->dead_letter_target;
    }
    const int attempts = config.max_retries + 1;
    const std::int64_t expires_ms =
        ev.accepted_ms + static_cast<std::int64_t>(
                             static_cast<double>(config.max_event_age_s) * 1000.0 * settings_.event_age_scale
                         );
    const auto delay_ms = static_cast<std::int64_t>(settings_.retry_delay.count());
    int runs = 0;  // attempts that ran (throttles do not count)
    int failures = 0;
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
    outcome last;
    std::string executed = "$LATEST";
    std::string condition;  // empty: delivered
    for (;;) {
        auto target = resolve(f->name, ev.qualifier);
        if (!target || target->latest != f) {
            condition = "FunctionNotFound";  // deleted (or replaced) while the event waited
            break;
        }
        {
            const std::lock_guard lock(mutex_);
            if (f->reserved == 0) {
                // As AWS: an event of a function whose reserved concurrency is 0 is not run; it
                // goes to the failure destination and dead-letter queue at once.
                condition = "ZeroReservedConcurrency";
            }
        }
        if (!condition.empty()) break;
        if (now_ms() >= expires_ms) {
            condition = "EventAgeExceeded";
            break;
        }
        auto inv = std::make_shared<invocation>(ex, ev.request_id, ev.payload);
        inv->arn = f->arn + (ev.qualifier.empty() ? "" : ":" + ev.qualifier);
        bool throttled = false;
        const auto started = now_ms();
        outcome out;
        try {
            out = co_await run(target->run, inv, nullptr);
        } catch (const aws_exception&) {
            throttled = true;
        }
        if (!throttled) {
            ++runs;
            if (first_ms == 0) first_ms = started;
            last_ms = started;
            last = std::move(out);
            executed = target->run->version;
            if (!last.function_error) break;
            if (++failures == attempts) {
                condition = "RetriesExhausted";
                break;
            }
        }
        const auto wait_ms = throttled ? delay_ms : delay_ms * failures;
        // AWS drops an event whose next attempt would come after its maximum age.
        if (now_ms() + wait_ms >= expires_ms) {
            condition = "EventAgeExceeded";
            break;
        }
        net::steady_timer t(ex);
        t.expires_after(std::chrono::milliseconds(wait_ms));
        if (!throttled) {
            co_await t.async_wait(net::use_awaitable);
            continue;
        }
        // Throttled: try again as soon as an environment frees up, as AWS's queue delivers at
        // the pace the function's concurrency allows, and after the retry delay at the latest.
        using namespace net::experimental::awaitable_operators;
        const auto waiter = std::make_shared<capacity_waiter>(ex);
        {
            const std::lock_guard lock(mutex_);
            target->run->waiters.push_back(waiter);
        }
        co_await (
            waiter->freed.async_receive(net::as_tuple(net::use_awaitable)) ||
            t.async_wait(net::as_tuple(net::use_awaitable))
        );
        const std::lock_guard lock(mutex_);
        waiter->gone = true;
    }
    const bool delivered = condition.empty();
    const std::string& destination = delivered ? config.on_success : config.on_failure;
    std::string undelivered;  // a destination the emulator cannot send to
    if (!destination.empty()) {
        // The destination gets AWS's invocation record.
        boost::system::error_code jec;
        json::object record{
            {"version", "1.0"},
            {"timestamp", iso8601_ms(now_ms())},
            {"requestContext",
             {{"requestId", ev.request_id},
              {"functionArn", f->arn + ":" + config_key},
              {"condition", delivered ? "Success" : condition},
              {"approximateInvokeCount", runs}}},
            {"requestPayload", json::parse(ev.payload, jec)}};
        if (runs > 0) {
            json::object response{{"statusCode", 200}, {"executedVersion", executed}};
            if (!delivered) response["functionError"] = "Unhandled";
            auto response_payload = json::parse(last.body, jec);
            record["responseContext"] = std::move(response);
            record["responsePayload"] = jec ? json::value(last.body) : std::move(response_payload);
        }
        if (arn_service(destination) != "lambda") {
            undelivered = destination;
        } else if (!invoke_event(destination, json::serialize(record))) {
            scar::log::warn("lambda: destination ", destination, " of ", f->name, " does not exist");
            undelivered = destination;
        }
    }
    if (delivered && !undelivered.empty()) {
        // Success records for SQS, SNS or EventBridge: nothing of the event is lost (it ran),
        // only the record; counted and logged.
        std::int64_t count = 0;
        {
            const std::lock_guard lock(mutex_);
            count = ++f->undelivered_successes;
        }
        scar::log::warn(
            "lambda: ",
            f->name,
            "'s OnSuccess destination ",
            undelivered,
            " is not served by the emulator; its success record was not delivered (",
            count,
            " so far)"
        );
    }
    if (!delivered) {
        // Every failed event is kept, with where AWS would have sent it.
        lambda::dead_letter d;
        d.function = f->name;
        d.function_arn = f->arn;
        d.qualifier = ev.qualifier;
        d.request_id = ev.request_id;
        d.payload = ev.payload;
        d.condition = condition;
        d.on_failure = undelivered;
        d.dead_letter_target = dlq;
        if (runs > 0) {
            std::tie(d.error_type, d.error_message) = error_of(last.body);
        } else if (condition == "EventAgeExceeded" || condition == "ZeroReservedConcurrency") {
            d.error_type = "TooManyRequestsException";
            d.error_message = "Rate Exceeded.";  // every try was throttled
        }
        d.attempts = runs;
        d.accepted_ms = ev.accepted_ms;
        d.first_attempt_ms = first_ms;
        d.last_attempt_ms = last_ms;
        keep_dead_letter(std::move(d));
    }
    std::error_code ec;
    fs::remove(ev.file, ec);
}

void service::resume_queue() {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(settings_.root / "queue", ec)) {
        if (e.path().extension() == ".tmp") {
            fs::remove(e.path(), ec);  // never acknowledged
        } else if (e.path().extension() == ".json") {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());  // names start with the time accepted
    std::size_t resumed = 0;
    for (const auto& file : files) {
        std::ifstream in(file);
        std::stringstream ss;
        ss << in.rdbuf();
        boost::system::error_code jec;
        auto v = json::parse(ss.str(), jec);
        if (jec || !v.is_object()) continue;
        const auto& o = v.as_object();
        queued_event ev{
            json_string(o, "payload"),
            json_string(o, "qualifier"),
            json_string(o, "id"),
            json_int(o, "accepted_ms").value_or(0),
            file};
        if (ev.accepted_ms == 0) ev.accepted_ms = std::atoll(file.filename().c_str());
        if (ev.request_id.empty()) ev.request_id = uuid();
        const auto name = json_string(o, "function");
        auto fn = find(name);
        if (!fn || !resolve(name, ev.qualifier)) {  // the function or its qualifier is gone
            lambda::dead_letter d;
            d.function = name;
            d.function_arn = function_arn(name);
            d.qualifier = ev.qualifier;
            d.request_id = ev.request_id;
            d.payload = ev.payload;
            d.condition = "FunctionNotFound";
            d.accepted_ms = ev.accepted_ms;
            keep_dead_letter(std::move(d));
            fs::remove(file, ec);
            continue;
        }
        dispatch_event(*fn, std::move(ev));
        ++resumed;
    }
    if (resumed != 0) scar::log::info("lambda: resumed ", resumed, " queued asynchronous invocations");
}

namespace {

json::object dead_letter_json(const lambda::dead_letter& d) {
    json::object o{
        {"Id", d.id},
        {"FunctionName", d.function},
        {"FunctionArn", d.function_arn},
        {"RequestId", d.request_id},
        {"Payload", d.payload},
        {"Condition", d.condition},
        {"ErrorType", d.error_type},
        {"ErrorMessage", d.error_message},
        {"Attempts", d.attempts},
        {"Accepted", iso8601_ms(d.accepted_ms)},
        {"DeadLettered", iso8601_ms(d.dropped_ms)}};
    if (!d.qualifier.empty()) o["Qualifier"] = d.qualifier;
    if (!d.on_failure.empty()) o["OnFailureDestination"] = d.on_failure;
    if (!d.dead_letter_target.empty()) o["DeadLetterTargetArn"] = d.dead_letter_target;
    if (d.first_attempt_ms != 0) {
        o["FirstAttempt"] = iso8601_ms(d.first_attempt_ms);
        o["LastAttempt"] = iso8601_ms(d.last_attempt_ms);
    }
    return o;
}

}  // namespace

result<std::string> service::dead_letter_request(
    const exchange& ex,
    const std::vector<std::string>& parts,
    int& status
) {
    const std::string& m = ex.method;
    const std::size_t n = parts.size();
    const auto* filter_param = ex.param("FunctionName");
    const std::string filter = filter_param != nullptr ? function_name_of(*filter_param) : "";
    const auto of_filter = [&filter](const lambda::dead_letter& d) {
        return filter.empty() || d.function == filter;
    };
    const auto requeue = [this](const lambda::dead_letter& d) {
        return queue_event(d.function, d.qualifier, d.payload);
    };
    const auto one = [&](const std::function<result<std::string>(const lambda::dead_letter&)>& take
                     ) -> result<dead_letter_store::taken> {
        const std::string& id = parts[3];
        auto taken = dead_letters_->take_if([&id](const lambda::dead_letter& d) { return d.id == id; }, take);
        if (!taken) return taken.error();
        if (taken->empty()) {
            return make_error(
                "ResourceNotFoundException",
                "The dead-letter store has no entry " + id + "; list the entries with scar dlq",
                404
            );
        }
        return std::move(taken->front());
    };
    if (n == 3 && m == "GET") {  // list
        std::size_t max = 50;
        if (const auto* text = ex.param("MaxItems")) {
            const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), max);
            if (ec != std::errc{} || end != text->data() + text->size() || max < 1 || max > 100)
                return invalid("MaxItems must be a number from 1 to 100, not '" + *text + "'");
        }
        const auto* marker = ex.param("Marker");
        auto page = dead_letters_->list(filter, marker != nullptr ? *marker : "", max);
        if (!page) return page.error();
        json::array items;
        for (const auto& d : page->items) items.push_back(dead_letter_json(d));
        json::object out{{"DeadLetters", std::move(items)}};
        if (!page->next_marker.empty()) out["NextMarker"] = page->next_marker;
        return json::serialize(out);
    }
    if (n == 3 && m == "DELETE") {  // purge: every entry, or a function's
        auto taken = dead_letters_->take_if(of_filter, [](const lambda::dead_letter&) -> result<std::string> {
            return std::string();
        });
        if (!taken) return taken.error();
        return json::serialize(json::object{{"Deleted", taken->size()}});
    }
    if (n == 4 && parts[3] == "redrive" && m == "POST") {  // every entry, or a function's
        auto taken = dead_letters_->take_if(of_filter, requeue);
        if (!taken) return taken.error();
        json::array redriven;
        json::array failed;
        for (const auto& t : *taken) {
            if (t.outcome) {
                redriven.push_back(json::object{
                    {"Id", t.entry.id},
                    {"FunctionName", t.entry.function},
                    {"RequestId", *t.outcome}});
            } else {
                failed.push_back(json::object{
                    {"Id", t.entry.id},
                    {"FunctionName", t.entry.function},
                    {"ErrorCode", t.outcome.error().code},
                    {"Message", t.outcome.error().message}});
            }
        }
        return json::serialize(json::object{{"Redriven", redriven}, {"Failed", failed}});
    }
    if (n == 4 && m == "DELETE") {
        auto gone = one([](const lambda::dead_letter&) -> result<std::string> { return std::string(); });
        if (!gone) return gone.error();
        status = 204;
        return std::string();
    }
    if (n == 5 && parts[4] == "redrive" && m == "POST") {
        auto t = one(requeue);
        if (!t) return t.error();
        if (!t->outcome) return t->outcome.error();  // kept: its function is gone
        status = 202;
        return json::serialize(
            json::object{{"Id", t->entry.id}, {"FunctionName", t->entry.function}, {"RequestId", *t->outcome}}
        );
    }
    return make_error(
        "UnknownOperationException",
        "the dead-letter store serves GET and DELETE /_scar/lambda/dead-letters, POST "
        "/_scar/lambda/dead-letters/redrive, DELETE /_scar/lambda/dead-letters/{Id} and POST "
        "/_scar/lambda/dead-letters/{Id}/redrive, not " +
            m + " " + ex.path,
        404
    );
}

void service::start_reclaiming() {
    net::co_spawn(executor_, reclaim_idle(), [](const std::exception_ptr& e) {
        log_escape("reclaiming idle environments", e);
    });
}

net::awaitable<void> service::reclaim_idle() {
    net::steady_timer timer(co_await net::this_coro::executor);
    const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.idle_timeout);
    for (;;) {
        // Sleeps until the next idle environment expires; one that becomes idle meanwhile
        // expires a whole timeout later, after this wakes.
        auto next = limit;
        std::vector<std::shared_ptr<environment>> stale;
        {
            const std::lock_guard lock(mutex_);
            const auto now = now_ms();
            for (const auto& [id, e] : environments_) {
                if (e->busy || e->dead || e->idle_since == 0) continue;
                const std::chrono::milliseconds idle(now - e->idle_since);
                if (idle >= limit) {
                    e->dead = true;  // taken by no invocation from now on
                    stale.push_back(e);
                } else {
                    next = std::min(next, limit - idle);
                }
            }
        }
        for (const auto& e : stale) {
            const auto fn = e->fn.lock();
            scar::log::info(
                "lambda: reclaimed the environment of '",
                fn ? fn->name : std::string("?"),
                "' (log stream ",
                e->log_stream,
                "), idle for ",
                static_cast<double>(limit.count()) / 1000.0,
                " s (--lambda-idle-timeout)"
            );
            retire(e, "reclaimed after being idle");
        }
        timer.expires_after(std::max(next, std::chrono::milliseconds(1)));
        auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        if (ec) co_return;
    }
}

net::awaitable<void> service::handle_runtime(exchange& ex) {
    // /_runtime/<env>/2018-06-01/runtime/...
    std::string_view p = ex.path;
    p.remove_prefix(std::string_view("/_runtime/").size());
    const auto slash = p.find('/');
    const std::string id(p.substr(0, slash));
    const std::string_view rest = slash == std::string_view::npos ? std::string_view{} : p.substr(slash);
    const auto fail = [&ex](int status, std::string_view type, std::string_view message) {
        ex.status = status;
        ex.set_header("Content-Type", "application/json");
        ex.response_body = error_json(type, message);
    };
    std::shared_ptr<environment> env;
    {
        const std::lock_guard lock(mutex_);
        if (const auto it = environments_.find(id); it != environments_.end()) env = it->second;
    }
    if (!env) {
        fail(403, "InvalidStateTransition", "this execution environment has ended");
        co_return;
    }
    const auto fn = env->fn.lock();
    if (!fn) {
        fail(500, "InternalServerError", "Internal Server Error");
        co_return;
    }
    if (ex.method == "GET" && rest == "/2018-06-01/runtime/invocation/next") {
        {
            const std::lock_guard lock(mutex_);
            if (env->current) {
                fail(
                    403,
                    "InvalidStateTransition",
                    "State transition from Running to Ready failed for runtime. Error: an invocation is "
                    "outstanding"
                );
                co_return;
            }
            if (!env->initialized) {
                env->initialized = true;
                env->init_ms = now_ms() - env->started_ms;
            }
        }
        auto [ec, inv] = co_await env->work.async_receive(net::as_tuple(net::use_awaitable));
        if (ec || !inv) {
            fail(500, "InternalServerError", "Internal Server Error");
            co_return;
        }
        bool cold = false;
        {
            const std::lock_guard lock(mutex_);
            env->pending.reset();
            env->current = inv;
            cold = env->report_init;
            inv->deadline_ms += now_ms() - inv->start_ms;  // the timeout counts from here
        }
        (void)cold;
        log(env, "START RequestId: " + inv->id + " Version: " + fn->version);
        if (!inv->note.empty()) log(env, inv->note);
        inv->taken.try_send(boost::system::error_code{});
        ex.set_header("Lambda-Runtime-Aws-Request-Id", inv->id);
        ex.set_header("Lambda-Runtime-Deadline-Ms", std::to_string(inv->deadline_ms));
        ex.set_header("Lambda-Runtime-Invoked-Function-Arn", inv->arn);
        ex.set_header(
            "Lambda-Runtime-Trace-Id",
            "Root=1-" + random_hex(4, false) + "-" + random_hex(12, false) +
                ";Parent=" + random_hex(8, false) + ";Sampled=0"
        );
        if (!inv->client_context.empty()) ex.set_header("Lambda-Runtime-Client-Context", inv->client_context);
        ex.set_header("Content-Type", "application/json");
        ex.response_body = inv->payload;
        co_return;
    }
    const bool is_init_error = ex.method == "POST" && rest == "/2018-06-01/runtime/init/error";
    constexpr std::string_view inv_prefix = "/2018-06-01/runtime/invocation/";
    const bool is_result = ex.method == "POST" && rest.starts_with(inv_prefix) &&
                           (rest.ends_with("/response") || rest.ends_with("/error"));
    if (!is_init_error && !is_result) {
        fail(
            404,
            "NotFound",
            "the Runtime API serves /2018-06-01/runtime/invocation/next, .../response, .../error and "
            "/runtime/init/error"
        );
        co_return;
    }
    auto body = co_await ex.read_body(max_response);
    const bool too_large = !body && body.error().code == "EntityTooLarge";
    if (!body && !too_large) {
        fail(400, "TruncatedHTTPRequest", body.error().message);
        co_return;
    }
    // What the runtime printed before it answered belongs before END and REPORT, and in the
    // log tail of this invocation: take it out of the pipes first.
    environment_process* proc = nullptr;
    {
        const std::lock_guard lock(mutex_);
        proc = env->proc.get();
    }
    if (proc != nullptr) proc->sync_output();
    std::shared_ptr<invocation> inv;
    bool report_init = false;
    std::int64_t init_ms = 0;
    {
        const std::lock_guard lock(mutex_);
        if (is_init_error) {
            if (env->initialized) {
                fail(
                    403,
                    "InvalidStateTransition",
                    "State transition from Ready to InitError failed for runtime: init already finished"
                );
                co_return;
            }
            inv = env->pending;
        } else {
            std::string_view req_id = rest.substr(inv_prefix.size());
            req_id = req_id.substr(0, req_id.find('/'));
            if (!env->current || env->current->id != req_id) {
                fail(400, "InvalidRequestID", "Invalid request ID");
                co_return;
            }
            inv = env->current;
            env->current.reset();
            env->busy = false;
            env->idle_since = now_ms();
            wake_waiter(env->fn.lock().get());
            report_init = std::exchange(env->report_init, false);
            init_ms = env->init_ms;
        }
    }
    outcome out;
    if (too_large) {
        out = {
            true,
            error_json(
                "Function.ResponseSizeTooLarge",
                "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
            )};
    } else {
        out = {!rest.ends_with("/response"), std::move(*body)};
    }
    if (inv && !inv->finished.exchange(true)) {
        const auto duration = now_ms() - inv->start_ms;
        log(env, "END RequestId: " + inv->id, inv);
        char report[256];
        std::snprintf(
            report,
            sizeof report,
            "REPORT RequestId: %s\tDuration: %lld.00 ms\tBilled Duration: %lld ms\tMemory Size: %d MB\tMax "
            "Memory Used: %ld MB\t",
            inv->id.c_str(),
            static_cast<long long>(duration),
            static_cast<long long>(std::max<std::int64_t>(duration, 1)),
            fn->memory,
            env->proc ? max_rss_mb(env->proc->pid()) : 0L
        );
        std::string line = report;
        if (report_init) line += "Init Duration: " + std::to_string(init_ms) + ".00 ms\t";
        log(env, std::move(line), inv);
        inv->done.try_send(boost::system::error_code{}, std::move(out));
    }
    if (too_large) {
        fail(413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (6291556 bytes).");
        co_return;
    }
    if (is_init_error) retire(env, "init error");
    ex.status = 202;
    ex.set_header("Content-Type", "application/json");
    ex.response_body = R"({"status":"OK"})";
}

}  // namespace scar::emulator::lambda
