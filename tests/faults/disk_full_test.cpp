// The emulator on a full disk: its data directory is an 8 MiB tmpfs in a private mount
// namespace. S3 writes that do not fit get a clean 500 InternalError naming the full
// disk, what was stored before stays intact, no partial object or orphaned body appears,
// the emulator restarts on the full disk, and writes succeed again once space is freed.
// Lambda and Logs: an Event invoke that cannot be persisted is refused (no 202), log
// writes fail without destroying what was stored, and the emulator keeps serving.

#include <scar/core/encoding.hpp>
#include <scar/sandbox/container.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <map>

#include "fault_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace scar::faults;

constexpr std::size_t disk_bytes = 8U << 20;

std::string error_code(const scar::http::response& r) {
    if (const auto c = xml_first(r.body, "Code"); !c.empty()) return c;
    if (const auto t = r.header("x-amzn-ErrorType")) return std::string(*t);
    const auto v = json_of(r);
    if (v.is_object() && v.as_object().contains("__type")) return std::string(v.at("__type").as_string());
    return {};
}

/// Keys through ListObjectsV2 (one page: the test stores few).
std::map<std::string, std::string> listing(const std::string& url, const std::string& bucket) {
    std::map<std::string, std::string> out;
    const auto r = call(url, "s3", "GET", "/" + bucket + "?list-type=2");
    EXPECT_TRUE(r && r->status == 200);
    if (!r) return out;
    for (const auto& c : xml_all(r->body, "Contents"))
        out[xml_first(c, "Key")] = unquote_etag(xml_first(c, "ETag"));
    return out;
}

class FaultsDiskFull : public ::testing::Test {
protected:
    void SetUp() override {
        disk_ = std::make_unique<private_tmpfs>(dir_.path(), disk_bytes);
        if (!disk_->unavailable().empty()) GTEST_SKIP() << disk_->unavailable();
    }

    std::unique_ptr<wrapped_emulator> start(std::vector<std::string> args = {}) {
        args.insert(args.end(), {"--log-level", "error"});
        return std::make_unique<wrapped_emulator>(disk_->enter(), dir_.path(), std::move(args));
    }

    /// Every object body on disk belongs to an object, and nothing is being written.
    void expect_no_leftovers(std::size_t objects) {
        const auto s3 = disk_->outside(dir_.path() / "s3");
        EXPECT_EQ(count_files(s3 / "data"), objects) << "object bodies on disk";
        EXPECT_EQ(count_files(s3 / "tmp"), 0U);
        for (const auto& f : files_ending(disk_->outside(dir_.path()), ".tmp"))
            ADD_FAILURE() << "leftover " << f;
    }

    scar::testing::temp_dir dir_{"scar-faults-disk"};
    std::unique_ptr<private_tmpfs> disk_;
};

