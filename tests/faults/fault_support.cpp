#include "fault_support.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/testing/emulator_process.hpp>
#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace scar::faults {
namespace fs = std::filesystem;

result<http::response> call(
    const std::string& url,
    std::string_view service,
    std::string method,
    const std::string& path,
    std::string body,
    http::header_list headers,
    std::chrono::milliseconds timeout
) {
    http::request req;
    req.method = std::move(method);
    req.url = url + path;
    req.body = std::move(body);
    req.headers = std::move(headers);
    testing::sign_for_emulator(req, service);
    http::options o;
    o.retry.max_attempts = 1;
    o.timeout = timeout;
    http::client client(o);
    return client.send(req);
}

result<http::response> call_json11(
    const std::string& url,
    std::string_view service,
    const std::string& target,
    const json::object& body
) {
    return call(
        url,
        service,
        "POST",
        "/",
        json::serialize(body),
        {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", target}}
    );
}

json::value json_of(const http::response& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    return ec ? json::value() : v;
}

std::string md5_hex(std::string_view data) {
    return encoding::to_hex(crypto::md5_of(data));
}

std::string body_bytes(std::uint64_t seed, std::size_t size) {
    std::string s(size, '\0');
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x >> 56);
    }
    return s;
}

std::vector<std::string> xml_all(std::string_view xml, std::string_view tag) {
    std::vector<std::string> out;
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    std::size_t at = 0;
    while ((at = xml.find(open, at)) != std::string_view::npos) {
        const auto from = at + open.size();
        const auto to = xml.find(close, from);
        if (to == std::string_view::npos) break;
        out.emplace_back(xml.substr(from, to - from));
        at = to + close.size();
    }
    return out;
}

std::string xml_first(std::string_view xml, std::string_view tag) {
    auto all = xml_all(xml, tag);
    return all.empty() ? std::string() : all.front();
}

const char* const sink_runtime = R"(#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  next=$(curl -sS -i "$api/invocation/next")
  id=${next#*Lambda-Runtime-Aws-Request-Id: }
  id=${id%%[!0-9a-f-]*}
  echo "got ${next##*
}"
  curl -sS -X POST "$api/invocation/$id/response" -d '{"ok":true}' >/dev/null
done
)";

std::string unquote_etag(std::string_view etag) {
    for (const std::string_view q :
         {std::string_view("&quot;"), std::string_view("&#34;"), std::string_view("\"")}) {
        if (etag.size() >= 2 * q.size() && etag.starts_with(q) && etag.ends_with(q)) {
            return std::string(etag.substr(q.size(), etag.size() - 2 * q.size()));
        }
    }
    return std::string(etag);
}

std::string bootstrap_zip_base64(const std::string& script, const fs::path& work) {
    const auto script_file = work / "bootstrap.sh";
    const auto zip = work / "function.zip";
    std::ofstream(script_file, std::ios::trunc) << script;
    testing::process_options o;
    o.argv = {
        "/usr/bin/python3",
        "-c",
        "import sys,zipfile\n"
        "z=zipfile.ZipFile(sys.argv[1],'w')\n"
        "i=zipfile.ZipInfo('bootstrap'); i.external_attr=0o755<<16\n"
        "z.writestr(i, open(sys.argv[2]).read()); z.close()",
        zip.string(),
        script_file.string()};
    const auto made = testing::run(std::move(o));
    EXPECT_EQ(made.exit_code, 0) << made.err;
    std::ifstream in(zip, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return encoding::base64_encode(ss.str());
}

http::response create_function(
    const std::string& url,
    const std::string& name,
    const std::string& zip_base64,
    int timeout_s,
    int memory_mib,
    const json::object& env
) {
    json::object body{
        {"FunctionName", name},
        {"Runtime", "provided.al2023"},
        {"Role", "arn:aws:iam::000000000000:role/faults"},
        {"Handler", "faults.handler"},
        {"Code", {{"ZipFile", zip_base64}}},
        {"Timeout", timeout_s},
        {"MemorySize", memory_mib}};
    if (!env.empty()) body["Environment"] = json::object{{"Variables", env}};
    auto r = call(url, "lambda", "POST", "/2015-03-31/functions", json::serialize(body));
    if (!r) {
        ADD_FAILURE() << "CreateFunction " << name << ": " << r.error().what();
        return {};
    }
    EXPECT_EQ(r->status, 201) << "CreateFunction " << name << ": " << r->body;
    return *r;
}

result<http::response> invoke(
    const std::string& url,
    const std::string& function,
    std::string payload,
    std::string_view type,
    std::chrono::milliseconds timeout
) {
    return call(
        url,
        "lambda",
        "POST",
        "/2015-03-31/functions/" + function + "/invocations",
        std::move(payload),
        {{"X-Amz-Invocation-Type", std::string(type)}},
        timeout
    );
}

std::vector<std::string> log_messages(
    const std::string& url,
    const std::string& group,
    const std::string& text
) {
    return testing::log_messages(url, group, text).value_or(std::vector<std::string>{});
}

bool poll_until(
    const std::function<bool()>& done,
    std::chrono::milliseconds limit,
    std::chrono::milliseconds interval
) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(interval);  // a poll interval, not a wait for an outcome
    }
}

