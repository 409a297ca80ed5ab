#include "scar/supervisor/supervisor.hpp"

#include <scar/batch/client.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>
#include <scar/s3/event.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

namespace scar::supervisor {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// `EVENT` holds the payload only up to this size: one environment string may not exceed
/// 128 KiB (MAX_ARG_STRLEN), and the input file has the payload anyway.
constexpr std::size_t event_env_limit = 64 * 1024;

/// The per-invocation directory, removed whatever happens.
class work_dir {
public:
    explicit work_dir(fs::path p) : path_(std::move(p)) {}
    ~work_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
        if (ec) log::warn("cannot remove '", path_.string(), "': ", ec.message());
    }
    work_dir(const work_dir&) = delete;
    work_dir& operator=(const work_dir&) = delete;
    [[nodiscard]] const fs::path& path() const noexcept { return path_; }

private:
    fs::path path_;
};

result<fs::path> make_work_dir(const fs::path& parent, std::string_view request_id) {
    std::string id;
    for (char c : request_id.substr(0, 36)) id += encoding::is_unreserved(c) ? c : '_';
    std::string templ = (parent / ("scar-" + id + "-XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) {
        const int e = errno;
        return make_error(
            "LocalIOError",
            "cannot make a directory in '" + parent.string() + "': " + std::strerror(e) +
                "; the supervisor needs a writable " + parent.string() + " (Lambda's /tmp)"
        );
    }
    const fs::path dir(templ);
    std::error_code ec;
    fs::create_directory(dir / "input", ec);
    if (!ec) fs::create_directory(dir / "output", ec);
    if (ec) {
        fs::remove_all(dir, ec);
        return make_error("LocalIOError", "cannot make directories in '" + templ + "': " + ec.message());
    }
    return dir;
}

result<void> write_file(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        return make_error(
            "LocalIOError",
            "cannot write '" + path.string() + "' (" + std::to_string(bytes.size()) +
                " bytes); is /tmp full? raise the function's ephemeral storage"
        );
    }
    return {};
}

std::string env_name(std::string_view prefix, std::string_view name) {
    std::string out(prefix);
    for (char c : name) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        out += ok ? c : '_';
    }
    return out;
}

/// The file name an object is downloaded to; empty for keys that have none ("dir/", "a/..").
std::string input_name(std::string_view key) {
    const auto slash = key.rfind('/');
    std::string name(slash == std::string_view::npos ? key : key.substr(slash + 1));
    if (name == "." || name == ".." || name.find('\0') != std::string::npos) return {};
    return name;
}

std::string seconds_text(std::chrono::duration<double> d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f s", d.count());
    return buf;
}

/// The last lines of `text`, at most about `limit` bytes, starting at a line.
std::string tail_lines(std::string_view text, std::size_t limit) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (text.size() > limit) {
        text = text.substr(text.size() - limit);
        if (const auto nl = text.find('\n'); nl != std::string_view::npos) text = text.substr(nl + 1);
    }
    return std::string(text);
}

json::object response_headers(
    std::string_view request_id,
    std::string_view log_group,
    std::string_view log_stream,
    std::string_view content_type
) {
    json::object h;
    if (!content_type.empty()) h["Content-Type"] = content_type;
    h["amz-lambda-request-id"] = request_id;
    h["amz-log-group-name"] = log_group;
    h["amz-log-stream-name"] = log_stream;
    return h;
}

/// AWS Batch accepts SubmitJob requests of at most 30 KiB; the event travels in one variable.
constexpr std::size_t delegated_event_limit = 24 * 1024;

/// The value of `name` in an environment list ("NAME=value"), or "".
std::string env_value(const std::vector<std::string>& env, std::string_view name) {
    for (const auto& e : env)
        if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=')
            return e.substr(name.size() + 1);
    return {};
}

}  // namespace

std::string delegated_message(std::string_view function, std::string_view job_id) {
    return "Job delegated to batch. Check batch logs with: scar log -n " + std::string(function) + " -ri " +
           std::string(job_id);
}

