// Hostile functions in the emulator's Lambda: a fork bomb, one that fills /tmp, one that
// allocates past its MemorySize, one that floods stdout, one that never answers and one
// whose runtime never asks for an event. They run at once; each invocation ends with
// AWS's answer, the emulator answers S3 and another function promptly throughout, and the
// next invocation of each works.

#include <scar/sandbox/container.hpp>
#include <scar/testing/emulator_process.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "fault_support.hpp"
#include <dirent.h>

namespace {

namespace fs = std::filesystem;
using namespace scar::faults;

/// One runtime for every hostile function; what it does depends on the event (or, for a
/// runtime that never finishes its init, on HOSTILE_INIT). It needs nothing in /tmp, so it
/// keeps working once /tmp is full.
constexpr const char* hostile_runtime = R"(#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
if [ "$HOSTILE_INIT" = hang ]; then echo "never asking for an event"; exec sleep 3600; fi
while true; do
  next=$(curl -sS -i "$api/invocation/next")
  id=${next#*Lambda-Runtime-Aws-Request-Id: }
  id=${id%%[!0-9a-f-]*}
  event=${next##*
}
  answer='"ok"'
  case "$event" in
    *forkbomb*) bomb() { bomb | bomb; }; bomb ;;
    *filltmp*) answer="\"$(dd if=/dev/zero of=/tmp/fill bs=1M 2>&1 | grep -o 'No space left on device')\"" ;;
    *memhog*) x=0123456789abcdef; while :; do x="$x$x"; done ;;
    *flood*) yes "flood flood flood flood flood flood flood flood flood flood flood flood" ;;
    *silent*) sleep 3600 ;;
  esac
  curl -sS -X POST "$api/invocation/$id/response" -d "{\"answer\":$answer}" >/dev/null
done
)";

struct hostile_case {
    std::string function;
    std::string event;
    int timeout_s;
    int memory_mib;
    std::vector<std::string> expected_errors;  ///< acceptable errorTypes; none: a normal answer
};

struct latency {
    std::mutex m;
    std::vector<double> ms;
    void add(std::chrono::steady_clock::duration d) {
        const std::lock_guard lock(m);
        ms.push_back(std::chrono::duration<double, std::milli>(d).count());
    }
};

/// Host processes (any namespace) whose command line contains `marker`.
int processes_with(const std::string& marker) {
    int n = 0;
    DIR* d = ::opendir("/proc");
    if (d == nullptr) return 0;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/environ", std::ios::binary);
        std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        n += env.find(marker) != std::string::npos ? 1 : 0;
    }
    ::closedir(d);
    return n;
}

/// True when containers here get a memory cgroup: without one, the memory hog and the fork
/// bomb would be bounded by nothing but their timeout (and the machine's memory).
bool memory_limits_work(const fs::path& work) {
    namespace sb = scar::sandbox;
    sb::spec s;
    s.rootfs = work / "limit-probe";
    fs::create_directories(s.rootfs);
    for (const char* dir : {"/usr", "/bin", "/lib", "/lib64"}) {
        if (fs::exists(dir)) s.mounts.push_back({dir, dir, true});
    }
    s.argv = {"/bin/true"};
    s.memory_bytes = 64U << 20;
    const auto o = sb::run(s);
    return o && o->memory_limited;
}

