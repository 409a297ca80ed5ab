// The conformance suite against scar-emulator, the one of this build (or the binary that
// SCAR_S3_EMULATOR_BIN names). The emulator verifies every SigV4 signature, which s3rver
// does not.

#include <scar/testing/process.hpp>

#include <cstdlib>
#include <regex>
#include <stdexcept>

#include "conformance.hpp"

namespace scar::s3::testing {
namespace {

using namespace std::chrono_literals;

class emulator_backend final : public backend {
public:
    explicit emulator_backend(const std::string& bin, addressing style) : style_(style) {
        scar::testing::process_options o;
        o.argv =
            {bin, "--port", "0", "--data-dir", dir_.path().string(), "--no-fsync", "--log-level", "warn"};
        proc_ = std::make_unique<scar::testing::child_process>(std::move(o));
        if (!proc_->wait_for_output("listening on http://", 30s) || !proc_->wait_for_output(" (region", 5s)) {
            throw std::runtime_error(
                "scar-emulator did not start:\n" + proc_->stdout_text() + proc_->stderr_text()
            );
        }
        std::smatch m;
        const std::string text = proc_->stdout_text() + proc_->stderr_text();
        if (!std::regex_search(text, m, std::regex("listening on (http://127\\.0\\.0\\.1:[0-9]+)"))) {
            throw std::runtime_error("no address in scar-emulator's output: " + text);
        }
        endpoint_ = m[1].str();
    }
    ~emulator_backend() override { proc_->stop(SIGTERM); }
    emulator_backend(const emulator_backend&) = delete;
    emulator_backend& operator=(const emulator_backend&) = delete;

    [[nodiscard]] client_options options() const override {
        client_options o;
        o.endpoint = endpoint_;
        o.region = "us-east-1";
        o.credentials = {"test", "test", "", "scar-emulator default"};
        o.style = style_;
        o.http.retry.base_delay = std::chrono::milliseconds(5);
        return o;
    }

private:
    addressing style_;
    scar::testing::temp_dir dir_{"scar-s3-emulator"};
    std::unique_ptr<scar::testing::child_process> proc_;
    std::string endpoint_;
};

std::unique_ptr<backend> make(addressing style) {
    const char* bin = std::getenv("SCAR_S3_EMULATOR_BIN");
#ifdef SCAR_S3_EMULATOR_DEFAULT
    if (bin == nullptr || *bin == '\0') bin = SCAR_S3_EMULATOR_DEFAULT;
#endif
    if (bin == nullptr || *bin == '\0') return nullptr;
    return std::make_unique<emulator_backend>(bin, style);
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    Emulator,
    S3Conformance,
    ::testing::Values(
        backend_factory{"emulator", [] { return make(addressing::path); }},
        backend_factory{"emulator_virtual_hosted", [] { return make(addressing::virtual_hosted); }}
    ),
    backend_name
);

}  // namespace scar::s3::testing