result<std::string> supervisor::delegate(const invocation& inv, std::string_view script) const {
    const auto& fn = settings_.function;
    const std::string what = "while delegating the event to AWS Batch (job queue '" + fn.name + "')";
    if (fn.name.empty()) {
        return make_error(
            "ConfigInvalid",
            "the function has no name to find its Batch job queue and definition by; deploy it with scar"
        );
    }
    if (inv.payload.size() > delegated_event_limit) {
        return make_error(
            "RequestEntityTooLarge",
            what + ": the event has " + std::to_string(inv.payload.size()) +
                " bytes, more than the 24 KiB that fit in a Batch job's EVENT variable (SubmitJob takes 30 "
                "KiB); "
                "send large data through S3 instead"
        );
    }
    batch::submit_job_request req;
    req.name = req.queue = req.definition = fn.name;
    req.environment["EVENT"] = inv.payload;
    req.environment["AWS_LAMBDA_REQUEST_ID"] = inv.request_id;
    if (!script.empty()) req.environment["SCRIPT"] = encoding::base64_encode(script);
    std::string memory = env_value(settings_.base_env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    if (memory.empty()) memory = std::to_string(fn.memory_mb);
    req.environment["CONTEXT"] = json::serialize(json::object{
        {"function_name", fn.name},
        {"memory_limit_in_mb", memory},
        {"aws_request_id", inv.request_id},
        {"log_group_name", settings_.log_group},
        {"log_stream_name", settings_.log_stream}});
    auto ep = batch::resolve_endpoint(settings_.aws);
    if (!ep) return ep.error().wrap(what);
    batch::client b(std::move(*ep));
    auto job = b.submit_job(req);
    if (!job) return job.error().wrap(what);
    log::info("invocation ", inv.request_id, ": delegated to AWS Batch as job ", job->id);
    return job->id;
}

std::string scar_response(
    std::string_view request_id,
    std::string_view log_group,
    std::string_view log_stream,
    std::string_view body,
    int status,
    std::string_view content_type
) {
    json::object o;
    o["statusCode"] = status;
    o["headers"] = response_headers(request_id, log_group, log_stream, content_type);
    o["body"] = encoding::base64_encode(body);
    o["isBase64Encoded"] = true;
    return json::serialize(o);
}

std::string instance_ip() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return {};
    std::string ip;
    for (const ifaddrs* a = list; a != nullptr && ip.empty(); a = a->ifa_next) {
        if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
        sockaddr_in sin{};
        std::memcpy(&sin, a->ifa_addr, sizeof sin);
        if ((ntohl(sin.sin_addr.s_addr) >> 24U) == 127U) continue;
        char buf[INET_ADDRSTRLEN] = {};
        if (::inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof buf) != nullptr) ip = buf;
    }
    ::freeifaddrs(list);
    return ip;
}

supervisor::supervisor(settings s) : settings_(std::move(s)), instance_ip_(instance_ip()) {
    if (!settings_.on_output) {
        settings_.on_output = [](std::string_view chunk, bool) {
            while (!chunk.empty()) {
                const ssize_t n = ::write(STDERR_FILENO, chunk.data(), chunk.size());
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) return;
                chunk.remove_prefix(static_cast<std::size_t>(n));
            }
        };
    }
}

result<s3::client> supervisor::make_client(const std::string& provider) const {
    const config::storage_provider* p = nullptr;
    if (const auto it = settings_.storage.find(provider); it != settings_.storage.end()) p = &it->second;
    if (p == nullptr && provider != "s3.default" && provider != "s3") {
        return make_error(
            "ConfigInvalid",
            "the storage provider '" + provider +
                "' is not defined in the function's configuration; add a [storage." + provider +
                "] table with its endpoint and credentials"
        );
    }
    s3::client_options o;
    if (p != nullptr && !p->access_key.empty()) {
        o.credentials = {p->access_key, p->secret_key, p->session_token, "storage provider " + provider};
    } else {
        auto creds = aws::load_credentials(settings_.aws);
        if (!creds) return creds.error().wrap("credentials for " + provider);
        o.credentials = std::move(*creds);
    }
    if (p != nullptr && !p->region.empty()) {
        o.region = p->region;
    } else if (auto r = aws::load_region(settings_.aws)) {
        o.region = *r;
    } else {
        o.region = settings_.function.region;
    }
    if (p != nullptr && !p->endpoint.empty()) {
        o.endpoint = p->endpoint;
    } else if (aws::has_custom_endpoint(settings_.aws, "S3")) {
        auto e = aws::endpoint_url(settings_.aws, "S3", o.region);
        if (!e) return e.error();
        o.endpoint = std::move(*e);
    }
    if (p != nullptr) {
        if (p->path_style) o.style = s3::addressing::path;
        o.http.verify_tls = p->verify_tls;
    }
    // A function has minutes at most: fail fast on an unreachable endpoint.
    o.http.connect_timeout = 5s;
    o.http.retry.max_attempts = 3;
    o.http.low_speed_time = 30s;
    return s3::client(std::move(o));
}

