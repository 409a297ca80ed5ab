// API Gateway on scar-emulator under load, against invoking Lambda directly: wrk (Debian's)
// drives a warm function (the static minimal runtime answering a fixed proxy response)
// through the REST API's data plane, then through Lambda's Invoke with a SigV4 header
// signed once (valid for the 15-minute skew window, so every request verifies). Prints
// requests/s and p50/p99 of both and their ratios.
//
//   build/bin/scar_apigw_macro_bench [--seconds S] [--connections C]

#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "bench_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = scar::http;
namespace json = boost::json;
using scar::bench::opts;
using scar::bench::signed_request;

json::object must(http::client& c, const http::request& req, int status) {
    const auto r = c.send(req).value();
    if (r.status != status) {
        std::fprintf(
            stderr,
            "%s %s: HTTP %d %s\n",
            req.method.c_str(),
            req.url.c_str(),
            r.status,
            r.body.c_str()
        );
        throw scar::bench::failure{};
    }
    return r.body.empty() ? json::object() : json::parse(r.body).as_object();
}

struct load {
    double rps = 0;
    double p50_ms = 0;
    double p99_ms = 0;
};

double latency_ms(const std::string& text, const char* pct) {
    std::smatch m;
    if (!std::regex_search(text, m, std::regex(std::string("\\s") + pct + "%\\s+([0-9.]+)(us|ms|s)")))
        return -1;
    const double v = std::stod(m[1].str());
    return m[2] == "us" ? v / 1000 : m[2] == "s" ? v * 1000 : v;
}

load run_wrk(const std::string& url, const std::string& script, double seconds, int connections) {
    std::vector<std::string> argv = {
        "wrk",
        "-t2",
        "-c" + std::to_string(connections),
        "-d" + std::to_string(std::max(1, static_cast<int>(seconds + 0.5))) + "s",  // whole seconds only
        "--latency"};
    if (!script.empty()) argv.insert(argv.end(), {"-s", script});
    argv.push_back(url);
    const auto r = scar::testing::run(opts(argv));
    if (r.exit_code != 0) {
        std::fprintf(stderr, "wrk failed: %s%s\n", r.out.c_str(), r.err.c_str());
        throw scar::bench::failure{};
    }
    std::smatch m;
    if (std::regex_search(r.out, m, std::regex("Non-2xx or 3xx responses: ([0-9]+)"))) {
        std::fprintf(stderr, "%s answered %s errors:\n%s\n", url.c_str(), m[1].str().c_str(), r.out.c_str());
        throw scar::bench::failure{};
    }
    load l;
    if (std::regex_search(r.out, m, std::regex("Requests/sec:\\s+([0-9.]+)"))) l.rps = std::stod(m[1].str());
    l.p50_ms = latency_ms(r.out, "50");
    l.p99_ms = latency_ms(r.out, "99");
    return l;
}

}  // namespace

int run(int argc, char** argv) {
    double seconds = 5;
    int connections = 8;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::stod(argv[i + 1]);
        if (std::strcmp(argv[i], "--connections") == 0) connections = std::stoi(argv[i + 1]);
    }
    if (scar::testing::run(opts({"sh", "-c", "command -v wrk"})).exit_code != 0) {
        std::fprintf(stderr, "wrk is not installed: run scripts/setup.sh (Debian package wrk)\n");
        return 1;
    }

    scar::testing::temp_dir dir("scar-bench-apigw");
    const auto started = scar::bench::start_emulator(dir.path());
    auto& emu = *started.process;
    const std::string& url = started.url;
    http::client c;

    // The function, answering a fixed proxy response.
    json::object fn = {
        {"FunctionName", "web"},
        {"Runtime", "provided.al2023"},
        {"Handler", "x"},
        {"Role", "arn:aws:iam::000000000000:role/r"},
        {"Code", {{"ZipFile", scar::bench::runtime_zip_base64(dir.path(), SCAR_LAMBDA_RUNTIME_MIN_BIN)}}},
        {"Environment", {{"Variables", {{"BENCH_RESPONSE", R"({"statusCode":200,"body":"ok"})"}}}}}};
    must(c, signed_request("lambda", "POST", url + "/2015-03-31/functions", json::serialize(fn)), 201);

    // The REST API: ANY on the root, AWS_PROXY to the function, deployed to "bench".
    const auto api =
        must(c, signed_request("apigateway", "POST", url + "/restapis", R"({"name":"bench"})"), 201);
    const std::string id(api.at("id").as_string());
    const std::string root(api.at("rootResourceId").as_string());
    const std::string method = url + "/restapis/" + id + "/resources/" + root + "/methods/ANY";
    must(c, signed_request("apigateway", "PUT", method, R"({"authorizationType":"NONE"})"), 201);
    must(
        c,
        signed_request(
            "apigateway",
            "PUT",
            method + "/integration",
            R"({"type":"AWS_PROXY","httpMethod":"POST","uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:web/invocations"})"
        ),
        201
    );
    must(
        c,
        signed_request(
            "apigateway",
            "POST",
            url + "/restapis/" + id + "/deployments",
            R"({"stageName":"bench"})"
        ),
        201
    );
    const std::string endpoint = url + "/restapis/" + id + "/bench/_user_request_/";

    // Warm: one environment per connection.
    http::request get;
    get.url = endpoint;
    for (int i = 0; i < 3; ++i)
        if (c.send(get).value().status != 200) return 1;

    // Invoke, signed once; wrk sends the same signed request over and over.
    const auto invoke = signed_request("lambda", "POST", url + "/2015-03-31/functions/web/invocations", "{}");
    const auto script = dir.path() / "invoke.lua";
    {
        std::ofstream lua(script);
        lua << "wrk.method = \"POST\"\nwrk.body = \"{}\"\n";
        for (const auto& [k, v] : invoke.headers)
            if (scar::encoding::iequals(k, "authorization") || scar::encoding::iequals(k, "x-amz-date"))
                lua << "wrk.headers[\"" << k << "\"] = \"" << v << "\"\n";
    }
    const load gw = run_wrk(endpoint, "", seconds, connections);
    const load direct =
        run_wrk(url + "/2015-03-31/functions/web/invocations", script.string(), seconds, connections);
    std::printf(
        "wrk, %d connections, %.1f s each, warm function (static minimal runtime)\n",
        connections,
        seconds
    );
    std::printf(
        "  API Gateway -> Lambda:  %8.0f req/s   p50 %.3f ms   p99 %.3f ms\n",
        gw.rps,
        gw.p50_ms,
        gw.p99_ms
    );
    std::printf(
        "  Lambda Invoke directly: %8.0f req/s   p50 %.3f ms   p99 %.3f ms\n",
        direct.rps,
        direct.p50_ms,
        direct.p99_ms
    );
    std::printf(
        "  API Gateway / direct:   %.2fx throughput, %.2fx p50 latency\n",
        direct.rps > 0 ? gw.rps / direct.rps : 0.0,
        direct.p50_ms > 0 ? gw.p50_ms / direct.p50_ms : 0.0
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
