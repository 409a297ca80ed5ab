// The emulator killed with SIGKILL while Batch jobs are being submitted, queued and run
// (plain jobs, an array job and jobs depending on it, on two vCPUs so some wait): the
// killed emulator's containers go with it, and after the restart no job is in an
// impossible state — every acknowledged submission exists, a RUNNING job has a process,
// SUCCEEDED and FAILED jobs have their timestamps and reasons, an array job's children add
// up — and every job queued before the kill runs to its end.

#include <scar/image/build.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/sandbox/container.hpp>
#include <scar/testing/emulator_process.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "fault_support.hpp"
#include <dirent.h>

namespace {

namespace fs = std::filesystem;
namespace img = scar::image;
using namespace scar::faults;

constexpr std::uint32_t seed = 777;
constexpr int rounds = 10;
constexpr int array_size = 4;
const std::string ecr_image = "000000000000.dkr.ecr.us-east-1.amazonaws.com/box:1";

std::vector<std::string> emulator_args() {
    return {"--batch-vcpus", "2", "--batch-kill-grace-ms", "200", "--log-level", "warn"};
}

json::object batch(const std::string& url, const std::string& op, const json::object& body) {
    const auto r = call(
        url,
        "batch",
        "POST",
        "/v1/" + op,
        json::serialize(body),
        {{"Content-Type", "application/json"}}
    );
    EXPECT_TRUE(r && r->status == 200) << op << ": " << (r ? r->body : r.error().what());
    if (!r || r->status != 200) return {};
    const auto v = json_of(*r);
    return v.is_object() ? v.as_object() : json::object{};
}

/// A busybox image in the emulator's ECR (repository "box", tag "1").
void push_image(const std::string& url, const fs::path& work) {
    const auto repo = call_json11(
        url,
        "ecr",
        "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
        {{"repositoryName", "box"}}
    );
    ASSERT_TRUE(repo && repo->status == 200) << (repo ? repo->body : repo.error().what());
    const auto root = work / "rootfs";
    fs::create_directories(root / "bin");
    fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
    for (const char* applet : {"sh", "echo", "sleep", "true", "false"})
        fs::create_symlink("busybox", root / "bin" / applet);
    img::build_request req;
    req.layers = {root};
    req.changes.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
    req.changes.env = {"PATH=/bin"};
    req.target = img::parse_reference(url.substr(7) + "/box:1").value();
    img::registry_options ro;
    ro.auth.use_docker_config = false;
    ro.auth.explicit_credentials = img::credentials{"test", "test", {}};
    const auto built = img::build_image(req, img::store(work / "store"), ro);
    ASSERT_TRUE(built) << built.error().what();
}

std::string job_status(const json::object& j) {
    const auto* s = j.if_contains("status");
    return s != nullptr && s->is_string() ? std::string(s->as_string()) : std::string();
}

std::int64_t int_of(const json::object& j, const char* name) {
    const auto* v = j.if_contains(name);
    return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

bool terminal(const std::string& s) {
    return s == "SUCCEEDED" || s == "FAILED";
}

/// DescribeJobs for any number of ids: id → job.
std::map<std::string, json::object> describe(const std::string& url, const std::vector<std::string>& ids) {
    std::map<std::string, json::object> out;
    for (std::size_t from = 0; from < ids.size(); from += 100) {
        json::array batch_ids;
        for (std::size_t i = from; i < ids.size() && i < from + 100; ++i) batch_ids.emplace_back(ids[i]);
        const auto r = batch(url, "describejobs", {{"jobs", batch_ids}});
        if (!r.contains("jobs")) continue;
        for (const auto& j : r.at("jobs").as_array())
            out[std::string(j.at("jobId").as_string())] = j.as_object();
    }
    return out;
}

/// PIDs of host processes whose environment has AWS_BATCH_JOB_ID=<id>, by id.
std::map<std::string, std::vector<int>> job_processes() {
    std::map<std::string, std::vector<int>> out;
    DIR* d = ::opendir("/proc");
    if (d == nullptr) return out;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/environ", std::ios::binary);
        std::string var;
        while (std::getline(in, var, '\0')) {
            if (var.starts_with("AWS_BATCH_JOB_ID=")) {
                out[var.substr(17)].push_back(std::atoi(e->d_name));
                break;
            }
        }
    }
    ::closedir(d);
    return out;
}

/// A job as the test submitted it.
struct submitted {
    std::string id;
    bool array = false;
    std::string depends_on;  ///< empty: none
    std::string command;
};

/// The invariants every job satisfies at any moment.
void check_consistent(const std::map<std::string, json::object>& jobs, int round, const char* when) {
    static const std::set<std::string>
        statuses{"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"};
    for (const auto& [id, j] : jobs) {
        const auto s = job_status(j);
        const std::string where =
            "round " + std::to_string(round) + " " + when + ", job " + id + " (" + s + "): ";
        EXPECT_TRUE(statuses.contains(s)) << where << "unknown status";
        if (s == "SUCCEEDED" || s == "FAILED") {
            EXPECT_GT(int_of(j, "stoppedAt"), 0) << where << "no stoppedAt";
        }
        if (s == "SUCCEEDED") {
            EXPECT_GT(int_of(j, "startedAt"), 0) << where << "no startedAt";
            EXPECT_GE(int_of(j, "stoppedAt"), int_of(j, "startedAt")) << where << "stopped before it started";
        }
        if (s == "FAILED") {
            const auto* reason = j.if_contains("statusReason");
            EXPECT_TRUE(reason != nullptr && reason->is_string() && !reason->as_string().empty())
                << where << "FAILED without a statusReason";
        }
        if (s == "RUNNING") {
            EXPECT_GT(int_of(j, "startedAt"), 0) << where << "RUNNING without startedAt";
        }
        const auto* ap = j.if_contains("arrayProperties");
        if (ap == nullptr || !ap->as_object().contains("statusSummary")) continue;
        // An array parent: its children's counts add up to its size, and its status follows them.
        const auto& summary = ap->as_object().at("statusSummary").as_object();
        std::int64_t total = 0;
        for (const auto& [k, v] : summary) total += v.as_int64();
        EXPECT_EQ(total, ap->as_object().at("size").as_int64()) << where << json::serialize(summary);
        const auto count = [&](const char* k) { return summary.contains(k) ? summary.at(k).as_int64() : 0; };
        if (s == "SUCCEEDED") {
            EXPECT_EQ(count("SUCCEEDED"), total) << where << json::serialize(summary);
        }
        if (s == "FAILED") {
            EXPECT_GT(count("FAILED"), 0) << where << json::serialize(summary);
            EXPECT_EQ(count("FAILED") + count("SUCCEEDED"), total) << where << json::serialize(summary);
        }
    }
}

/// Every RUNNING job has a process (a job may finish meanwhile: then it is described again).
void check_running_have_processes(const std::string& url, const std::vector<std::string>& ids, int round) {
    std::vector<std::string> suspects;
    for (const auto& [id, j] : describe(url, ids))
        if (job_status(j) == "RUNNING") suspects.push_back(id);
    for (const auto& id : suspects) {
        const bool fine = poll_until(
            [&] {
                if (job_processes().contains(id)) return true;
                const auto now = describe(url, {id});
                return now.contains(id) && job_status(now.at(id)) != "RUNNING";
            },
            5s
        );
        EXPECT_TRUE(fine) << "round " << round << ": job " << id << " RUNNING with no process";
    }
}

TEST(FaultsBatch, KillDuringSchedulingLeavesNoImpossibleJob) {
    if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
    seeded_rng rng(seed);
    scar::testing::temp_dir work("scar-faults-batch");
    const fs::path data = work.path() / "data";
    auto emu = std::make_unique<scar::testing::emulator_process>(data, emulator_args());
    push_image(emu->url(), work.path());
    batch(
        emu->url(),
        "createcomputeenvironment",
        {{"computeEnvironmentName", "ce"},
         {"type", "MANAGED"},
         {"computeResources",
          {{"type", "EC2"}, {"maxvCpus", 2}, {"subnets", json::array{"s"}}, {"instanceRole", "r"}}}}
    );
    batch(
        emu->url(),
        "createjobqueue",
        {{"jobQueueName", "q"},
         {"priority", 1},
         {"computeEnvironmentOrder", json::array{json::object{{"order", 1}, {"computeEnvironment", "ce"}}}}}
    );
    batch(
        emu->url(),
        "registerjobdefinition",
        {{"jobDefinitionName", "def"},
         {"type", "container"},
         {"containerProperties",
          {{"image", ecr_image},
           {"command", json::array{"true"}},
           {"resourceRequirements",
            json::array{
                json::object{{"type", "VCPU"}, {"value", "1"}},
                json::object{{"type", "MEMORY"}, {"value", "64"}}}}}}}
    );

    std::vector<submitted> all;
    int interrupted_total = 0;
    for (int round = 0; round < rounds; ++round) {
        const std::string url = emu->url();
        // Submissions and observed state changes are the events the kill is placed after.
        const std::uint64_t kill_after = rng.between(1, 30);
        std::atomic<std::uint64_t> events{0};
        std::atomic<bool> dead{false};
        std::mutex m;
        std::vector<submitted> mine;
        std::thread submitter([&] {
            const auto submit = [&](const std::string& name, const std::string& command, json::object extra) {
                json::object body{
                    {"jobName", name},
                    {"jobQueue", "q"},
                    {"jobDefinition", "def"},
                    {"containerOverrides", {{"command", json::array{json::value(command)}}}}};
                for (const auto& [k, v] : extra) body[k] = v;
                const auto r = call(url, "batch", "POST", "/v1/submitjob", json::serialize(body));
                if (!r) {
                    dead = true;
                    return std::string();
                }
                EXPECT_EQ(r->status, 200) << r->body;
                const auto v = json_of(*r);
                if (r->status != 200 || !v.is_object()) return std::string();
                ++events;
                return std::string(v.at("jobId").as_string());
            };
            const auto add = [&](submitted s) {
                const std::lock_guard lock(m);
                mine.push_back(std::move(s));
            };
            for (int i = 0; i < 2 && !dead; ++i) {
                if (auto id = submit("sleepy", "sleep 0.3", {}); !id.empty()) add({id, false, "", "sleep"});
            }
            std::string array_id;
            if (!dead)
                array_id = submit(
                    "arr",
                    "echo $AWS_BATCH_JOB_ARRAY_INDEX",
                    {{"arrayProperties", {{"size", array_size}}}}
                );
            if (!array_id.empty()) add({array_id, true, "", "echo"});
            if (!array_id.empty() && !dead) {
                if (auto id = submit(
                        "after",
                        "true",
                        {{"dependsOn", json::array{json::object{{"jobId", array_id}}}}}
                    );
                    !id.empty())
                    add({id, false, array_id, "true"});
            }
            for (int i = 0; i < 2 && !dead; ++i) {
                if (auto id = submit("quick", "true", {}); !id.empty()) add({id, false, "", "true"});
            }
        });
        // Watch the jobs' states; every change seen is an event.
        std::map<std::string, std::string> last;
        while (events < kill_after && !dead) {
            std::vector<std::string> ids;
            {
                const std::lock_guard lock(m);
                for (const auto& s : mine) {
                    ids.push_back(s.id);
                    if (s.array)
                        for (int i = 0; i < array_size; ++i) ids.push_back(s.id + ":" + std::to_string(i));
                }
            }
            bool all_done = ids.size() >= 6 + array_size;
            for (const auto& [id, j] : describe(url, ids)) {
                const auto s = job_status(j);
                if (last[id] != s) ++events;
                last[id] = s;
                all_done = all_done && terminal(s);
            }
            if (all_done) break;  // everything finished before the chosen moment
        }
        emu->process().stop(SIGKILL);
        submitter.join();
        std::map<std::string, int> at_kill;
        for (const auto& [id, st] : last) ++at_kill[st];
        std::cout << "[ round    ] " << round << ": killed after " << events.load() << " events ("
                  << mine.size() << " submissions acknowledged; last seen:";
        for (const auto& [st, n] : at_kill) std::cout << " " << st << "=" << n;
        std::cout << ")\n";
        std::vector<std::string> ids;
        for (const auto& s : mine) {
            all.push_back(s);
            ids.push_back(s.id);
            if (s.array)
                for (int i = 0; i < array_size; ++i) ids.push_back(s.id + ":" + std::to_string(i));
        }

        // The killed emulator's containers die with it.
        std::set<std::string> ours(ids.begin(), ids.end());
        const bool gone = poll_until(
            [&] {
                for (const auto& [id, pids] : job_processes())
                    if (ours.contains(id)) return false;
                return true;
            },
            10s
        );
        EXPECT_TRUE(gone) << "round " << round << ": a job's container outlived the killed emulator";

        // Restart: every acknowledged submission is there, nothing is impossible.
        emu = std::make_unique<scar::testing::emulator_process>(data, emulator_args());
        const auto after = describe(emu->url(), ids);
        for (const auto& id : ids)
            EXPECT_TRUE(after.contains(id)) << "round " << round << ": job " << id << " lost";
        check_consistent(after, round, "after the restart");
        check_running_have_processes(emu->url(), ids, round);

        // Everything runs to its end: jobs interrupted by the kill FAILED (not retried), the
        // rest SUCCEEDED, and a dependant follows its array job.
        std::map<std::string, json::object> final_state;
        const bool settled = poll_until(
            [&] {
                final_state = describe(emu->url(), ids);
                return std::all_of(final_state.begin(), final_state.end(), [](const auto& kv) {
                    return terminal(job_status(kv.second));
                });
            },
            30s
        );
        EXPECT_TRUE(settled) << "round " << round << ": jobs never finished after the restart";
        check_consistent(final_state, round, "at the end");
        const auto interrupted = [&](const std::string& id) {
            if (!final_state.contains(id)) return false;
            for (const auto& a : final_state.at(id).at("attempts").as_array()) {
                const std::string_view reason = a.at("statusReason").as_string();
                if (reason.find("emulator stopped") != std::string_view::npos) return true;
            }
            return false;
        };
        const auto ran_to_the_end = [&](const std::string& id) {
            if (!final_state.contains(id)) return;
            const auto& j = final_state.at(id);
            if (interrupted(id)) {
                ++interrupted_total;
                EXPECT_EQ(job_status(j), "FAILED") << id << ": " << json::serialize(j);
                EXPECT_NE(
                    std::string(j.at("statusReason").as_string()).find("emulator stopped"),
                    std::string::npos
                ) << id
                  << ": " << json::serialize(j);
            } else {
                EXPECT_EQ(job_status(j), "SUCCEEDED") << id << ": " << json::serialize(j);
            }
        };
        for (const auto& s : mine) {
            if (s.array) {
                for (int i = 0; i < array_size; ++i) ran_to_the_end(s.id + ":" + std::to_string(i));
            } else if (s.depends_on.empty()) {
                ran_to_the_end(s.id);
            } else if (final_state.contains(s.depends_on) && job_status(final_state.at(s.depends_on)) == "SUCCEEDED") {
                ran_to_the_end(s.id);
            } else if (final_state.contains(s.id)) {
                EXPECT_EQ(job_status(final_state.at(s.id)), "FAILED") << s.id;
                EXPECT_EQ(final_state.at(s.id).at("statusReason"), "Dependent Job failed") << s.id;
            }
        }
    }
    std::cout << "[ faults   ] " << rounds << " kills, " << all.size() << " jobs submitted, "
              << interrupted_total << " attempts interrupted by a kill\n";
}

}  // namespace
