// scar-emulator: every emulated AWS service on one loopback endpoint.

#include <scar/core/aws_config.hpp>
#include <scar/core/log.hpp>
#include <scar/emulator/server.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    scar::emulator::options o;
    std::string data_dir;
    std::string access_key = "test";
    std::string secret_key = "test";
    std::string log_level;
    bool no_fsync = false;
    long retry_delay_ms = 60'000;
    CLI::App app{
        "scar-emulator: the local AWS region of scar-cpp (S3 and, as they land, Lambda, Batch, "
        "API Gateway, Logs) on one endpoint"};
    app.add_option("--host", o.host, "address to listen on")->capture_default_str();
    app.add_option("--port", o.port, "port to listen on (0 picks a free one)")->capture_default_str();
    app.add_option(
        "--data-dir",
        data_dir,
        "where state lives (default $SCAR_HOME/emulator, ~/.scar/emulator)"
    );
    app.add_option("--region", o.region, "the region the emulator is")->capture_default_str();
    app.add_option("--account", o.account, "the account id in ARNs")->capture_default_str();
    app.add_option("--access-key", access_key, "access key id clients sign with")->capture_default_str();
    app.add_option("--secret-key", secret_key, "secret access key clients sign with")->capture_default_str();
    app.add_option("--threads", o.threads, "request threads (0: one per core)")->capture_default_str();
    app.add_option("--lambda-concurrency", o.lambda_concurrency, "Lambda concurrent executions, account-wide")
        ->capture_default_str();
    app.add_option(
           "--lambda-retry-delay-ms",
           retry_delay_ms,
           "delay before retrying a failed asynchronous invocation (AWS: about a minute; the second retry "
           "waits twice "
           "as long)"
    )
        ->capture_default_str();
    app.add_option(
           "--lambda-event-age-scale",
           o.lambda_event_age_scale,
           "multiplies asynchronous events' maximum age (MaximumEventAgeInSeconds); tests make it small"
    )
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    double idle_timeout_s = 600;
    app.add_option(
           "--lambda-idle-timeout",
           idle_timeout_s,
           "seconds an idle Lambda execution environment is kept for warm starts before it is stopped (at "
           "least 0.1)"
    )
        ->check(CLI::Range(0.1, 1e9))
        ->capture_default_str();
    long apigw_timeout_ms = 29'000;
    app.add_option(
           "--apigw-timeout-ms",
           apigw_timeout_ms,
           "API Gateway's integration timeout: a function slower than this gets the caller a 504 (AWS: 29000)"
    )
        ->capture_default_str();
    long batch_kill_grace_ms = 30'000;
    app.add_option(
           "--batch-vcpus",
           o.batch_vcpus,
           "vCPUs Batch jobs may use at once (0: the number of cores)"
    )
        ->capture_default_str();
    app.add_option("--batch-memory-mib", o.batch_memory_mib, "memory Batch jobs may use at once (0: all)")
        ->capture_default_str();
    app.add_option(
           "--batch-kill-grace-ms",
           batch_kill_grace_ms,
           "time between SIGTERM and SIGKILL for a Batch job that timed out or was terminated (AWS: 30000)"
    )
        ->capture_default_str();
    app.add_flag("--no-fsync", no_fsync, "do not fsync writes (faster; an OS crash may lose recent writes)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error (or SCAR_LOG_LEVEL)");
    CLI11_PARSE(app, argc, argv);

    if (!log_level.empty()) {
        const auto l = scar::log::parse_level(log_level);
        if (!l) {
            std::cerr << "scar-emulator: unknown --log-level '" << log_level
                      << "'; use trace, debug, info, warn or error\n";
            return 2;
        }
        scar::log::set_level(*l);
    }
    if (data_dir.empty()) {
        if (const char* home = std::getenv("SCAR_HOME"); home != nullptr && *home != '\0') {
            data_dir = std::string(home) + "/emulator";
        } else if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
            data_dir = std::string(h) + "/.scar/emulator";
        } else {
            std::cerr << "scar-emulator: no --data-dir given and neither SCAR_HOME nor HOME is set\n";
            return 2;
        }
    }
    o.data_dir = data_dir;
    o.credentials = {{access_key, secret_key, "", "command line"}};
    o.fsync = !no_fsync;
    o.lambda_retry_delay = std::chrono::milliseconds(retry_delay_ms);
    o.lambda_idle_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(idle_timeout_s * 1000));
    o.batch_kill_grace = std::chrono::milliseconds(batch_kill_grace_ms);
    o.apigw_integration_timeout = std::chrono::milliseconds(apigw_timeout_ms);

    scar::emulator::server server(o);
    if (auto ok = server.start(); !ok) {
        std::cerr << "scar-emulator: " << ok.error().what() << "\n";
        return 1;
    }
    std::printf(
        "scar-emulator listening on %s (region %s, data %s)\n",
        server.endpoint().c_str(),
        o.region.c_str(),
        data_dir.c_str()
    );
    std::fflush(stdout);
    server.run_until_signal();
    std::printf("scar-emulator stopped\n");
    return 0;
}