TEST(FaultsHostile, HostileFunctionsDoNotTakeTheEmulatorDown) {
    if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
    scar::testing::temp_dir work("scar-faults-hostile");
    if (!memory_limits_work(work.path())) {
        GTEST_SKIP(
        ) << "containers get no memory cgroup here (see the sandbox's warning): a memory hog or "
             "fork bomb would be bounded only by its timeout; run as root or in a delegated cgroup";
    }
    scar::testing::emulator_process emu(work.path() / "data", {"--log-level", "warn"});
    const std::string url = emu.url();
    const auto zip = bootstrap_zip_base64(hostile_runtime, work.path());
    // A fork bomb ends at the memory limit (each process costs memory) or at the timeout,
    // whichever comes first; /tmp is a tmpfs whose pages count against MemorySize, so at
    // 128 MB filling it ends at the memory limit, not at ENOSPC as on AWS's disk.
    const std::vector<hostile_case> cases{
        {"forkbomb", "forkbomb", 3, 128, {"Runtime.ExitError", "Sandbox.Timedout"}},
        {"filltmp", "filltmp", 20, 1024, {}},
        {"filltmp128", "filltmp", 20, 128, {"Runtime.ExitError"}},
        {"memhog", "memhog", 20, 128, {"Runtime.ExitError"}},
        {"flood", "flood", 3, 128, {"Sandbox.Timedout"}},
        {"silent", "silent", 2, 128, {"Sandbox.Timedout"}},
        {"initless", "anything", 1, 128, {"Sandbox.Timedout"}},
    };
    for (const auto& c : cases) {
        json::object env{{"FAULTS_FUNCTION", c.function}};
        if (c.function == "initless") env["HOSTILE_INIT"] = "hang";
        (void)create_function(url, c.function, zip, c.timeout_s, c.memory_mib, env);
    }
    (void)create_function(url, "probe", bootstrap_zip_base64(sink_runtime, work.path()), 5);
    ASSERT_EQ(status_of(call(url, "s3", "PUT", "/alive")), 200);
    ASSERT_EQ(status_of(call(url, "s3", "PUT", "/alive/object", "x")), 200);
    ASSERT_EQ(status_of(invoke(url, "probe", "{}")), 200);  // warm
    const auto rss_before = rss_kib(emu.process().pid());

    // Probes run all the while: a HEAD on S3 and an invocation of a well-behaved function.
    std::atomic<bool> hostile_running{true};
    latency head_ms;
    latency invoke_ms;
    std::atomic<int> probe_failures{0};
    std::thread prober([&] {
        while (hostile_running) {
            auto t0 = std::chrono::steady_clock::now();
            const auto head = call(url, "s3", "HEAD", "/alive/object", {}, {}, 30s);
            head_ms.add(std::chrono::steady_clock::now() - t0);
            if (!head || head->status != 200) ++probe_failures;
            t0 = std::chrono::steady_clock::now();
            const auto inv = invoke(url, "probe", R"({"probe":1})", "RequestResponse", 30s);
            invoke_ms.add(std::chrono::steady_clock::now() - t0);
            if (!inv || inv->status != 200 || inv->header("X-Amz-Function-Error")) ++probe_failures;
        }
    });
    std::map<std::string, scar::result<scar::http::response>> answers;
    std::map<std::string, long long> took_ms;
    std::mutex answers_mutex;
    std::vector<std::thread> hostile;
    for (const auto& c : cases) {
        hostile.emplace_back([&, c] {
            const auto t0 = std::chrono::steady_clock::now();
            auto r = invoke(url, c.function, R"({"do":")" + c.event + R"("})", "RequestResponse", 60s);
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
                    .count();
            const std::lock_guard lock(answers_mutex);
            answers.emplace(c.function, std::move(r));
            took_ms[c.function] = ms;
        });
    }
    for (auto& t : hostile) t.join();
    hostile_running = false;
    prober.join();
    const auto rss_after = rss_kib(emu.process().pid());

    for (const auto& c : cases) {
        const auto& r = answers.at(c.function);
        ASSERT_TRUE(r) << c.function << ": " << r.error().what();
        EXPECT_EQ(r->status, 200) << c.function << ": " << r->body;
        const auto v = json_of(*r);
        if (c.expected_errors.empty()) {
            EXPECT_FALSE(r->header("X-Amz-Function-Error")) << c.function << ": " << r->body;
        } else {
            EXPECT_EQ(r->header("X-Amz-Function-Error").value_or(""), "Unhandled") << c.function;
            ASSERT_TRUE(v.is_object() && v.as_object().contains("errorType"))
                << c.function << ": " << r->body;
            const std::string type(v.at("errorType").as_string());
            EXPECT_NE(
                std::find(c.expected_errors.begin(), c.expected_errors.end(), type),
                c.expected_errors.end()
            ) << c.function
              << ": " << r->body;
            if (type == "Runtime.ExitError" && c.function != "forkbomb") {
                EXPECT_NE(r->body.find("out of memory"), std::string::npos) << c.function << ": " << r->body;
            }
        }
        std::cout << "[ hostile  ] " << c.function << " (" << took_ms[c.function]
                  << " ms): " << r->body.substr(0, 160) << "\n";
    }
    // The timeout counts from when the runtime takes the event, not from the cold start's
    // beginning plus the 10 s init allowance.
    EXPECT_LT(took_ms.at("silent"), 7000) << "a 2 s timeout on a cold environment";
    // /tmp filled up to its size (EphemeralStorage) and the runtime carried on.
    EXPECT_NE(answers.at("filltmp")->body.find("No space left"), std::string::npos)
        << answers.at("filltmp")->body;

    // Nothing of the hostile environments is left running once their invocations ended.
    for (const auto& c : cases) {
        if (c.expected_errors.empty()) continue;  // it answered: its environment stays warm
        EXPECT_TRUE(poll_until([&] { return processes_with("FAULTS_FUNCTION=" + c.function) == 0; }, 10s))
            << c.function << ": " << processes_with("FAULTS_FUNCTION=" + c.function) << " processes left";
    }

    // The next invocation of each works (the runtime that never started gets a working
    // configuration first).
    const auto cleared = call(
        url,
        "lambda",
        "PUT",
        "/2015-03-31/functions/initless/configuration",
        R"({"Environment":{"Variables":{"FAULTS_FUNCTION":"initless"}}})"
    );
    ASSERT_TRUE(cleared && cleared->status == 200) << (cleared ? cleared->body : cleared.error().what());
    for (const auto& c : cases) {
        const auto again = invoke(url, c.function, R"({"do":"nothing"})");
        ASSERT_TRUE(again) << c.function;
        EXPECT_EQ(again->status, 200) << c.function;
        EXPECT_FALSE(again->header("X-Amz-Function-Error")) << c.function << ": " << again->body;
    }

    const auto report = [](const char* what, latency& l) {
        std::sort(l.ms.begin(), l.ms.end());
        const double p50 = l.ms.empty() ? 0 : l.ms[l.ms.size() / 2];
        const double max = l.ms.empty() ? 0 : l.ms.back();
        std::cout << "[ hostile  ] " << what << " during the attack: " << l.ms.size() << " requests, p50 "
                  << p50 << " ms, max " << max << " ms\n";
        return max;
    };
    const double head_max = report("S3 HEAD", head_ms);
    const double invoke_max = report("probe invoke", invoke_ms);
    std::cout << "[ hostile  ] emulator RSS " << rss_before << " KiB before, " << rss_after << " KiB after\n";
    EXPECT_EQ(probe_failures, 0) << "requests to the emulator failed during the attack";
    EXPECT_GT(head_ms.ms.size(), 3U);
    EXPECT_LT(head_max, 5000) << "S3 stopped answering promptly";
    EXPECT_LT(invoke_max, 10000) << "another function stopped answering promptly";
}

}  // namespace