TEST_F(FaultsDiskFull, S3WritesFailCleanlyAndSucceedAgainOnceSpaceIsFreed) {
    auto emu = start();
    ASSERT_EQ(status_of(call(emu->url(), "s3", "PUT", "/full")), 200);
    std::map<std::string, std::string> stored;  // key → body
    for (int i = 0; i < 4; ++i) {
        const auto key = "keep-" + std::to_string(i);
        stored[key] = body_bytes(static_cast<std::uint64_t>(i), 10'000 + static_cast<std::size_t>(i));
        ASSERT_EQ(status_of(call(emu->url(), "s3", "PUT", "/full/" + key, stored[key])), 200);
    }
    // 1 MiB objects until the disk is full: the first that does not fit fails cleanly.
    scar::http::response refused;
    int filled = 0;
    for (; filled < 16; ++filled) {
        const auto key = "fill-" + std::to_string(filled);
        auto body = body_bytes(100 + static_cast<std::uint64_t>(filled), 1U << 20);
        const auto r = call(emu->url(), "s3", "PUT", "/full/" + key, body);
        ASSERT_TRUE(r) << "the emulator died on a full disk: " << r.error().what();
        if (r->status != 200) {
            refused = *r;
            break;
        }
        stored[key] = std::move(body);
    }
    ASSERT_LT(filled, 16) << "8 MiB held 16 MiB?";
    EXPECT_EQ(refused.status, 500) << refused.body;
    EXPECT_EQ(error_code(refused), "InternalError") << refused.body;
    EXPECT_NE(refused.body.find("full"), std::string::npos)
        << "the message should say the disk is full: " << refused.body;
    // Larger and smaller writes on the full disk: refused the same way, never half-stored.
    const auto big = call(emu->url(), "s3", "PUT", "/full/big", body_bytes(7, 3U << 20));
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 500) << big->body;
    disk_->fill("filler");  // the last bytes too
    const auto tiny = call(emu->url(), "s3", "PUT", "/full/tiny", "x");
    ASSERT_TRUE(tiny);
    EXPECT_EQ(tiny->status, 500) << tiny->body;
    EXPECT_EQ(error_code(*tiny), "InternalError") << tiny->body;
    const auto mp = call(emu->url(), "s3", "POST", "/full/multi?uploads");
    ASSERT_TRUE(mp);
    if (mp->status == 200) {
        const auto part = call(
            emu->url(),
            "s3",
            "PUT",
            "/full/multi?partNumber=1&uploadId=" + xml_first(mp->body, "UploadId"),
            body_bytes(9, 100'000)
        );
        ASSERT_TRUE(part);
        EXPECT_EQ(part->status, 500) << part->body;
    } else {
        EXPECT_EQ(mp->status, 500) << mp->body;
    }

    // What was stored is intact; what was refused is absent; listing and disk agree.
    const auto check_stored = [&](const std::string& url) {
        for (const auto& [key, body] : stored) {
            const auto got = call(url, "s3", "GET", "/full/" + key);
            ASSERT_TRUE(got && got->status == 200) << key;
            EXPECT_EQ(md5_hex(got->body), md5_hex(body)) << key << " changed";
        }
        for (const auto& key : std::vector<std::string>{"big", "tiny", "fill-" + std::to_string(filled)}) {
            const auto got = call(url, "s3", "HEAD", "/full/" + key);
            ASSERT_TRUE(got);
            EXPECT_EQ(got->status, 404) << key << " was refused but exists";
        }
        const auto listed = listing(url, "full");
        EXPECT_EQ(listed.size(), stored.size());
        for (const auto& [key, body] : stored) EXPECT_EQ(listed.count(key), 1U) << key;
        expect_no_leftovers(stored.size());
    };
    check_stored(emu->url());

    // A restart on the full disk: it starts and serves what it has.
    emu->process().stop(SIGKILL);
    emu = start();
    check_stored(emu->url());

    // Space freed: writes succeed again.
    fs::remove(disk_->outside(dir_.path() / "filler"));
    std::string xml = "<Delete>";
    for (int i = 0; i < filled; ++i) xml += "<Object><Key>fill-" + std::to_string(i) + "</Key></Object>";
    xml += "</Delete>";
    const auto md5 = scar::encoding::base64_encode(*scar::encoding::from_hex(md5_hex(xml)));
    const auto del = call(emu->url(), "s3", "POST", "/full?delete", xml, {{"Content-MD5", md5}});
    ASSERT_TRUE(del && del->status == 200);
    for (int i = 0; i < filled; ++i) stored.erase("fill-" + std::to_string(i));
    const auto again = body_bytes(11, 2U << 20);
    const auto put = call(emu->url(), "s3", "PUT", "/full/again", again);
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 200) << put->body;
    stored["again"] = again;
    filled = -1;  // no refused fill key any more
    for (const auto& [key, body] : stored) {
        const auto got = call(emu->url(), "s3", "GET", "/full/" + key);
        ASSERT_TRUE(got && got->status == 200) << key;
        EXPECT_EQ(md5_hex(got->body), md5_hex(body)) << key;
    }
    expect_no_leftovers(stored.size());
}

