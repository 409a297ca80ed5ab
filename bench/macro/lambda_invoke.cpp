// Lambda invoke overhead on scar-emulator: client → Lambda API → Runtime API → a minimal
// runtime → response. Prints cold start (median of 5 functions) with the smallest runtime
// (lambda_runtime_min.cpp, static, raw socket) and with one linking libcurl and OpenSSL
// (lambda_runtime.cpp), warm p50/p99, and the S3-event fan-out rate.
//
//   build/bin/scar_lambda_macro_bench [--invokes N]

#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/process.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "bench_support.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
namespace http = scar::http;
using scar::bench::opts;

http::response call(http::client& c, const std::string& method, const std::string& url, std::string body) {
    return c.send(scar::bench::signed_request("lambda", method, url, std::move(body))).value();
}

double ms(steady::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int run(int argc, char** argv) {
    int invokes = 2000;
    for (int i = 1; i + 1 < argc; i += 2)
        if (std::strcmp(argv[i], "--invokes") == 0) invokes = std::stoi(argv[i + 1]);

    scar::testing::temp_dir dir("scar-bench-lambda");
    const auto zip_of = [&](const char* runtime) {
        return scar::bench::runtime_zip_base64(dir.path(), runtime);
    };

    const auto started = scar::bench::start_emulator(dir.path());
    auto& emu = *started.process;
    const std::string& url = started.url;

    http::client c;
    const auto create = [&](const std::string& name, const std::string& zip64) {
        const auto created = call(
            c,
            "POST",
            url + "/2015-03-31/functions",
            R"({"FunctionName":")" + name +
                R"(","Runtime":"provided.al2023","Handler":"x","Role":"arn:aws:iam::000000000000:role/r","Code":{"ZipFile":")" +
                zip64 + R"("}})"
        );
        if (created.status != 201) {
            std::fprintf(stderr, "create failed: %s\n", created.body.c_str());
            throw scar::bench::failure{};
        }
    };
    // Cold start: the first invoke of each of 5 fresh functions, median.
    const auto cold_median = [&](const std::string& stem, const char* runtime) {
        const auto zip64 = zip_of(runtime);
        std::vector<double> colds;
        for (int i = 0; i < 5; ++i) {
            const std::string name = stem + std::to_string(i);
            create(name, zip64);
            const auto t = steady::now();
            const auto r =
                call(c, "POST", url + "/2015-03-31/functions/" + name + "/invocations", R"({"n":0})");
            colds.push_back(ms(steady::now() - t));
            if (r.status != 200) throw scar::bench::failure{};
        }
        std::sort(colds.begin(), colds.end());
        return colds[2];
    };
    const double cold = cold_median("bench", SCAR_LAMBDA_RUNTIME_MIN_BIN);
    const double cold_curl = cold_median("curl", SCAR_LAMBDA_RUNTIME_BIN);

    const std::string invoke_url = url + "/2015-03-31/functions/bench0/invocations";
    std::vector<double> warm;
    warm.reserve(static_cast<std::size_t>(invokes));
    for (int i = 0; i < invokes; ++i) {
        const auto t0 = steady::now();
        auto r = call(c, "POST", invoke_url, R"({"n":1})");
        warm.push_back(ms(steady::now() - t0));
        if (r.status != 200) return 1;
    }
    std::sort(warm.begin(), warm.end());
    std::printf(
        "cold start (first invoke of a new function, median of 5), smallest runtime: %.2f ms (target <= 20 "
        "ms)\n",
        cold
    );
    std::printf(
        "cold start, runtime linking libcurl + OpenSSL: %.2f ms (the difference is that runtime's own "
        "start)\n",
        cold_curl
    );
    std::printf(
        "warm invoke, %d sequential: p50 %.3f ms, p99 %.3f ms (target p50 <= 2 ms)\n",
        invokes,
        warm[warm.size() / 2],
        warm[warm.size() * 99 / 100]
    );

    // S3-event fan-out: uploads with a notification to the function, until every queued
    // event has been delivered.
    const auto s3call = [&](const std::string& method, const std::string& path, std::string body) {
        http::request req;
        req.method = method;
        req.url = url + path;
        req.body = std::move(body);
        return c.send(scar::bench::sign(std::move(req), "s3")).value();
    };
    (void)s3call("PUT", "/fanout", "");
    (void)s3call(
        "PUT",
        "/fanout?notification",
        "<NotificationConfiguration><CloudFunctionConfiguration><Id>b</Id><CloudFunction>"
        "arn:aws:lambda:us-east-1:000000000000:function:bench0</CloudFunction><Event>s3:ObjectCreated:*</"
        "Event>"
        "</CloudFunctionConfiguration></NotificationConfiguration>"
    );
    const int events = std::max(invokes / 2, 10);
    const auto queue = dir.path() / "data" / "lambda" / "queue";
    const auto t0 = steady::now();
    for (int i = 0; i < events; ++i) (void)s3call("PUT", "/fanout/k" + std::to_string(i), "x");
    const auto uploaded = steady::now();
    const auto deadline = steady::now() + std::chrono::minutes(5);
    while (steady::now() < deadline) {
        std::error_code ec;
        if (std::filesystem::is_empty(queue, ec) || ec) break;
        std::this_thread::sleep_for(1ms);  // polling the queue directory for the last delivery
    }
    const double total = ms(steady::now() - t0) / 1000.0;
    std::printf(
        "S3-event fan-out: %d uploads in %.2f s, all delivered after %.2f s: %.0f events/s (target >= 500)\n",
        events,
        ms(uploaded - t0) / 1000.0,
        total,
        events / total
    );
    emu.stop(SIGTERM);
    return 0;
}

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const scar::bench::failure&) {
        return 1;
    }
}
