#include "load_support.hpp"

#include <scar/core/encoding.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/emulator_process.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace scar::load {
namespace {

namespace json = boost::json;

la_ssize_t append_to_string(archive*, void* out, const void* data, std::size_t n) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(data), n);
    return static_cast<la_ssize_t>(n);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

http::request make_request(
    const std::string& url,
    std::string method,
    const std::string& target,
    std::string body,
    http::header_list headers
) {
    http::request req;
    req.method = std::move(method);
    req.url = url + target;
    req.body = std::move(body);
    req.headers = std::move(headers);
    return req;
}

void sign(
    http::request& req,
    std::string_view service,
    const aws::credentials& creds,
    clock::time_point when
) {
    const auto p = sigv4::signing_params::make(creds, "us-east-1", service, when);
    (void)sigv4::sign(req, p).value();
}

http::request signed_request(
    const std::string& url,
    std::string_view service,
    std::string method,
    const std::string& target,
    std::string body,
    http::header_list headers
) {
    auto req = make_request(url, std::move(method), target, std::move(body), std::move(headers));
    sign(req, service);
    return req;
}

http::options no_retry(std::chrono::milliseconds timeout) {
    http::options o;
    o.retry.max_attempts = 1;
    o.timeout = timeout;
    return o;
}

http::response send(const http::request& req) {
    http::client c(no_retry());
    auto r = c.send(req);
    if (!r) throw std::runtime_error(req.method + " " + req.url + ": " + r.error().what());
    return std::move(*r);
}

http::header_list json11_headers(const std::string& target) {
    return {{"X-Amz-Target", target}, {"Content-Type", "application/x-amz-json-1.1"}};
}

std::string zip_base64(const std::vector<zip_entry>& entries) {
    std::string zip;
    archive* a = archive_write_new();
    archive_write_set_format_zip(a);
    bool ok = archive_write_open(a, &zip, nullptr, append_to_string, nullptr) == ARCHIVE_OK;
    for (const auto& entry : entries) {
        if (!ok) break;
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, entry.name.c_str());
        if (entry.link_target.empty()) {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0755);
            archive_entry_set_size(e, static_cast<la_int64_t>(entry.content.size()));
        } else {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, entry.link_target.c_str());
        }
        ok = archive_write_header(a, e) == ARCHIVE_OK &&
             (entry.content.empty() || archive_write_data(a, entry.content.data(), entry.content.size()) ==
                                           static_cast<la_ssize_t>(entry.content.size()));
        archive_entry_free(e);
    }
    ok = ok && archive_write_close(a) == ARCHIVE_OK;
    const std::string why = ok ? "" : archive_error_string(a);
    archive_write_free(a);
    if (!ok) throw std::runtime_error("cannot make the zip: " + why);
    return encoding::base64_encode(zip);
}

std::string runtime_zip_base64() {
    return zip_base64({{"bootstrap", read_file(SCAR_FN_RUNTIME_BIN), ""}});
}

void create_function(const std::string& url, const std::string& name, int timeout_s) {
    static const std::string zip = runtime_zip_base64();
    const json::object body{
        {"FunctionName", name},
        {"Runtime", "provided.al2023"},
        {"Handler", "fn.handler"},
        {"Role", "arn:aws:iam::000000000000:role/load"},
        {"Timeout", timeout_s},
        {"MemorySize", 128},
        {"Code", json::object{{"ZipFile", zip}}}};
    const auto created =
        send(signed_request(url, "lambda", "POST", "/2015-03-31/functions", json::serialize(body)));
    if (created.status != 201) throw std::runtime_error("CreateFunction " + name + ": " + created.body);
    std::string state;
    const bool active = poll_until(
        [&] {
            const auto got = send(signed_request(url, "lambda", "GET", "/2015-03-31/functions/" + name));
            state = got.status == 200
                        ? std::string(json::parse(got.body).at("Configuration").at("State").as_string())
                        : got.body;
            return state == "Active";
        },
        30s
    );
    if (!active) throw std::runtime_error("function " + name + " is not Active: " + state);
}

std::vector<std::string> log_messages(
    const std::string& url,
    const std::string& group,
    const std::string& text
) {
    auto found = testing::log_messages(url, group, text);
    if (!found) throw std::runtime_error("FilterLogEvents " + group + " failed");
    return std::move(*found);
}

bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::yield();
    }
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

double ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

head_probe::head_probe(std::string url, std::string target, std::chrono::milliseconds interval)
    : url_(std::move(url)), target_(std::move(target)), interval_(interval) {
    thread_ = std::thread([this] {
        http::client c(no_retry(30s));
        auto next = std::chrono::steady_clock::now();
        while (!stopping_) {
            const auto req = signed_request(url_, "s3", "HEAD", target_);
            const auto t0 = std::chrono::steady_clock::now();
            const auto r = c.send(req);
            const auto took = std::chrono::steady_clock::now() - t0;
            if (r && r->status == 200) {
                latencies_.push_back(ms(took));
            } else {
                ++failures_;
            }
            // The probe's pace (not a wait for an outcome); a slow answer does not cause a burst.
            next = std::max(next + interval_, std::chrono::steady_clock::now());
            std::this_thread::sleep_until(next);
        }
    });
}

head_probe::~head_probe() {
    (void)stop();
}

std::vector<double> head_probe::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    return latencies_;
}

std::vector<double> head_latencies(const std::string& url, const std::string& target, int n) {
    http::client c(no_retry(30s));
    std::vector<double> out;
    for (int i = 0; i < n; ++i) {
        const auto req = signed_request(url, "s3", "HEAD", target);
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = c.send(req);
        if (r && r->status == 200) out.push_back(ms(std::chrono::steady_clock::now() - t0));
    }
    return out;
}

}  // namespace scar::load
