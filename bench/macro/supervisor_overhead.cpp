// What scar-supervisor adds to an invocation, excluding transfers, with a 1 KiB input and a
// 1 KiB output (the script is `cat "$INPUT_FILE_PATH"`):
//
//   library    supervisor::handle in-process: event received → script started (parse, per-
//              invocation directories, input file, environment, spawn), and script ended →
//              response ready (outputs listed, response built);
//   runtime    the shipped bundle against a Runtime API on loopback: /next answered →
//              /response received, and the same minus the script's own run time;
//   cold start exec of the bundle → its first /next request.
//
// SCAR's Python faas-supervisor is not compared: it is not packaged in Debian and cannot
// be installed offline here.
//
//   build/bin/scar_supervisor_overhead_bench [--invocations N] [--cold-starts N]
//                                            [--supervisor PATH] [--cold-only 1]
//
// --supervisor measures another bundle's launcher (an older build, for before/after);
// --cold-only 1 measures the cold start alone.

#include <scar/core/log.hpp>
#include <scar/supervisor/supervisor.hpp>
#include <scar/testing/http_server_mock.hpp>
#include <scar/testing/process.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace {

namespace sv = scar::supervisor;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string payload = R"({"data":")" + std::string(1024 - 11, 'x') + R"("})";  // 1 KiB
const std::vector<std::string> command = {"/bin/sh", "-c", "cat \"$INPUT_FILE_PATH\""};
std::string supervisor_bin = SCAR_SUPERVISOR_BIN;

struct stats {
    double median_us = 0;
    double p90_us = 0;
    double min_us = 0;
};

stats summarize(std::vector<double> us) {
    if (us.empty()) return {};
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us[us.size() * 9 / 10], us.front()};
}

void print(const char* what, const stats& s) {
    std::printf(
        "  %-46s median %8.1f us   p90 %8.1f us   min %8.1f us\n",
        what,
        s.median_us,
        s.p90_us,
        s.min_us
    );
}

double us(steady::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

void library(int n) {
    scar::testing::temp_dir tmp("scar-sv-bench");
    sv::settings s;
    s.temp_root = tmp.path();
    s.base_env = {"PATH=/usr/bin:/bin"};
    s.command = command;
    s.entrypoint_words = 3;
    s.on_output = [](std::string_view, bool) {};
    const sv::supervisor sup(s);
    std::vector<double> input;
    std::vector<double> spawn;
    std::vector<double> before;
    std::vector<double> after;
    std::vector<double> script;
    for (int i = 0; i < n; ++i) {
        const auto r = sup.handle({"bench-" + std::to_string(i), payload, std::nullopt});
        if (!r.ok || r.outcome->stdout_text.size() != 1024) {
            std::fprintf(stderr, "invocation failed: %s %s\n", r.error_type.c_str(), r.error_message.c_str());
            std::exit(1);
        }
        input.push_back(us(r.times.input_ready - r.times.received));
        spawn.push_back(us(r.times.script_started - r.times.input_ready));
        before.push_back(us(r.times.script_started - r.times.received));
        after.push_back(us(r.times.replied - r.times.script_ended));
        script.push_back(us(r.times.script_ended - r.times.script_started));
    }
    std::printf("library (supervisor::handle, %d invocations)\n", n);
    print("event received -> script started", summarize(before));
    print("  of which: parse, directories, input file", summarize(input));
    print("  of which: environment, posix_spawn + exec", summarize(spawn));
    print("script ended -> response ready", summarize(after));
    print("(the script itself: sh -c cat)", summarize(script));
}

/// A Runtime API on loopback serving `n` invocations, recording when each was handed out
/// and when its response came back.
class runtime_api {
public:
    explicit runtime_api(int n)
        : n_(n), server_([this](const scar::testing::recorded_request& r) { return handle(r); }) {}
    ~runtime_api() { done_.open(); }

    [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(server_.port()); }
    [[nodiscard]] bool wait_first_next(std::chrono::milliseconds t) const {
        std::unique_lock l(m_);
        return first_cv_.wait_for(l, t, [this] { return first_next_ != steady::time_point{}; });
    }
    [[nodiscard]] bool wait_responses(int n) const {
        return server_.wait_requests(static_cast<std::size_t>(2 * n + 1));
    }
    [[nodiscard]] steady::time_point first_next() const {
        const std::lock_guard l(m_);
        return first_next_;
    }
    [[nodiscard]] std::vector<double> turnarounds() const {
        const std::lock_guard l(m_);
        std::vector<double> out;
        for (std::size_t i = 0; i < answered_.size() && i < responded_.size(); ++i)
            out.push_back(us(responded_[i] - answered_[i]));
        return out;
    }
    [[nodiscard]] std::vector<std::string> bodies() const {
        const std::lock_guard l(m_);
        return bodies_;
    }

private:
    scar::testing::mock_response handle(const scar::testing::recorded_request& r) {
        if (r.target.ends_with("/invocation/next")) {
            int i = 0;
            {
                const std::lock_guard l(m_);
                if (first_next_ == steady::time_point{}) first_next_ = steady::now();
                i = handed_++;
            }
            first_cv_.notify_all();
            if (i >= n_) {
                (void)done_.wait_for(60s);  // keep the runtime waiting until the bench ends
                return {503, {}, "{}"};
            }
            scar::testing::mock_response resp;
            resp.headers = {
                {"Lambda-Runtime-Aws-Request-Id", "req-" + std::to_string(i)},
                {"Lambda-Runtime-Deadline-Ms",
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch() + 60s
                 )
                                    .count())},
                {"Lambda-Runtime-Invoked-Function-Arn",
                 "arn:aws:lambda:us-east-1:000000000000:function:bench"},
                {"Content-Type", "application/json"}};
            resp.body = payload;
            const std::lock_guard l(m_);
            answered_.push_back(steady::now());
            return resp;
        }
        const std::lock_guard l(m_);
        responded_.push_back(steady::now());
        bodies_.push_back(r.body);
        return {202, {}, R"({"status":"OK"})"};
    }

    int n_;
    mutable std::mutex m_;
    mutable std::condition_variable first_cv_;
    int handed_ = 0;
    steady::time_point first_next_{};
    std::vector<steady::time_point> answered_;
    std::vector<steady::time_point> responded_;
    std::vector<std::string> bodies_;
    scar::testing::gate done_;
    scar::testing::http_server_mock server_;
};

