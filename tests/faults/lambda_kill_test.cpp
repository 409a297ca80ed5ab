// The emulator killed with SIGKILL while it accepts asynchronous invocations (Event
// invokes, and S3 notifications of PUTs): after the restarts every event that got its 202,
// or whose PUT was acknowledged, reaches the function at least once (counted in the
// function's log), and the queue drains.

#include <scar/sandbox/container.hpp>
#include <scar/testing/emulator_process.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "fault_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace scar::faults;

constexpr std::uint32_t seed = 4242;
constexpr int rounds = 6;
constexpr int invokers = 2;
constexpr int requests_per_thread = 10;

struct acceptance {
    std::mutex m;
    std::condition_variable cv;
    std::set<std::string> accepted;  ///< markers of events acknowledged (202, or the PUT's 200)
    std::uint64_t acks = 0;
    int finished = 0;
};

std::vector<std::string> emulator_args() {
    return {"--lambda-retry-delay-ms", "50", "--log-level", "warn"};
}

TEST(FaultsLambda, KillDuringEventInvokesAndS3Notifications) {
    if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
    seeded_rng rng(seed);
    scar::testing::temp_dir work("scar-faults-lambda");
    const fs::path data = work.path() / "data";
    std::set<std::string> accepted;
    int killed_mid_request = 0;

    for (int round = 0; round < rounds; ++round) {
        const auto round_start = std::chrono::steady_clock::now();
        scar::testing::emulator_process emu(data, emulator_args());
        const std::string url = emu.url();
        for (const auto& f : files_ending(data / "lambda" / "queue", ".tmp"))
            ADD_FAILURE() << "round " << round << ": unacknowledged event left in the queue: " << f;
        if (round == 0) {
            (void)create_function(url, "sink", bootstrap_zip_base64(sink_runtime, work.path()), 5);
            const auto reserved = call(
                url,
                "lambda",
                "PUT",
                "/2017-10-31/functions/sink/concurrency",
                R"({"ReservedConcurrentExecutions":3})"
            );
            ASSERT_TRUE(reserved && reserved->status == 200);
            ASSERT_EQ(status_of(call(url, "s3", "PUT", "/events")), 200);
            const auto cfg = call(
                url,
                "s3",
                "PUT",
                "/events?notification",
                "<NotificationConfiguration><CloudFunctionConfiguration><Id>to-sink</Id><CloudFunction>"
                "arn:aws:lambda:us-east-1:000000000000:function:sink</CloudFunction><Event>s3:ObjectCreated:*"
                "</Event></CloudFunctionConfiguration></NotificationConfiguration>"
            );
            ASSERT_TRUE(cfg && cfg->status == 200) << (cfg ? cfg->body : cfg.error().what());
        }

        acceptance acc;
        const auto accept = [&acc](std::string marker) {
            {
                const std::lock_guard lock(acc.m);
                acc.accepted.insert(std::move(marker));
                ++acc.acks;
            }
            acc.cv.notify_all();
        };
        const auto finish = [&acc] {
            {
                const std::lock_guard lock(acc.m);
                ++acc.finished;
            }
            acc.cv.notify_all();
        };
        std::vector<std::thread> threads;
        for (int t = 0; t < invokers; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < requests_per_thread; ++i) {
                    const auto marker =
                        "ev-" + std::to_string(round) + "-" + std::to_string(t) + "-" + std::to_string(i);
                    const auto r = invoke(url, "sink", R"({"marker":")" + marker + R"("})", "Event");
                    if (!r) break;  // the emulator died
                    EXPECT_EQ(r->status, 202) << r->body;
                    if (r->status == 202) accept(marker);
                }
                finish();
            });
        }
        threads.emplace_back([&] {
            for (int i = 0; i < requests_per_thread; ++i) {
                const auto marker = "obj-" + std::to_string(round) + "-" + std::to_string(i);
                const auto r = call(url, "s3", "PUT", "/events/" + marker, marker);
                if (!r) break;
                EXPECT_EQ(r->status, 200) << r->body;
                if (r->status == 200) accept(marker);
            }
            finish();
        });
        const std::uint64_t kill_after = rng.between(1, 2 * requests_per_thread);
        {
            std::unique_lock lock(acc.m);
            acc.cv.wait(lock, [&] { return acc.acks >= kill_after || acc.finished == invokers + 1; });
            if (acc.finished < invokers + 1) ++killed_mid_request;
        }
        emu.process().stop(SIGKILL);
        for (auto& t : threads) t.join();
        accepted.insert(acc.accepted.begin(), acc.accepted.end());
        std::cout << "[ round    ] " << round << ": " << acc.accepted.size() << " accepted in "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - round_start
                     )
                         .count()
                  << " ms\n";
    }

    // After the last restart every accepted event is delivered, and the queue drains.
    std::cout << "[ faults   ] " << count_files(data / "lambda" / "queue")
              << " events queued at the last restart\n";
    scar::testing::emulator_process emu(data, emulator_args());
    const auto drain_start = std::chrono::steady_clock::now();
    std::set<std::string> missing;
    const bool all = poll_until(
        [&] {
            std::set<std::string> seen;
            for (const auto& line : log_messages(emu.url(), "/aws/lambda/sink", "got ")) {
                for (const char* prefix : {"ev-", "obj-"}) {
                    for (auto at = line.find(prefix); at != std::string::npos;
                         at = line.find(prefix, at + 1)) {
                        const auto end = line.find_first_of("\"", at);
                        seen.insert(line.substr(at, end - at));
                    }
                }
            }
            missing.clear();
            std::set_difference(
                accepted.begin(),
                accepted.end(),
                seen.begin(),
                seen.end(),
                std::inserter(missing, missing.end())
            );
            return missing.empty();
        },
        60s,
        100ms
    );
    std::cout << "[ faults   ] delivered in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - drain_start
                 )
                     .count()
              << " ms after the last restart\n";
    EXPECT_TRUE(all) << missing.size() << " of " << accepted.size()
                     << " accepted events never delivered, e.g. "
                     << (missing.empty() ? std::string() : *missing.begin());
    EXPECT_TRUE(poll_until([&] { return count_files(data / "lambda" / "queue") == 0; }, 30s))
        << count_files(data / "lambda" / "queue") << " events still queued";
    EXPECT_FALSE(fs::exists(data / "lambda" / "dead-letters.jsonl")) << "an event failed every attempt";
    std::cout << "[ faults   ] " << rounds << " kills, " << killed_mid_request
              << " while requests were in flight, " << accepted.size() << " accepted events, all delivered\n";
    EXPECT_GT(killed_mid_request, rounds / 2);
}

}  // namespace
