#pragma once
/// @file
/// One invocation, start to end: event → input → run → output → response. This is the
/// whole of scar-supervisor but the loop around it (`runtime.hpp`), so tests and benches
/// drive it without Lambda.
///
/// For each invocation the supervisor
///   1. parses the event (`event.hpp`);
///   2. makes a private directory under `settings::temp_root` with `input/` and `output/`
///      (`TMP_INPUT_DIR`, `TMP_OUTPUT_DIR`), removed when the invocation ends;
///   3. fetches the input: the object of a storage event (to `$TMP_INPUT_DIR/<basename>`,
///      unless `file_stage_in`), or the request body / payload (to `$TMP_INPUT_DIR/event-file`);
///   4. runs, in this order of precedence, the event's `script`, the image's command with the
///      event's `cmd_args`, the function's `init_script` (or `SCRIPT`), or the image's
///      command — with the variables below, killed at deadline − `timeout_threshold`;
///   5. uploads every output file to every matching output, even after a failure;
///   6. answers SCAR's response, an API Gateway proxy response, or a function error.
///
/// The script's environment: the supervisor's own (less `FUNCTION_CONFIG` and `SCRIPT`),
/// the function's `container_environment`, then `TMP_INPUT_DIR`, `TMP_OUTPUT_DIR`,
/// `INPUT_FILE_PATH` (when there is an input), `STORAGE_OBJECT_KEY` (storage events),
/// `EVENT` (the payload, when at most 64 KiB), `EVENT_TIME`, `REQUEST_ID`,
/// `AWS_LAMBDA_REQUEST_ID`, `INSTANCE_IP`, and `CONT_VAR_<name>` for each API Gateway query
/// parameter (characters other than letters, digits and '_' in the name become '_').
///
/// Batch delegation (in Lambda only; inside a Batch job every mode runs the steps above):
/// with execution_mode `batch` step 1 is followed by SubmitJob to the job queue and job
/// definition named after the function, with `EVENT` (the payload), `CONTEXT` (JSON:
/// function_name, memory_limit_in_mb, aws_request_id, log_group_name, log_stream_name),
/// `AWS_LAMBDA_REQUEST_ID` and, for a `script` event, `SCRIPT` (base64) as environment
/// overrides; the answer is SCAR's response whose body is `delegated_message`. With
/// `lambda-batch` the script runs here, and when it is killed at the threshold the event is
/// delegated the same way (nothing of the killed run is uploaded). The Batch endpoint and
/// credentials are those of `settings::aws` (`AWS_ENDPOINT_URL_BATCH`, `AWS_ENDPOINT_URL`, …).
///
/// Errors the caller sees (function errors, `reply::error_type`): `InvalidEvent`;
/// Batch's codes (`ClientException`, …), `NetworkError` and `RequestEntityTooLarge` (an
/// event over 24 KiB) while delegating;
/// S3's codes (`NoSuchKey`, `NoSuchBucket`, `AccessDenied`…) and `NetworkError` while
/// downloading the input or uploading outputs; `ScriptNotRunnable`; `NothingToRun`;
/// `ScriptFailed` (non-zero exit or killed: exit code and the tail of stderr);
/// `ScriptTimedOut`; `LocalIOError`.

#include <scar/config/function.hpp>
#include <scar/core/aws_config.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/error.hpp>
#include <scar/supervisor/command.hpp>
#include <scar/supervisor/event.hpp>
#include <scar/supervisor/output.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::supervisor {

/// Where the supervisor runs: it changes only what `execution_mode` means.
enum class platform {
    lambda,  ///< inside a Lambda execution environment (Runtime API)
    binary,  ///< anywhere else: a Batch job, a shell (event from EVENT or stdin)
};

