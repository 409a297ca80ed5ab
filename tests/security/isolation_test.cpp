// Isolation between functions and from the host (issue 12), proved with two real Zip
// functions in the scar-emulator program running the suites' runtime (fn_runtime.cpp),
// which reads, writes and lists paths on request: neither sees the other's /tmp, the
// emulator's data directory, host files or host processes, and neither can write outside
// its /tmp. A function's log stream name (which any caller of the Logs API sees) does not
// open its Runtime API.

#include <scar/core/encoding.hpp>
#include <scar/testing/emulator_process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "load_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace load = scar::load;
using namespace std::chrono_literals;

/// What the runtime answered to an operation: ok, and the data or the errno name.
struct answer {
    bool ok = false;
    std::string data;
    std::string error;
};

class Isolation : public ::testing::Test {
protected:
    void SetUp() override {
        emu_ = std::make_unique<scar::testing::emulator_process>(
            work_.path() / "data",
            std::vector<std::string>{"--no-fsync"}
        );
        url_ = emu_->url();
        load::create_function(url_, "alpha");
        load::create_function(url_, "bravo");
        // Zip functions run in containers only where the host allows them (the emulator
        // says so at start and runs them as plain processes otherwise).
        const auto host = op("alpha", "read", "/proc/sys/kernel/hostname");
        if (host.data != "lambda\n")
            GTEST_SKIP() << "this host runs Zip functions without a sandbox (hostname '" << host.data
                         << "'); isolation needs user namespaces (docs/sandbox.md)";
    }

    answer op(
        const std::string& fn,
        const std::string& what,
        const std::string& path,
        const std::string& data = {}
    ) {
        json::object event{{"op", what}, {"path", path}};
        if (!data.empty()) event["data"] = data;
        const auto r = load::send(load::signed_request(
            url_,
            "lambda",
            "POST",
            "/2015-03-31/functions/" + fn + "/invocations",
            json::serialize(event)
        ));
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_FALSE(r.header("x-amz-function-error")) << r.body;
        const auto doc = json::parse(r.body).as_object();
        answer a;
        a.ok = doc.at("ok").as_bool();
        if (const auto* d = doc.if_contains("data")) a.data = d->as_string();
        if (const auto* e = doc.if_contains("errno")) a.error = e->as_string();
        return a;
    }

    scar::testing::temp_dir work_{"scar-isolation"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
    std::string url_;
};

TEST_F(Isolation, OneFunctionCannotSeeAnothersTmp) {
    ASSERT_TRUE(op("alpha", "write", "/tmp/alpha-secret", "alpha's secret").ok);
    EXPECT_EQ(op("alpha", "read", "/tmp/alpha-secret").data, "alpha's secret");  // its own, warm
    ASSERT_TRUE(op("bravo", "write", "/tmp/bravo-secret", "bravo's secret").ok);

    const auto stolen = op("bravo", "read", "/tmp/alpha-secret");
    EXPECT_FALSE(stolen.ok) << stolen.data;
    EXPECT_EQ(stolen.error, "ENOENT");
    const auto listed = op("bravo", "list", "/tmp");
    ASSERT_TRUE(listed.ok);
    EXPECT_EQ(listed.data, "bravo-secret\n");
    EXPECT_EQ(op("alpha", "list", "/tmp").data, "alpha-secret\n");
    EXPECT_EQ(op("alpha", "read", "/tmp/bravo-secret").error, "ENOENT");
    // Nor through /proc: each container has its own PID namespace, so the other's
    // processes (and their /proc/<pid>/root) do not exist.
    const auto procs = op("bravo", "list", "/proc");
    ASSERT_TRUE(procs.ok);
    int pids = 0;
    for (std::size_t at = 0; at < procs.data.size();) {
        const auto end = procs.data.find('\n', at);
        const auto name = procs.data.substr(at, end - at);
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) ++pids;
        at = end + 1;
    }
    EXPECT_LE(pids, 3) << "bravo sees processes beyond its init and runtime:\n" << procs.data;
    const std::string emulator_pid = std::to_string(emu_->process().pid());
    EXPECT_FALSE(op("bravo", "read", "/proc/" + emulator_pid + "/environ").ok);
}

TEST_F(Isolation, NoFunctionSeesTheEmulatorsDataOrHostFiles) {
    // A host file outside everything a function is given.
    const fs::path host_secret = work_.path() / "host-secret";
    std::ofstream(host_secret) << "host secret";
    for (const std::string& path : std::vector<std::string>{
             host_secret.string(),
             "/etc/shadow",
             "/etc/hostname",
             "/root/.bash_history",
             emu_->data_dir().string(),
             (emu_->data_dir() / "lambda").string(),
             (emu_->data_dir() / "s3").string()}) {
        const auto r = op("bravo", "read", path);
        EXPECT_FALSE(r.ok) << path << " is readable: " << r.data;
        const auto l = op("bravo", "list", path);
        EXPECT_FALSE(l.ok) << path << " is listable: " << l.data;
    }
    // The function's code is the only part of the data directory it has, at /var/task.
    const auto code = op("bravo", "list", "/var/task");
    ASSERT_TRUE(code.ok);
    EXPECT_EQ(code.data, "bootstrap\n");
}

TEST_F(Isolation, NothingOutsideTmpIsWritable) {
    for (const std::string path :
         {"/var/task/bootstrap",
          "/var/task/new",
          "/etc/passwd",
          "/usr/bin/scar-written",
          "/new-at-root",
          "/opt/x"}) {
        const auto r = op("alpha", "write", path, "x");
        EXPECT_FALSE(r.ok) << path << " was written";
        EXPECT_TRUE(r.error == "EROFS" || r.error == "EACCES" || r.error == "ENOENT")
            << path << ": " << r.error;
    }
    EXPECT_TRUE(op("alpha", "write", "/tmp/fine", "x").ok);
}

TEST_F(Isolation, LogStreamNameDoesNotOpenTheRuntimeApi) {
    ASSERT_TRUE(op("alpha", "write", "/tmp/warm", "x").ok);  // alpha has an environment now
    const auto streams = load::send(load::signed_request(
        url_,
        "logs",
        "POST",
        "/",
        json::serialize(json::object{{"logGroupName", "/aws/lambda/alpha"}}),
        load::json11_headers("Logs_20140328.DescribeLogStreams")
    ));
    ASSERT_EQ(streams.status, 200) << streams.body;
    const auto doc = json::parse(streams.body);
    ASSERT_FALSE(doc.at("logStreams").as_array().empty());
    const std::string stream(doc.at("logStreams").at(0).at("logStreamName").as_string());
    const std::string suffix = stream.substr(stream.find(']') + 1);
    ASSERT_FALSE(suffix.empty()) << stream;
    // Anyone can read the stream's name; if it were the environment's Runtime API address,
    // this would take alpha's next event (the call would wait for one).
    scar::http::client c(load::no_retry(10s));
    scar::http::request next;
    next.url = url_ + "/_runtime/" + suffix + "/2018-06-01/runtime/invocation/next";
    const auto r = c.send(next);
    ASSERT_TRUE(r) << "the Runtime API of alpha's environment answered to its log stream name: "
                   << r.error().what();
    EXPECT_EQ(r->status, 403) << r->body;
    // alpha still gets its own events.
    EXPECT_TRUE(op("alpha", "read", "/tmp/warm").ok);
}

}  // namespace
