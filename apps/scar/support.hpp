#pragma once
// What the verbs share: failing with one clear line, the deployment target flags.

#include <scar/core/error.hpp>
#include <scar/deploy/deploy.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <utility>

namespace scar::cli {

[[noreturn]] inline void fail(const error& e) {
    throw aws_exception(e);
}

template <class T>
T need(result<T> r) {
    if (!r) fail(r.error());
    return std::move(*r);
}

inline void need(const result<void>& r) {
    if (!r) fail(r.error());
}

/// `--target local|aws`, `--region`: where a verb acts.
struct target_flags {
    std::string target;  ///< empty: the configuration's (`[deployment] target`), else local
    std::string region;
};

/// Adds the target flags to `cmd`.
void add_target_flags(CLI::App* cmd, target_flags& f);

/// The target the flags name (`fallback` when they name none); locally, the emulator is
/// started when it is not running.
[[nodiscard]] deploy::target resolve(const target_flags& f, std::string_view fallback = "local");

}  // namespace scar::cli

namespace scar::s3 {
class client;
}
namespace scar::lambda {
class client;
}

namespace scar::cli {

/// Clients for the target's S3 and Lambda.
[[nodiscard]] s3::client s3_client(const deploy::target& t);
[[nodiscard]] lambda::client lambda_client(const deploy::target& t);

/// "bucket/folder/sub" → {"bucket", "folder/sub"}; a leading "s3://" is allowed.
[[nodiscard]] std::pair<std::string, std::string> split_bucket_path(std::string_view path);

}  // namespace scar::cli
