// Batch on scar-emulator: a no-op job's scheduling overhead (SubmitJob → RUNNING,
// RUNNING → SUCCEEDED, from the jobs' own timestamps) and the throughput of N no-op jobs on
// a 16-vCPU compute environment, against the Lambda path for the same no-op work in the
// same run: a cold invoke, and N invocations from 16 concurrent clients of a warm function.
// Both run in sandboxed containers; a Batch job always gets a fresh one, as on AWS.
//
//   build/bin/scar_batch_macro_bench [--jobs N]

#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/image/build.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/sandbox/container.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "bench_support.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace http = scar::http;
namespace json = boost::json;
using scar::bench::opts;

/// A signed request: REST-JSON (`path` set) or JSON 1.1 (`target` set, POST /).
http::response send(
    http::client& c,
    const std::string& url,
    const std::string& service,
    const std::string& path,
    const std::string& body,
    const std::string& target = {}
) {
    http::request req;
    req.method = "POST";
    req.url = url + (target.empty() ? path : "/");
    req.body = body;
    req.headers.emplace_back(
        "Content-Type",
        target.empty() ? "application/json" : "application/x-amz-json-1.1"
    );
    if (!target.empty()) req.headers.emplace_back("X-Amz-Target", target);
    return c.send(scar::bench::sign(std::move(req), service)).value();
}

json::object batch(http::client& c, const std::string& url, const std::string& op, const json::object& body) {
    const auto r = send(c, url, "batch", "/v1/" + op, json::serialize(body));
    if (r.status != 200) {
        std::fprintf(stderr, "%s: HTTP %d %s\n", op.c_str(), r.status, r.body.c_str());
        throw scar::bench::failure{};
    }
    return json::parse(r.body).as_object();
}

std::string submit(http::client& c, const std::string& url, const std::string& name) {
    return std::string(
        batch(c, url, "submitjob", {{"jobName", name}, {"jobQueue", "q"}, {"jobDefinition", "noop"}})
            .at("jobId")
            .as_string()
    );
}

/// Polls DescribeJobs (100 ids a call) until every job ended; the jobs, in order.
std::vector<json::object> wait_all(
    http::client& c,
    const std::string& url,
    const std::vector<std::string>& ids
) {
    std::vector<json::object> done(ids.size());
    std::size_t finished = 0;
    const auto deadline = steady::now() + 10min;
    while (finished < ids.size() && steady::now() < deadline) {
        finished = 0;
        for (std::size_t from = 0; from < ids.size(); from += 100) {
            json::array chunk;
            for (std::size_t i = from; i < std::min(ids.size(), from + 100); ++i) chunk.emplace_back(ids[i]);
            const auto out = batch(c, url, "describejobs", {{"jobs", chunk}});
            for (const auto& j : out.at("jobs").as_array()) {
                const auto& o = j.as_object();
                const auto at = std::find(ids.begin(), ids.end(), std::string(o.at("jobId").as_string()));
                done[static_cast<std::size_t>(at - ids.begin())] = o;
            }
        }
        for (const auto& j : done) {
            if (!j.contains("status")) continue;
            const auto& s = j.at("status").as_string();
            if (s == "SUCCEEDED") ++finished;
            if (s == "FAILED") {
                std::fprintf(stderr, "a job failed: %s\n", json::serialize(j).c_str());
                throw scar::bench::failure{};
            }
        }
        if (finished < ids.size()) std::this_thread::sleep_for(5ms);  // Batch has no push: poll
    }
    if (finished < ids.size()) throw scar::bench::failure{};
    return done;
}