pid_t spawn_supervisor(const std::string& api, steady::time_point& started) {
    std::vector<std::string> env_strings = {
        "AWS_LAMBDA_RUNTIME_API=" + api,
        "PATH=/usr/bin:/bin",
        "LAMBDA_TASK_ROOT=/nonexistent",
        "SCAR_LOG_LEVEL=error"};
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = {supervisor_bin, "--"};
    args.insert(args.end(), command.begin(), command.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", 01, 0);  // O_WRONLY
    started = steady::now();
    const int rc = ::posix_spawn(&pid, supervisor_bin.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        std::fprintf(stderr, "cannot start %s\n", supervisor_bin.c_str());
        std::exit(1);
    }
    return pid;
}

void stop(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

void cold_starts(int n) {
    std::vector<double> cold;
    for (int i = 0; i < n; ++i) {
        runtime_api api(0);
        steady::time_point started;
        const pid_t pid = spawn_supervisor(api.address(), started);
        if (!api.wait_first_next(20s)) {
            std::fprintf(stderr, "the supervisor never asked for an invocation\n");
            stop(pid);
            std::exit(1);
        }
        cold.push_back(us(api.first_next() - started));
        stop(pid);
    }
    std::printf("cold start (bundle: static launcher + ld.so + libraries, %d starts)\n", n);
    print("exec -> first /next request", summarize(cold));
}

void runtime(int n) {
    // The script's own cost, to subtract: the same command, run the same way.
    scar::testing::temp_dir tmp("scar-sv-bench");
    const auto file = tmp.path() / "in";
    {
        std::FILE* f = std::fopen(file.c_str(), "w");
        std::fwrite(payload.data(), 1, payload.size(), f);
        std::fclose(f);
    }
    std::vector<double> script;
    for (int i = 0; i < n; ++i) {
        sv::command_spec c;
        c.argv = command;
        c.env = {"PATH=/usr/bin:/bin", "INPUT_FILE_PATH=" + file.string()};
        const auto before = steady::now();
        const auto o = sv::run_command(c).value();
        script.push_back(us(steady::now() - before));
    }
    runtime_api api(n);
    steady::time_point started;
    const pid_t pid = spawn_supervisor(api.address(), started);
    const bool ok = api.wait_responses(n);
    stop(pid);
    if (!ok || api.bodies().size() != static_cast<std::size_t>(n) ||
        api.bodies().front().find("\"statusCode\":200") == std::string::npos) {
        std::fprintf(stderr, "the runtime did not answer every invocation\n");
        std::exit(1);
    }
    const auto turn = summarize(api.turnarounds());
    const auto sh = summarize(script);
    std::printf("runtime (bundle against a loopback Runtime API, %d invocations)\n", n);
    print("/next answered -> /response received", turn);
    print("running sh -c cat alone (posix_spawn to exit)", sh);
    std::printf(
        "  %-46s median %8.1f us\n",
        "supervisor overhead (difference of medians)",
        turn.median_us - sh.median_us
    );
}

}  // namespace

int main(int argc, char** argv) {
    int invocations = 200;
    int cold = 20;
    bool cold_only = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--invocations") invocations = std::atoi(argv[i + 1]);
        if (a == "--cold-starts") cold = std::atoi(argv[i + 1]);
        if (a == "--supervisor") supervisor_bin = argv[i + 1];
        if (a == "--cold-only") cold_only = std::string_view(argv[i + 1]) != "0";
    }
    scar::log::set_level(scar::log::level::warn);
    std::printf("scar-supervisor overhead, 1 KiB in and out, no transfers\n");
    if (!cold_only) {
        library(invocations);
        runtime(invocations);
    }
    cold_starts(cold);
    std::printf("SCAR's Python faas-supervisor: not compared (not packaged in Debian, no network here).\n");
    return 0;
}