TEST_F(FaultsDiskFull, EventInvokesAreRefusedAndLogsSurvive) {
    if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
    auto emu = start({"--lambda-retry-delay-ms", "50"});
    scar::testing::temp_dir work("scar-faults-disk-zip");
    (void)create_function(emu->url(), "sink", bootstrap_zip_base64(sink_runtime, work.path()), 5);
    const auto first = invoke(emu->url(), "sink", R"({"marker":"before-full"})");
    ASSERT_TRUE(first && first->status == 200) << (first ? first->body : first.error().what());
    ASSERT_EQ(
        status_of(call_json11(emu->url(), "logs", "Logs_20140328.CreateLogGroup", {{"logGroupName", "/kept"}})
        ),
        200
    );
    ASSERT_EQ(status_of(call(emu->url(), "s3", "PUT", "/alive")), 200);

    disk_->fill("filler");
    // An event that cannot be stored is not accepted.
    const auto event = invoke(emu->url(), "sink", R"({"marker":"refused-event"})", "Event");
    ASSERT_TRUE(event) << "the emulator died: " << event.error().what();
    EXPECT_NE(event->status, 202) << "an event that was not stored got its 202";
    EXPECT_EQ(event->status, 500) << event->body;
    EXPECT_EQ(error_code(*event), "ServiceException") << event->body;
    // Logs: a new group cannot be stored; the error says so.
    const auto group =
        call_json11(emu->url(), "logs", "Logs_20140328.CreateLogGroup", {{"logGroupName", "/new"}});
    ASSERT_TRUE(group);
    EXPECT_EQ(group->status, 500) << group->body;
    // A configuration change that cannot be stored must not lose the function.
    const auto reserve = call(
        emu->url(),
        "lambda",
        "PUT",
        "/2017-10-31/functions/sink/concurrency",
        R"({"ReservedConcurrentExecutions":5})"
    );
    ASSERT_TRUE(reserve);
    // The emulator keeps serving, and a function still runs.
    for (int i = 0; i < 3; ++i) {
        const auto head = call(emu->url(), "s3", "HEAD", "/alive");
        ASSERT_TRUE(head);
        EXPECT_EQ(head->status, 200);
        const auto sync = invoke(emu->url(), "sink", R"({"marker":"sync-on-full-disk"})");
        ASSERT_TRUE(sync);
        EXPECT_EQ(sync->status, 200) << sync->body;
    }

    // Space freed: events are accepted and delivered again.
    fs::remove(disk_->outside(dir_.path() / "filler"));
    const auto later = invoke(emu->url(), "sink", R"({"marker":"after-freeing"})", "Event");
    ASSERT_TRUE(later);
    EXPECT_EQ(later->status, 202) << later->body;
    EXPECT_TRUE(poll_until(
        [&] { return !log_messages(emu->url(), "/aws/lambda/sink", "after-freeing").empty(); },
        20s
    ));

    // After a restart the log groups and the events stored before the disk filled are there.
    emu->process().stop(SIGKILL);
    emu = start();
    const auto groups = call_json11(emu->url(), "logs", "Logs_20140328.DescribeLogGroups", {});
    ASSERT_TRUE(groups && groups->status == 200);
    std::vector<std::string> names;
    const auto doc = json_of(*groups);  // kept: a range-for over a temporary's member dangles
    for (const auto& g : doc.at("logGroups").as_array()) names.emplace_back(g.at("logGroupName").as_string());
    EXPECT_NE(std::find(names.begin(), names.end(), "/kept"), names.end()) << groups->body;
    EXPECT_NE(std::find(names.begin(), names.end(), "/aws/lambda/sink"), names.end()) << groups->body;
    const auto fn = call(emu->url(), "lambda", "GET", "/2015-03-31/functions/sink");
    ASSERT_TRUE(fn);
    EXPECT_EQ(fn->status, 200) << "the function was lost: " << fn->body;
    EXPECT_EQ(log_messages(emu->url(), "/aws/lambda/sink", "before-full").size(), 1U);
    EXPECT_EQ(log_messages(emu->url(), "/aws/lambda/sink", "after-freeing").size(), 1U);
    EXPECT_TRUE(log_messages(emu->url(), "/aws/lambda/sink", "refused-event").empty())
        << "a refused event ran";
}

}  // namespace