reply supervisor::handle(const invocation& inv) const {
    const auto& fn = settings_.function;
    reply rep;
    rep.times.received = steady::now();
    const auto failed = [&](const error& e) {
        rep.ok = false;
        rep.error_type = e.code;
        rep.error_message = e.message;
        rep.times.replied = steady::now();
        log::error(inv.request_id, " ", e.code, ": ", e.message);
        return rep;
    };

    auto ev = parse_event(inv.payload);
    if (!ev) return failed(ev.error());
    rep.kind = ev->kind;
    log::info("invocation ", inv.request_id, ": ", to_string(ev->kind), " event");
    const auto delegated = [&](std::string job) {
        rep.body = scar_response(
            inv.request_id,
            settings_.log_group,
            settings_.log_stream,
            delegated_message(fn.name, job)
        );
        rep.delegated_job = std::move(job);
        rep.times.replied = steady::now();
        return rep;
    };
    const std::string event_script = ev->kind == event_kind::script ? ev->script : std::string();
    if (settings_.where == platform::lambda && fn.mode == config::execution_mode::batch) {
        // Lambda only dispatches: the job downloads, runs and uploads.
        auto job = delegate(inv, event_script);
        if (!job) return failed(job.error());
        return delegated(std::move(*job));
    }

    auto dir = make_work_dir(settings_.temp_root, inv.request_id);
    if (!dir) return failed(dir.error());
    const work_dir work(*dir);
    const fs::path input_dir = work.path() / "input";
    const fs::path output_dir = work.path() / "output";

    // Later entries win.
    std::vector<std::pair<std::string, std::string>> vars(
        fn.container_environment.begin(),
        fn.container_environment.end()
    );
    vars.emplace_back("TMP_INPUT_DIR", input_dir.string());
    vars.emplace_back("TMP_OUTPUT_DIR", output_dir.string());
    vars.emplace_back("REQUEST_ID", inv.request_id);
    vars.emplace_back("AWS_LAMBDA_REQUEST_ID", inv.request_id);
    vars.emplace_back("INSTANCE_IP", instance_ip_);
    vars.emplace_back(
        "EVENT_TIME",
        ev->time.empty() ? s3::format_event_time(settings_.time->now()) : ev->time
    );
    if (inv.payload.size() <= event_env_limit) {
        vars.emplace_back("EVENT", inv.payload);
    } else {
        log::debug("EVENT not set: the payload has ", inv.payload.size(), " bytes (the input file has it)");
    }
    for (const auto& [k, v] : ev->query) vars.emplace_back(env_name("CONT_VAR_", k), v);

    // Input.
    if (ev->object) {
        const auto& obj = *ev->object;
        vars.emplace_back("STORAGE_OBJECT_KEY", obj.key);
        const std::string where = "s3://" + obj.bucket + "/" + obj.key;
        if (!obj.key.empty() && obj.key.back() == '/') {
            // The console's "create folder" makes such keys: nothing to process.
            log::info("'", where, "' is a folder marker; nothing to do");
            rep.body = scar_response(inv.request_id, settings_.log_group, settings_.log_stream, "");
            rep.times.replied = steady::now();
            return rep;
        }
        if (!fn.file_stage_in) {
            const std::string name = input_name(obj.key);
            if (name.empty()) {
                return failed(make_error(
                    "InvalidEvent",
                    "the object key '" + obj.key + "' has no file name to download it to; rename the object"
                ));
            }
            std::string provider = obj.provider;
            for (const auto& in : fn.inputs) {
                if (provider.empty() && in.bucket == obj.bucket) provider = in.provider;
            }
            if (provider.empty()) provider = obj.source == "minio:s3" ? "minio.default" : "s3.default";
            auto client = make_client(provider);
            if (!client) return failed(client.error().wrap("while downloading the input " + where));
            const fs::path dest = input_dir / name;
            auto got = client->get_object_to_file(obj.bucket, obj.key, dest);
            if (!got) return failed(got.error().wrap("while downloading the input " + where));
            log::info("input ", where, " (", got->size, " bytes) → ", dest.string());
            vars.emplace_back("INPUT_FILE_PATH", dest.string());
        }
    } else if (ev->body) {
        const fs::path dest = input_dir / "event-file";
        if (auto w = write_file(dest, *ev->body); !w) return failed(w.error());
        vars.emplace_back("INPUT_FILE_PATH", dest.string());
    }
    rep.times.input_ready = steady::now();

    // What to run.
    command_spec spec;
    const auto script_file = [&](std::string_view text, const char* name) -> result<void> {
        const fs::path path = work.path() / name;
        if (auto w = write_file(path, text); !w) return w.error();
        spec.argv = {"/bin/sh", path.string()};
        return {};
    };
    if (ev->kind == event_kind::script) {
        if (auto s = script_file(ev->script, "script.sh"); !s) return failed(s.error());
    } else if (ev->kind == event_kind::command) {
        const std::size_t words = std::min(settings_.entrypoint_words, settings_.command.size());
        spec.argv.assign(
            settings_.command.begin(),
            settings_.command.begin() + static_cast<std::ptrdiff_t>(words)
        );
        spec.argv.insert(spec.argv.end(), ev->cmd_args.begin(), ev->cmd_args.end());
    } else if (settings_.init_script_text) {
        if (auto s = script_file(*settings_.init_script_text, "init_script.sh"); !s) return failed(s.error());
    } else if (!fn.init_script.empty()) {
        std::error_code ec;
        if (!fs::is_regular_file(fn.init_script, ec)) {
            return failed(make_error(
                "ScriptNotRunnable",
                "the function's init_script '" + fn.init_script.string() +
                    "' is not in the image; deploy the function again with scar so that it is packaged"
            ));
        }
        spec.argv = {"/bin/sh", fn.init_script.string()};
    } else {
        spec.argv = settings_.command;
    }
    if (spec.argv.empty()) {
        return failed(make_error(
            "NothingToRun",
            ev->kind == event_kind::command
                ? std::string("the event has empty cmd_args and the image has no ENTRYPOINT to give them to; "
                              "send the command to run in cmd_args")
                : std::string("nothing to run: the event has no script or cmd_args, the function has no "
                              "init_script, and the image's command is empty; set init_script in the "
                              "function's configuration")
        ));
    }

    // The environment: the supervisor's, then ours over it.
    std::set<std::string> ours;
    for (const auto& [k, v] : vars) ours.insert(k);
    for (const auto& e : settings_.base_env) {
        const auto eq = e.find('=');
        if (eq == std::string::npos || ours.count(e.substr(0, eq)) == 0) spec.env.push_back(e);
    }
    {
        std::map<std::string, std::string> merged;
        for (auto& [k, v] : vars) merged[k] = std::move(v);
        for (auto& [k, v] : merged) spec.env.push_back(k + "=" + v);
    }
    spec.stdout_limit = settings_.stdout_limit;
    spec.on_output = settings_.on_output;

    // The deadline: time left minus the threshold kept for uploads.
    std::chrono::duration<double> budget{0};
    if (inv.deadline) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(*inv.deadline - settings_.time->now());
        auto keep = std::chrono::milliseconds(std::chrono::seconds(std::max(fn.timeout_threshold_s, 0)));
        if (keep >= left) {
            const auto smaller = std::max(left / 4, std::chrono::milliseconds(0));
            log::warn(
                "timeout_threshold (",
                fn.timeout_threshold_s,
                " s) is not below the time left (",
                left.count(),
                " ms); keeping ",
                smaller.count(),
                " ms for the outputs instead"
            );
            keep = smaller;
        }
        const auto run_for = std::max(left - keep, std::chrono::milliseconds(0));
        budget = run_for;
        spec.deadline = steady::now() + run_for;
    }

    log::debug("running: ", spec.argv.front());
    auto outcome = run_command(spec);
    if (!outcome) return failed(outcome.error());
    rep.times.script_started = outcome->started;
    rep.times.script_ended = outcome->ended;
    log::info(
        "the script ",
        describe(*outcome),
        " after ",
        seconds_text(outcome->ended - outcome->started),
        outcome->stdout_truncated ? " (stdout truncated in the response)" : ""
    );

    if (outcome->how == command_outcome::ending::timed_out && settings_.where == platform::lambda &&
        fn.mode == config::execution_mode::lambda_batch) {
        // The job starts again from the event: what this run left is not uploaded (SCAR did).
        log::warn(
            "the script ran out of time in Lambda (",
            seconds_text(budget),
            "); delegating the event to AWS Batch"
        );
        auto job = delegate(inv, event_script);
        rep.outcome = std::move(*outcome);
        if (!job) {
            return failed(job.error().wrap(
                "the script timed out after " + seconds_text(budget) + " and could not be delegated"
            ));
        }
        return delegated(std::move(*job));
    }

    // Outputs, whatever became of the script.
    std::vector<output_file> files;
    if (auto listed = list_output_files(output_dir)) {
        files = std::move(*listed);
    } else {
        log::error(listed.error().message);
    }
    const auto tasks = plan_uploads(files, fn.outputs);
    rep.uploads = upload_all(
        tasks,
        [this](const std::string& p) { return make_client(p); },
        settings_.max_parallel_uploads
    );
    std::size_t uploaded = 0;
    const upload_report* first_failure = nullptr;
    for (const auto& u : rep.uploads) {
        if (u.failure) {
            log::error("output ", u.failure->what());
            if (first_failure == nullptr) first_failure = &u;
        } else {
            ++uploaded;
            log::info("output ", u.file, " → s3://", u.bucket, "/", u.key);
        }
    }
    if (!files.empty() && fn.outputs.empty() && ev->kind != event_kind::api_gateway)
        log::info(files.size(), " file(s) in TMP_OUTPUT_DIR and no output configured: not uploaded");
    rep.times.outputs_done = steady::now();

    const std::string uploads_text =
        tasks.empty()
            ? std::string("no output was uploaded")
            : std::to_string(uploaded) + " of " + std::to_string(tasks.size()) + " output upload(s) done";
    std::optional<error> problem;
    if (outcome->how == command_outcome::ending::timed_out) {
        std::string msg =
            "the script ran for " + seconds_text(budget) + " (the time left minus timeout_threshold " +
            std::to_string(fn.timeout_threshold_s) + " s) and was killed with its process group; " +
            uploads_text + ". Raise the function's timeout or make the script faster";
        problem = make_error("ScriptTimedOut", msg);
    } else if (!outcome->succeeded()) {
        std::string msg = "the script " + describe(*outcome) + "; " + uploads_text;
        const std::string tail = tail_lines(outcome->stderr_tail, 2048);
        msg +=
            tail.empty() ? std::string("; it wrote nothing to stderr") : "; the end of its stderr:\n" + tail;
        problem = make_error("ScriptFailed", msg);
    } else if (first_failure != nullptr) {
        problem = *first_failure->failure;
        problem->message += " (" + uploads_text + ")";
    }

    if (ev->kind == event_kind::api_gateway) {
        // HTTP callers get an HTTP answer: errors as a 500 with a JSON body saying why.
        if (problem) {
            log::error(inv.request_id, " ", problem->code, ": ", problem->message);
            json::object o;
            o["statusCode"] = 500;
            o["headers"] = response_headers(
                inv.request_id,
                settings_.log_group,
                settings_.log_stream,
                "application/json"
            );
            o["body"] =
                json::serialize(json::object{{"errorType", problem->code}, {"errorMessage", problem->message}}
                );
            o["isBase64Encoded"] = false;
            rep.body = json::serialize(o);
            rep.outcome = std::move(*outcome);
            rep.times.replied = steady::now();
            return rep;
        }
        // Binary out: a function without outputs whose script left one file answers with it.
        std::string file_body;
        bool from_file = false;
        if (fn.outputs.empty() && files.size() == 1) {
            std::ifstream in(files.front().path, std::ios::binary);
            file_body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            from_file = static_cast<bool>(in) || in.eof();
        }
        rep.body = scar_response(
            inv.request_id,
            settings_.log_group,
            settings_.log_stream,
            from_file ? file_body : outcome->stdout_text,
            200,
            "application/octet-stream"
        );
        rep.outcome = std::move(*outcome);
        rep.times.replied = steady::now();
        return rep;
    }
    if (problem) {
        rep.outcome = std::move(*outcome);
        return failed(*problem);
    }
    rep.body = scar_response(inv.request_id, settings_.log_group, settings_.log_stream, outcome->stdout_text);
    rep.outcome = std::move(*outcome);
    rep.times.replied = steady::now();
    return rep;
}

}  // namespace scar::supervisor