seeded_rng::seeded_rng(std::uint32_t seed) {
    if (const char* given = std::getenv("SCAR_FAULTS_SEED"); given != nullptr && *given != '\0')
        seed = static_cast<std::uint32_t>(std::strtoul(given, nullptr, 10));
    seed_ = seed;
    rng_.seed(seed);
    std::cout << "[ seed     ] " << seed << " ("
              << ::testing::UnitTest::GetInstance()->current_test_info()->name() << ")\n";
}

std::uint64_t seeded_rng::between(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
}

std::vector<fs::path> files_ending(const fs::path& dir, std::string_view suffix) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it->path().filename().string().ends_with(suffix)) out.push_back(it->path());
    }
    return out;
}

std::size_t count_files(const fs::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        n += it->is_regular_file(ec) ? 1 : 0;
    }
    return n;
}

std::uint64_t rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6));
    }
    return 0;
}

}  // namespace scar::faults

namespace scar::faults {

private_tmpfs::private_tmpfs(const fs::path& dir, std::size_t bytes) : dir_(dir) {
    for (const bool user : {false, true}) {
        testing::process_options o;
        // setpriv: the holder dies with the test even if the test crashes.
        o.argv = {"setpriv", "--pdeathsig", "KILL", "--", "unshare"};
        if (user) o.argv.insert(o.argv.end(), {"--user", "--map-root-user"});
        o.argv.insert(
            o.argv.end(),
            {"--mount",
             "--propagation",
             "private",
             "--",
             "/bin/sh",
             "-c",
             "mount -t tmpfs -o size=" + std::to_string(bytes) +
                 " scar-faults \"$0\" && echo mounted && exec sleep infinity",
             dir.string()}
        );
        holder_ = std::make_unique<testing::child_process>(std::move(o));
        if (holder_->wait_for_output("mounted", 10s)) {
            user_ns_ = user;
            return;
        }
        why_ += std::string(user ? "unshare --user --map-root-user --mount" : "unshare --mount") + ": " +
                holder_->stderr_text() + "; ";
        holder_->stop(SIGKILL);
        holder_.reset();
    }
    why_ = "no private mount namespace for a small tmpfs here (" + why_ +
           "run as root, or allow unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1)";
}

private_tmpfs::~private_tmpfs() {
    if (holder_) holder_->stop(SIGKILL);
}

std::vector<std::string> private_tmpfs::enter() const {
    std::vector<std::string>
        argv{"setpriv", "--pdeathsig", "KILL", "--", "nsenter", "--target", std::to_string(holder_->pid())};
    if (user_ns_) argv.emplace_back("--user");
    argv.emplace_back("--mount");
    argv.emplace_back("--");
    return argv;
}

fs::path private_tmpfs::outside(const fs::path& path) const {
    return fs::path("/proc/" + std::to_string(holder_->pid()) + "/root") / path.relative_path();
}

std::uint64_t private_tmpfs::fill(const std::string& name) const {
    const auto p = outside(dir_ / name);
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    std::uint64_t total = 0;
    const std::string zeros(64 * 1024, '\0');
    for (std::size_t chunk = zeros.size(); chunk > 0; chunk /= 2) {
        for (;;) {
            const auto n = ::write(fd, zeros.data(), chunk);
            if (n <= 0) break;
            total += static_cast<std::uint64_t>(n);
        }
    }
    ::close(fd);
    return total;
}

wrapped_emulator::wrapped_emulator(
    const std::vector<std::string>& prefix,
    const fs::path& data_dir,
    std::vector<std::string> extra_args
) {
    testing::process_options o;
    o.argv = prefix;
    o.argv.insert(o.argv.end(), {SCAR_EMULATOR_BIN, "--port", "0", "--data-dir", data_dir.string()});
    o.argv.insert(o.argv.end(), extra_args.begin(), extra_args.end());
    proc_ = std::make_unique<testing::child_process>(std::move(o));
    const auto out = proc_->wait_for_output("listening on", 20s);
    if (!out)
        throw std::runtime_error(
            "scar-emulator did not start:\n" + proc_->stdout_text() + proc_->stderr_text()
        );
    const auto at = out->find("http://127.0.0.1:");
    url_ = out->substr(at, out->find(' ', at) - at);
}

wrapped_emulator::~wrapped_emulator() {
    if (proc_->running()) proc_->stop(SIGTERM);
}

}  // namespace scar::faults