std::int64_t median(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int run(int argc, char** argv) {
    int jobs = 500;
    for (int i = 1; i + 1 < argc; i += 2)
        if (std::strcmp(argv[i], "--jobs") == 0) jobs = std::max(1, std::stoi(argv[i + 1]));
    if (auto ok = scar::sandbox::check_available(); !ok) {
        std::fprintf(stderr, "containers are not available here: %s\n", ok.error().message.c_str());
        return 1;
    }
    scar::testing::temp_dir dir("scar-bench-batch");
    const auto started = scar::bench::start_emulator(dir.path(), {"--batch-vcpus", "16"});
    auto& emu = *started.process;
    const std::string& url = started.url;
    http::client c;

    // A busybox image in the emulator's ECR.
    const auto root = dir.path() / "rootfs";
    fs::create_directories(root / "bin");
    fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
    for (const char* applet : {"sh", "true"}) fs::create_symlink("busybox", root / "bin" / applet);
    if (send(
            c,
            url,
            "ecr",
            "",
            R"({"repositoryName":"box"})",
            "AmazonEC2ContainerRegistry_V20150921.CreateRepository"
        )
            .status != 200)
        return 1;
    scar::image::build_request req;
    req.layers = {root};
    req.changes.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
    req.changes.env = {"PATH=/bin"};
    req.target = scar::image::parse_reference(url.substr(7) + "/box:1").value();
    scar::image::registry_options ro;
    ro.auth.use_docker_config = false;
    ro.auth.explicit_credentials = scar::image::credentials{"test", "test", {}};
    if (!scar::image::build_image(req, scar::image::store(dir.path() / "store"), ro)) return 1;

    // Batch: 16 vCPUs, a queue, a 1-vCPU no-op job definition.
    batch(
        c,
        url,
        "createcomputeenvironment",
        {{"computeEnvironmentName", "ce"},
         {"type", "MANAGED"},
         {"computeResources",
          {{"type", "EC2"}, {"maxvCpus", 16}, {"subnets", json::array{"s"}}, {"instanceRole", "r"}}}}
    );
    batch(
        c,
        url,
        "createjobqueue",
        {{"jobQueueName", "q"},
         {"priority", 1},
         {"computeEnvironmentOrder", json::array{json::object{{"order", 1}, {"computeEnvironment", "ce"}}}}}
    );
    batch(
        c,
        url,
        "registerjobdefinition",
        {{"jobDefinitionName", "noop"},
         {"type", "container"},
         {"containerProperties",
          {{"image", "000000000000.dkr.ecr.us-east-1.amazonaws.com/box:1"},
           {"command", json::array{"true"}},
           {"resourceRequirements",
            json::array{
                json::object{{"type", "VCPU"}, {"value", "1"}},
                json::object{{"type", "MEMORY"}, {"value", "128"}}}}}}}
    );
    wait_all(c, url, {submit(c, url, "warm")});  // the image is pulled and unpacked once

    std::vector<std::int64_t> to_running, running_to_done;
    for (int i = 0; i < 10; ++i) {
        const auto j = wait_all(c, url, {submit(c, url, "one")}).front();
        to_running.push_back(j.at("startedAt").as_int64() - j.at("createdAt").as_int64());
        running_to_done.push_back(j.at("stoppedAt").as_int64() - j.at("startedAt").as_int64());
    }
    const auto t0 = steady::now();
    std::vector<std::string> ids;
    for (int i = 0; i < jobs; ++i) ids.push_back(submit(c, url, "many"));
    wait_all(c, url, ids);
    const double batch_secs = std::chrono::duration<double>(steady::now() - t0).count();

    // Lambda: the same no-op as a Zip function (the static minimal runtime).
    const json::object fn = {
        {"FunctionName", "noop"},
        {"Runtime", "provided.al2023"},
        {"Handler", "x"},
        {"Role", "arn:aws:iam::000000000000:role/r"},
        {"Code", {{"ZipFile", scar::bench::runtime_zip_base64(dir.path(), SCAR_LAMBDA_RUNTIME_MIN_BIN)}}}};
    if (send(c, url, "lambda", "/2015-03-31/functions", json::serialize(fn)).status != 201) return 1;
    const std::string invoke = "/2015-03-31/functions/noop/invocations";
    const auto cold0 = steady::now();
    if (send(c, url, "lambda", invoke, "{}").status != 200) return 1;
    const double cold_ms = std::chrono::duration<double, std::milli>(steady::now() - cold0).count();
    std::atomic<int> next{0}, failed{0};
    const auto t1 = steady::now();
    std::vector<std::thread> clients;
    for (int k = 0; k < 16; ++k) {
        clients.emplace_back([&] {
            http::client mine;
            while (next.fetch_add(1) < jobs)
                if (send(mine, url, "lambda", invoke, "{}").status != 200) ++failed;
        });
    }
    for (auto& t : clients) t.join();
    const double lambda_secs = std::chrono::duration<double>(steady::now() - t1).count();
    if (failed > 0) {
        std::fprintf(stderr, "%d invocations failed\n", failed.load());
        return 1;
    }

    std::printf(
        "no-op work on scar-emulator, this machine's %u cores\n",
        std::thread::hardware_concurrency()
    );
    std::printf(
        "  Batch job (fresh container each): submit->RUNNING %lld ms, RUNNING->SUCCEEDED %lld ms (median of "
        "10)\n",
        static_cast<long long>(median(to_running)),
        static_cast<long long>(median(running_to_done))
    );
    std::printf(
        "  Batch, %d jobs on 16 vCPUs: %.2f s, %.1f jobs/s (submission and polling included)\n",
        jobs,
        batch_secs,
        jobs / batch_secs
    );
    std::printf("  Lambda cold invoke: %.1f ms\n", cold_ms);
    std::printf(
        "  Lambda, %d invocations from 16 clients: %.2f s, %.1f invocations/s\n",
        jobs,
        lambda_secs,
        jobs / lambda_secs
    );
    std::printf("  Lambda / Batch throughput: %.1fx\n", (jobs / lambda_secs) / (jobs / batch_secs));
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
