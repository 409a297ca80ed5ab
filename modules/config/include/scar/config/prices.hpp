#pragma once
/// @file
/// The price table `scar cost` estimates with: what a run would cost on AWS Lambda and
/// Batch. The built-in table is `conf/prices.toml` (compiled in); users pass their own copy
/// for another region, a discount, or prices that changed.

#include <scar/core/error.hpp>

#include <filesystem>
#include <string>

namespace scar::config {

struct lambda_prices {
    double requests_per_million = 0;
    double gb_second_x86_64 = 0;
    double gb_second_arm64 = 0;
    double ephemeral_gb_second = 0;  ///< /tmp above `ephemeral_included_mb`
    int ephemeral_included_mb = 512;
};

struct batch_prices {
    double fargate_vcpu_hour = 0;
    double fargate_gb_hour = 0;
    int fargate_minimum_seconds = 60;
    /// EC2 and Spot compute environments: the on-demand price of one vCPU-hour of the
    /// instances (memory included), charged for the vCPUs a job reserves while it runs.
    double ec2_vcpu_hour = 0;
};

struct price_table {
    std::string region;
    std::string currency = "USD";
    lambda_prices lambda;
    batch_prices batch;
};

/// Reads `file` (every key required, none unknown, no negative price), or the built-in
/// table when `file` is empty. Errors (`ConfigInvalid`) name the file, line and key.
[[nodiscard]] result<price_table> load_prices(const std::filesystem::path& file = {});

}  // namespace scar::config
