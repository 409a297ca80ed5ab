// The conformance suite against s3rver (npm, tests/peers), started on a free loopback port
// and stopped by its PID.
//
// s3rver 3.7 accepts any signature for its known access key (it does not verify SigV4) and
// differs from S3 in the ways listed in `s3rver_limits`.

#include <scar/testing/process.hpp>

#include <regex>
#include <stdexcept>

#include "conformance.hpp"

namespace scar::s3::testing {
namespace {

using namespace std::chrono_literals;

backend_limits s3rver_limits() {
    backend_limits l;
    l.double_slash_keys = false;  // keys become file paths
    l.dot_segment_keys = false;   // "a/./b" is stored as "a/b"
    l.notifications = false;      // answers NotImplemented
    l.suffix_ranges = false;      // reads "bytes=-3" as bytes 0-3
    // Its continuation tokens are DES-encrypted, which Node 20's OpenSSL 3 refuses: the
    // second page is an InternalError.
    l.continuation_tokens = false;
    l.quiet_delete = false;     // lists deleted keys anyway
    l.multipart_etags = false;  // plain MD5 of the whole object
    l.abort_multipart = false;  // DELETE ?uploadId is MethodNotAllowed
    return l;
}

class s3rver_backend final : public backend {
public:
    explicit s3rver_backend(const std::filesystem::path& bin) {
        scar::testing::process_options o;
        o.argv = {bin.string(), "-d", dir_.path().string(), "-a", "127.0.0.1", "-p", "0", "--silent"};
        proc_ = std::make_unique<scar::testing::child_process>(std::move(o));
        if (!proc_->wait_for_output("S3rver listening on", 60s)) {
            throw std::runtime_error("s3rver did not start:\n" + proc_->stdout_text() + proc_->stderr_text());
        }
        proc_->wait_for_output("\n", 5s);
        std::smatch m;
        const std::string text = proc_->stdout_text();
        if (!std::regex_search(text, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)"))) {
            throw std::runtime_error("no port in s3rver's output: " + text);
        }
        endpoint_ = "http://127.0.0.1:" + m[1].str();
    }
    ~s3rver_backend() override { proc_->stop(SIGTERM); }
    s3rver_backend(const s3rver_backend&) = delete;
    s3rver_backend& operator=(const s3rver_backend&) = delete;

    [[nodiscard]] client_options options() const override {
        client_options o;
        o.endpoint = endpoint_;
        o.region = "us-east-1";
        o.credentials = {"S3RVER", "S3RVER", "", "s3rver default"};
        o.style = addressing::path;
        o.http.retry.base_delay = std::chrono::milliseconds(5);
        return o;
    }
    [[nodiscard]] backend_limits limits() const override { return s3rver_limits(); }

private:
    scar::testing::temp_dir dir_{"scar-s3rver"};
    std::unique_ptr<scar::testing::child_process> proc_;
    std::string endpoint_;
};

std::unique_ptr<backend> make_s3rver() {
    const auto bin = std::filesystem::path(SCAR_SOURCE_DIR) / "tests/peers/node_modules/.bin/s3rver";
    if (!std::filesystem::exists(bin)) return nullptr;
    return std::make_unique<s3rver_backend>(bin);
}

/// s3rver reached with virtual-hosted names ("BUCKET.s3.us-east-1.amazonaws.com:PORT"),
/// connected to loopback through curl's CONNECT_TO.
class s3rver_virtual_backend final : public backend {
public:
    explicit s3rver_virtual_backend(std::unique_ptr<backend> inner) : inner_(std::move(inner)) {}
    [[nodiscard]] client_options options() const override {
        auto o = inner_->options();
        o.style = addressing::virtual_hosted;
        return o;
    }
    [[nodiscard]] backend_limits limits() const override { return s3rver_limits(); }

private:
    std::unique_ptr<backend> inner_;
};

std::unique_ptr<backend> make_s3rver_virtual() {
    auto inner = make_s3rver();
    if (!inner) return nullptr;
    return std::make_unique<s3rver_virtual_backend>(std::move(inner));
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    S3rver,
    S3Conformance,
    ::testing::Values(
        backend_factory{"s3rver", make_s3rver},
        backend_factory{"s3rver_virtual_hosted", make_s3rver_virtual}
    ),
    backend_name
);

}  // namespace scar::s3::testing
