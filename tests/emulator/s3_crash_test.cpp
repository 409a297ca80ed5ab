// The emulator killed with SIGKILL during concurrent PUTs, then restarted: every object is
// either the old one or the complete new one, and no uncommitted body is left on disk.

#include <scar/core/http.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <random>
#include <thread>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace http = scar::http;
using namespace std::chrono_literals;

std::string content(int trial, int key) {
    std::string s(256 * 1024 + static_cast<std::size_t>(key) * 1000, '\0');
    std::uint32_t x = static_cast<std::uint32_t>(trial * 7919 + key * 104729 + 1);
    for (auto& c : s) {
        x = x * 1664525U + 1013904223U;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

TEST(S3Crash, KillDuringConcurrentPutsLeavesOldOrNewObjects) {
    constexpr int keys = 8;
    constexpr int trials = 50;
    scar::testing::temp_dir dir("scar-crash");
    std::array<int, keys> version{};  // which trial's content each key holds; -1: none yet
    version.fill(-1);
    std::mt19937 rng(12345);
    int killed_mid_write = 0;

    for (int trial = 0; trial < trials; ++trial) {
        scar::testing::emulator_process emu(dir.path());
        if (trial == 0) {
            ASSERT_EQ(emu.s3("PUT", "/crash").status, 200);
        }
        // Everything from the previous trial is intact.
        for (int k = 0; k < keys; ++k) {
            const auto got = emu.s3("GET", "/crash/k" + std::to_string(k));
            const int old = version[static_cast<std::size_t>(k)];
            if (old < 0 && got.status == 404) continue;
            ASSERT_EQ(got.status, 200) << "trial " << trial << " key " << k;
            const bool is_old = old >= 0 && got.body == content(old, k);
            const bool is_new = got.body == content(trial - 1, k);
            ASSERT_TRUE(is_old || is_new) << "trial " << trial << " key " << k
                                          << ": a mixed or partial object (" << got.body.size() << " bytes)";
            if (is_new) version[static_cast<std::size_t>(k)] = trial - 1;
        }
        // Bodies on disk are exactly those of the objects: nothing uncommitted survives.
        std::size_t bodies = 0;
        for (const auto& f : fs::recursive_directory_iterator(dir.path() / "s3/data"))
            bodies += f.is_regular_file() ? 1 : 0;
        std::size_t objects = 0;
        for (const auto v : version) objects += v >= 0 ? 1 : 0;
        EXPECT_EQ(bodies, objects) << "trial " << trial;

        // Concurrent PUTs of new content; SIGKILL once a random amount has been sent.
        const std::uint64_t kill_after =
            std::uniform_int_distribution<std::uint64_t>(0, keys * 256 * 1024)(rng);
        std::atomic<std::uint64_t> sent{0};
        std::mutex m;
        std::condition_variable cv;
        std::atomic<int> finished{0};
        std::vector<std::thread> writers;
        for (int k = 0; k < keys; ++k) {
            writers.emplace_back([&, k] {
                http::options o;
                o.retry.max_attempts = 1;
                std::uint64_t mine = 0;
                o.on_progress = [&](const http::progress& p) {
                    sent += p.upload_now - mine;
                    mine = p.upload_now;
                    if (sent >= kill_after) cv.notify_all();
                    return true;
                };
                http::client client(o);
                http::request req;
                req.method = "PUT";
                req.url = emu.url() + "/crash/k" + std::to_string(k);
                req.body = content(trial, k);
                scar::testing::sign_for_emulator(req, "s3");
                (void)client.send(req);  // fails when the server dies mid-request
                ++finished;
                cv.notify_all();
            });
        }
        {
            std::unique_lock lock(m);
            cv.wait_for(lock, 60s, [&] { return sent >= kill_after || finished == keys; });
        }
        if (finished < keys) ++killed_mid_write;
        emu.process().stop(SIGKILL);
        for (auto& t : writers) t.join();
    }
    // The kill must really have landed during writes in most trials.
    EXPECT_GT(killed_mid_write, trials / 2);
}

}  // namespace