/// Everything an invocation needs besides the event.
struct settings {
    config::function_definition function;
    /// Where `function` came from ("/var/task/function.toml", "FUNCTION_CONFIG"); empty:
    /// no configuration, defaults.
    std::string config_source;
    /// Storage providers by name ("minio.x"), for outputs and inputs that name one.
    std::map<std::string, config::storage_provider> storage;
    platform where = platform::lambda;
    /// The image's own command (ENTRYPOINT then CMD), run when there is no script; the
    /// first `entrypoint_words` of it are the ENTRYPOINT, which `cmd_args` are appended to.
    std::vector<std::string> command;
    std::size_t entrypoint_words = 0;
    /// The init script's text when it came in `SCRIPT` (base64, Batch) rather than a file.
    std::optional<std::string> init_script_text;
    /// Parent of the per-invocation directories.
    std::filesystem::path temp_root = "/tmp";
    /// Credentials, region and endpoint of `s3.default` (the function's own).
    aws::config_sources aws = aws::config_sources::from_process();
    /// The environment the script inherits ("NAME=value"); `FUNCTION_CONFIG` and `SCRIPT`
    /// are left out.
    std::vector<std::string> base_env;
    std::string log_group;   ///< `amz-log-group-name` of responses
    std::string log_stream;  ///< `amz-log-stream-name`
    std::size_t stdout_limit = std::size_t{4} << 20U;
    std::size_t max_parallel_uploads = 4;
    /// The script's output as it comes; default: written to the supervisor's stderr.
    std::function<void(std::string_view chunk, bool is_stderr)> on_output;
    const clock* time = &clock::system();
};

/// One invocation.
struct invocation {
    std::string request_id;
    std::string payload;
    /// When Lambda kills the environment; none in binary mode.
    std::optional<clock::time_point> deadline;
};

/// Where the time went, for the bench (steady clock).
struct timings {
    std::chrono::steady_clock::time_point received;
    std::chrono::steady_clock::time_point input_ready;
    std::chrono::steady_clock::time_point script_started;
    std::chrono::steady_clock::time_point script_ended;
    std::chrono::steady_clock::time_point outputs_done;
    std::chrono::steady_clock::time_point replied;
};

/// The answer to one invocation.
struct reply {
    /// False: a function error (`error_type`, `error_message`); true: `body` is the response.
    bool ok = true;
    std::string body;  ///< JSON
    std::string error_type;
    std::string error_message;
    // What happened, for logs and tests.
    event_kind kind = event_kind::payload;
    std::optional<command_outcome> outcome;
    std::vector<upload_report> uploads;
    /// The Batch job the event was delegated to, if it was.
    std::optional<std::string> delegated_job;
    timings times;
};

/// Handles invocations with one configuration.
///
/// @par Thread safety
/// `handle` may run on several threads at once (each invocation has its own directory),
/// though Lambda gives one at a time.
class supervisor {
public:
    explicit supervisor(settings s);

    [[nodiscard]] const settings& config() const noexcept { return settings_; }

    /// Handles one invocation; never throws for the user's mistakes, which become function
    /// errors (see the file comment).
    [[nodiscard]] reply handle(const invocation& inv) const;

    /// An S3 client for a provider name ("s3.default", "minio.x"): the function's own
    /// credentials and endpoint for `s3.default`, the provider's otherwise. Errors:
    /// `ConfigInvalid` for a provider the configuration does not define, and those of
    /// `aws_config.hpp`.
    [[nodiscard]] result<s3::client> make_client(const std::string& provider) const;

private:
    /// Submits the invocation as a Batch job (see the file comment); its id.
    [[nodiscard]] result<std::string> delegate(const invocation& inv, std::string_view script) const;

    settings settings_;
    std::string instance_ip_;
};

/// "Job delegated to batch. Check batch logs with: scar log -n <function> -ri <job id>",
/// SCAR's answer to a delegated invocation.
[[nodiscard]] std::string delegated_message(std::string_view function, std::string_view job_id);

/// SCAR's response: `{"statusCode":200,"headers":{"amz-lambda-request-id",
/// "amz-log-group-name","amz-log-stream-name"},"body":base64(stdout),"isBase64Encoded":true}`.
[[nodiscard]] std::string scar_response(
    std::string_view request_id,
    std::string_view log_group,
    std::string_view log_stream,
    std::string_view body,
    int status = 200,
    std::string_view content_type = {}
);

/// The first non-loopback IPv4 address of this host ("" when none): `INSTANCE_IP`.
[[nodiscard]] std::string instance_ip();

}  // namespace scar::supervisor
