#pragma once
/// @file
/// `scar cost`: what a run would cost on AWS, from what the functions' logs record — each
/// invocation's `REPORT` line (billed duration, memory size, init duration) — the functions'
/// ephemeral storage and architecture, the Batch jobs of functions in `batch` and
/// `lambda-batch` mode (their run time, vCPUs and memory, priced as Fargate), and a price
/// table (`conf/prices.toml`). The same lines and jobs come from the emulator and from AWS,
/// so the estimate of a local run is what the same run would be billed.

#include <scar/config/prices.hpp>
#include <scar/core/error.hpp>
#include <scar/deploy/deploy.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::deploy {

/// One invocation, as its `REPORT` line tells it.
struct invocation_report {
    std::string request_id;
    double duration_ms = 0;
    std::int64_t billed_ms = 0;
    int memory_mb = 0;
    std::optional<double> init_ms;  ///< cold starts only
    std::int64_t timestamp_ms = 0;  ///< when the line was logged (the invocation's end)
};

/// Parses "REPORT RequestId: …\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size:
/// 128 MB\t…"; nullopt for any other line.
[[nodiscard]] std::optional<invocation_report> parse_report(std::string_view line);

/// What one function's invocations cost.
struct function_cost {
    std::string name;
    std::string architecture = "x86_64";
    int ephemeral_mb = 512;
    std::size_t invocations = 0;
    std::size_t cold_starts = 0;
    std::int64_t billed_ms = 0;
    double gb_seconds = 0;
    double request_cost = 0;
    double compute_cost = 0;
    double ephemeral_cost = 0;
    std::size_t jobs = 0;    ///< Batch jobs that ran (batch and lambda-batch modes)
    double job_seconds = 0;  ///< their billed run time (at least the minimum each)
    double job_cost = 0;     ///< priced as Fargate: vCPU-hours and GB-hours
    double total = 0;
    std::int64_t first_start_ms = 0;  ///< when the first invocation started (init included)
    std::int64_t last_end_ms = 0;     ///< when the last one ended
    double wall_seconds = 0;          ///< from `first_start_ms` to `last_end_ms`
    double p50_ms = 0;                ///< of the durations
    double max_ms = 0;
};

/// Prices `reports` of one function.
[[nodiscard]] function_cost estimate(
    std::string name,
    const std::vector<invocation_report>& reports,
    std::string_view architecture,
    int ephemeral_mb,
    const config::price_table& prices
);

/// A Batch job that ran: when, and on how much.
struct job_run {
    std::int64_t started_ms = 0;
    std::int64_t stopped_ms = 0;
    double vcpus = 1;
    int memory_mb = 2048;
    bool fargate = false;  ///< on a Fargate compute environment; else EC2 or Spot
};

/// Adds the price of `jobs` to `c` and widens its wall span to cover them. Fargate: per
/// second, with its minimum per job, vCPUs and memory. EC2 and Spot: the job's share of the
/// instances, its vCPUs × `ec2_vcpu_hour` per second it ran.
void add_jobs(function_cost& c, const std::vector<job_run>& jobs, const config::price_table& prices);

/// The whole workflow.
struct cost_report {
    std::vector<function_cost> functions;
    double total = 0;
    double wall_seconds = 0;  ///< first start to last end over every function
    std::string currency;
    std::string region;
};

/// Reads the logs of `names` (every function scar deployed when empty) and prices them.
[[nodiscard]] result<cost_report> cost(
    const target& t,
    const std::vector<std::string>& names,
    const config::price_table& prices
);

}  // namespace scar::deploy
