#pragma once
// The scar-emulator program started on a free loopback port with its own data directory,
// stopped by its PID; and the aws CLI pointed at it.

#include <scar/core/http.hpp>
#include <scar/testing/process.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::testing {

class emulator_process {
public:
    /// Starts the emulator on `data_dir` (a fresh temp dir when empty).
    explicit emulator_process(std::filesystem::path data_dir = {}, std::vector<std::string> extra_args = {});
    ~emulator_process();
    emulator_process(const emulator_process&) = delete;
    emulator_process& operator=(const emulator_process&) = delete;

    [[nodiscard]] const std::string& url() const noexcept { return url_; }
    [[nodiscard]] const std::filesystem::path& data_dir() const noexcept { return data_dir_; }
    [[nodiscard]] child_process& process() noexcept { return *proc_; }

    /// Sends a request signed for S3 with the emulator's default credentials.
    [[nodiscard]] http::response s3(std::string method, const std::string& path, std::string body = {}) const;

private:
    std::unique_ptr<temp_dir> own_dir_;
    std::filesystem::path data_dir_;
    std::unique_ptr<child_process> proc_;
    std::string url_;
};

/// Signs `req` for `service` with the emulator's default credential (test/test), now.
void sign_for_emulator(http::request& req, std::string_view service);

/// The messages of every event in log group `group` whose text contains `text`
/// (FilterLogEvents, every page, no retries); nullopt when a page could not be read (the
/// emulator is down, the group does not exist).
[[nodiscard]] std::optional<std::vector<std::string>> log_messages(
    const std::string& url,
    const std::string& group,
    const std::string& text
);

/// Runs `/usr/bin/aws --endpoint-url URL args…` with the emulator's credentials and no
/// user configuration.
[[nodiscard]] run_result aws(const std::string& url, std::vector<std::string> args);

/// True when the aws CLI v2 from Debian is installed.
[[nodiscard]] bool have_aws_cli();

}  // namespace scar::testing
