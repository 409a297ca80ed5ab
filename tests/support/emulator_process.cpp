#include <scar/core/clock.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/emulator_process.hpp>

#include <boost/json.hpp>

#include <csignal>
#include <regex>
#include <stdexcept>

namespace scar::testing {
using namespace std::chrono_literals;

emulator_process::emulator_process(std::filesystem::path data_dir, std::vector<std::string> extra_args) {
    if (data_dir.empty()) {
        own_dir_ = std::make_unique<temp_dir>("scar-emulator");
        data_dir = own_dir_->path();
    }
    data_dir_ = std::move(data_dir);
    process_options o;
    o.argv = {SCAR_EMULATOR_BIN, "--port", "0", "--data-dir", data_dir_.string()};
    o.argv.insert(o.argv.end(), extra_args.begin(), extra_args.end());
    proc_ = std::make_unique<child_process>(std::move(o));
    if (!proc_->wait_for_output("listening on", 20s)) {
        throw std::runtime_error(
            "scar-emulator did not start:\n" + proc_->stdout_text() + proc_->stderr_text()
        );
    }
    std::smatch m;
    const std::string text = proc_->stdout_text();
    if (!std::regex_search(text, m, std::regex("listening on (http://127\\.0\\.0\\.1:[0-9]+)"))) {
        throw std::runtime_error("no address in the emulator's output: " + text);
    }
    url_ = m[1].str();
}

emulator_process::~emulator_process() {
    if (proc_->running()) proc_->stop(SIGTERM);
}

http::response emulator_process::s3(std::string method, const std::string& path, std::string body) const {
    http::request req;
    req.method = std::move(method);
    req.url = url_ + path;
    req.body = std::move(body);
    sign_for_emulator(req, "s3");
    http::client client;
    return client.send(req).value();
}

void sign_for_emulator(http::request& req, std::string_view service) {
    static const aws::credentials creds{"test", "test", "", "test"};
    auto p = sigv4::signing_params::make(creds, "us-east-1", service, clock::system().now());
    (void)sigv4::sign(req, p).value();
}

std::optional<std::vector<std::string>> log_messages(
    const std::string& url,
    const std::string& group,
    const std::string& text
) {
    http::options once;
    once.retry.max_attempts = 1;
    http::client client(once);
    std::vector<std::string> out;
    std::string token;
    for (;;) {
        boost::json::object in{{"logGroupName", group}, {"filterPattern", "\"" + text + "\""}};
        if (!token.empty()) in["nextToken"] = token;
        http::request req;
        req.method = "POST";
        req.url = url + "/";
        req.body = boost::json::serialize(in);
        req.headers = {
            {"X-Amz-Target", "Logs_20140328.FilterLogEvents"},
            {"Content-Type", "application/x-amz-json-1.1"}};
        sign_for_emulator(req, "logs");
        const auto r = client.send(req);
        if (!r || r->status != 200) return std::nullopt;
        boost::system::error_code ec;
        const auto doc = boost::json::parse(r->body, ec);
        if (ec || !doc.is_object()) return std::nullopt;
        for (const auto& e : doc.at("events").as_array()) out.emplace_back(e.at("message").as_string());
        const auto* next = doc.as_object().if_contains("nextToken");
        if (next == nullptr || !next->is_string() || next->as_string().empty()) return out;
        token = next->as_string();
    }
}

bool have_aws_cli() {
    return std::filesystem::exists("/usr/bin/aws");
}

run_result aws(const std::string& url, std::vector<std::string> args) {
    process_options o;
    o.argv = {"/usr/bin/aws", "--endpoint-url", url};
    o.argv.insert(o.argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    o.env = {
        {"AWS_ACCESS_KEY_ID", "test"},
        {"AWS_SECRET_ACCESS_KEY", "test"},
        {"AWS_DEFAULT_REGION", "us-east-1"},
        {"AWS_CONFIG_FILE", "/dev/null"},
        {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
        {"AWS_PAGER", ""}};
    o.unset_env = {"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"};
    return run(std::move(o), 300s);
}

}  // namespace scar::testing
