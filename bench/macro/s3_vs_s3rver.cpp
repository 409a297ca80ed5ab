// S3 throughput of scar-emulator against s3rver (npm), same client, same run:
// PUT and GET of 4 KiB and 1 MiB objects with 16 concurrent clients; then the emulator's
// start time and idle memory.
//
//   build/bin/scar_s3_macro_bench [--seconds N] [--concurrency C]
//
// The client is scar's (libcurl + SigV4), one connection per thread. Both servers run on
// 127.0.0.1 with their data in a temp dir. The emulator is measured with --no-fsync as
// well, since s3rver never fsyncs.

#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/process.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
namespace http = scar::http;

struct server {
    std::string name;
    std::string url;
    scar::aws::credentials creds;
};

struct result {
    double ops_per_s = 0;
    double mb_per_s = 0;
    int errors = 0;
};

result load(const server& s, const std::string& method, std::size_t size, int concurrency, double seconds) {
    const std::string body(size, 'x');
    if (method == "GET") {  // the objects the GETs read: 8 per thread
        std::vector<std::thread> writers;
        for (int t = 0; t < concurrency; ++t) {
            writers.emplace_back([&, t] {
                http::client client;
                for (int i = 0; i < 8; ++i) {
                    http::request req;
                    req.method = "PUT";
                    req.url = s.url + "/bench/" + std::to_string(size) + "/" + std::to_string(t) + "-" +
                              std::to_string(i);
                    req.body = body;
                    auto p = scar::sigv4::signing_params::make(
                        s.creds,
                        "us-east-1",
                        "s3",
                        scar::clock::system().now()
                    );
                    p.payload_hash = scar::sigv4::unsigned_payload;
                    (void)scar::sigv4::sign(req, p).value();
                    (void)client.send(req);
                }
            });
        }
        for (auto& w : writers) w.join();
    }
    std::atomic<long> ops{0};
    std::atomic<int> errors{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    const auto start = steady::now();
    for (int t = 0; t < concurrency; ++t) {
        threads.emplace_back([&, t] {
            http::client client;
            const auto p0 =
                scar::sigv4::signing_params::make(s.creds, "us-east-1", "s3", scar::clock::system().now());
            for (long i = 0; !stop; ++i) {
                http::request req;
                req.method = method;

                req.url = s.url + "/bench/" + std::to_string(size) + "/" + std::to_string(t) + "-" +
                          std::to_string(i % 8);
                if (method == "PUT") req.body = body;
                auto p = p0;
                p.time = scar::clock::system().now();
                p.payload_hash = scar::sigv4::unsigned_payload;
                (void)scar::sigv4::sign(req, p).value();
                auto res = client.send(req);
                if (!res || res->status != 200 || (method == "GET" && res->body.size() != size)) {
                    ++errors;
                } else {
                    ++ops;
                }
            }
        });
    }
    while (steady::now() - start < std::chrono::duration<double>(seconds)) std::this_thread::sleep_for(10ms);
    stop = true;
    for (auto& th : threads) th.join();
    const double elapsed = std::chrono::duration<double>(steady::now() - start).count();
    result r;
    r.ops_per_s = static_cast<double>(ops) / elapsed;
    r.mb_per_s = r.ops_per_s * static_cast<double>(size) / 1e6;
    r.errors = errors;
    return r;
}

std::string wait_url(scar::testing::child_process& p, const std::string& marker, const std::regex& re) {
    if (!p.wait_for_output(marker, 60s))
        throw std::runtime_error("server did not start: " + p.stdout_text() + p.stderr_text());
    p.wait_for_output("\n", 5s);
    std::smatch m;
    const std::string text = p.stdout_text();
    if (!std::regex_search(text, m, re)) throw std::runtime_error("no address in: " + text);
    return m[1].str();
}

scar::testing::process_options opts(std::vector<std::string> argv) {
    scar::testing::process_options o;
    o.argv = std::move(argv);
    return o;
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return -1;
}

void create_bucket(const server& s) {
    http::request req;
    req.method = "PUT";
    req.url = s.url + "/bench";
    auto p = scar::sigv4::signing_params::make(s.creds, "us-east-1", "s3", scar::clock::system().now());
    (void)scar::sigv4::sign(req, p).value();
    http::client c;
    (void)c.send(req);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 3;
    int concurrency = 16;
    // --emulator PATH measures another build's emulator (before/after); --start-only 1 stops
    // after the start time and idle memory; --starts N is how many starts the median takes.
    std::string emulator_bin = SCAR_EMULATOR_BIN;
    bool start_only = false;
    int start_count = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::stod(argv[i + 1]);
        if (std::strcmp(argv[i], "--concurrency") == 0) concurrency = std::stoi(argv[i + 1]);
        if (std::strcmp(argv[i], "--emulator") == 0) emulator_bin = argv[i + 1];
        if (std::strcmp(argv[i], "--start-only") == 0) start_only = std::strcmp(argv[i + 1], "0") != 0;
        if (std::strcmp(argv[i], "--starts") == 0) start_count = std::max(1, std::stoi(argv[i + 1]));
    }
    const std::string s3rver_bin = std::string(SCAR_SOURCE_DIR) + "/tests/peers/node_modules/.bin/s3rver";

    // Start time and idle memory of the emulator: median of 10 starts.
    std::vector<double> starts;
    long idle_rss = 0;
    for (int i = 0; i < start_count; ++i) {
        scar::testing::temp_dir d("scar-bench-start");
        const auto t0 = steady::now();
        scar::testing::child_process emu(opts({emulator_bin, "--port", "0", "--data-dir", d.path().string()})
        );
        if (!emu.wait_for_output("listening on", 20s)) return 1;
        starts.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
        idle_rss = std::max(idle_rss, rss_kib(emu.pid()));
        emu.stop(SIGTERM);
    }
    std::sort(starts.begin(), starts.end());
    std::printf(
        "emulator start (spawn to listening), median of %d: %.1f ms, min %.1f ms (target < 20 ms)\n",
        start_count,
        starts[starts.size() / 2],
        starts.front()
    );
    std::printf("emulator idle RSS: %.1f MiB (target < 15 MiB)\n\n", static_cast<double>(idle_rss) / 1024.0);
    if (start_only) return 0;

    scar::testing::temp_dir d1("scar-bench-emu"), d2("scar-bench-emu-nofsync"), d3("scar-bench-s3rver");
    scar::testing::child_process emu(opts({SCAR_EMULATOR_BIN, "--port", "0", "--data-dir", d1.path().string()}
    ));
    scar::testing::child_process emu_nofsync(
        opts({SCAR_EMULATOR_BIN, "--port", "0", "--no-fsync", "--data-dir", d2.path().string()})
    );
    scar::testing::child_process s3rver(
        opts({s3rver_bin, "-d", d3.path().string(), "-a", "127.0.0.1", "-p", "0", "--silent"})
    );
    const std::regex emu_re("listening on (http://127\\.0\\.0\\.1:[0-9]+)");
    const std::vector<server> servers = {
        {"scar-emulator", wait_url(emu, "listening on", emu_re), {"test", "test", "", ""}},
        {"scar-emulator --no-fsync", wait_url(emu_nofsync, "listening on", emu_re), {"test", "test", "", ""}},
        {"s3rver",
         "http://127.0.0.1:" + wait_url(s3rver, "S3rver listening", std::regex("127\\.0\\.0\\.1:([0-9]+)")),
         {"S3RVER", "S3RVER", "", ""}}};
    for (const auto& s : servers) create_bucket(s);

    std::printf("%-26s %-10s %12s %10s %7s\n", "server", "op", "ops/s", "MB/s", "errors");
    for (const std::size_t size : {std::size_t{4096}, std::size_t{1} << 20}) {
        for (const std::string method : {"PUT", "GET"}) {
            std::vector<result> rs;
            for (const auto& s : servers) {
                rs.push_back(load(s, method, size, concurrency, seconds));
                const auto label = method + " " + (size == 4096 ? "4KiB" : "1MiB");
                std::printf(
                    "%-26s %-10s %12.0f %10.1f %7d\n",
                    s.name.c_str(),
                    label.c_str(),
                    rs.back().ops_per_s,
                    rs.back().mb_per_s,
                    rs.back().errors
                );
            }
            std::printf(
                "  ratio emulator/s3rver: %.1fx (fsync), %.1fx (no fsync)  (target >= 5x)\n",
                rs[0].ops_per_s / rs[2].ops_per_s,
                rs[1].ops_per_s / rs[2].ops_per_s
            );
        }
    }
    s3rver.stop(SIGTERM);
    emu.stop(SIGTERM);
    emu_nofsync.stop(SIGTERM);
    return 0;
}
