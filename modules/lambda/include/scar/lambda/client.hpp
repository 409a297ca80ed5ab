#pragma once
/// @file
/// The Lambda control-plane and Invoke client: what `scar init/run/invoke/ls/rm` need, on
/// AWS or on the local emulator (same wire protocol, different endpoint).

#include <scar/core/aws_config.hpp>
#include <scar/core/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scar::lambda {

/// Where and as whom to call Lambda.
struct endpoint {
    std::string url;  ///< "http://127.0.0.1:4566" or "https://lambda.us-east-1.amazonaws.com"
    std::string region = "us-east-1";
    aws::credentials credentials;
};

/// A function's configuration as GetFunctionConfiguration returns it.
struct function_config {
    std::string name;
    std::string arn;
    std::string package_type;  ///< "Zip" or "Image"
    std::string runtime;       ///< Zip only
    std::string handler;       ///< Zip only
    std::string image_uri;     ///< Image only (from GetFunction)
    std::string role;
    std::string description;
    int memory_mb = 128;
    int timeout_s = 3;
    int ephemeral_mb = 512;
    std::string architecture = "x86_64";  ///< the first of `Architectures`
    std::map<std::string, std::string> environment;
    std::string state;               ///< Pending, Active, Failed, …
    std::string last_update_status;  ///< InProgress, Successful, Failed
    std::string code_sha256;
    std::int64_t code_size = 0;
    std::string last_modified;
    std::optional<int> reserved_concurrency;  ///< from GetFunction
};

/// What CreateFunction needs. Exactly one of `zip_file` (Zip) and `image_uri` (Image).
struct create_function_request {
    std::string name;
    std::string role;
    std::string runtime = "provided.al2023";
    std::string handler = "bootstrap";
    std::string zip_file;  ///< the zip's bytes
    std::string image_uri;
    std::string description;
    int memory_mb = 128;
    int timeout_s = 3;
    int ephemeral_mb = 512;
    std::map<std::string, std::string> environment;
    std::vector<std::string> entry_point;  ///< ImageConfig overrides
    std::vector<std::string> command;
    std::string working_directory;
};

/// The fields UpdateFunctionConfiguration changes; unset fields are left as they are.
struct configuration_update {
    std::optional<int> memory_mb;
    std::optional<int> timeout_s;
    std::optional<int> ephemeral_mb;
    std::optional<std::map<std::string, std::string>> environment;
    std::optional<std::string> description;
};

enum class invocation_type { request_response, event, dry_run };

/// What Invoke answered.
struct invoke_result {
    int status = 0;                             ///< 200, 202 (event) or 204 (dry run)
    std::optional<std::string> function_error;  ///< "Unhandled" when the function failed
    std::string payload;                        ///< the function's response or error JSON
    std::string log_tail;                       ///< decoded `X-Amz-Log-Result` (when asked)
    std::string request_id;
    std::string executed_version;
};

/// An asynchronous event the emulator gave up on, from its dead-letter store (an emulator
/// extension: AWS keeps such events only in an on-failure destination or a DLQ queue).
struct dead_letter {
    std::string id;  ///< the store's id, for `delete_dead_letter` and `redrive_dead_letter`
    std::string function_name;
    std::string function_arn;
    std::string request_id;  ///< the asynchronous Invoke's request id (every attempt had it)
    std::string payload;     ///< the event as it was sent
    /// Why it was dropped: `RetriesExhausted` (every attempt failed), `EventAgeExceeded`
    /// (older than the maximum event age before it could run again), `FunctionNotFound`.
    std::string condition;
    std::string error_type;  ///< of the last attempt, e.g. "Sandbox.Timedout"
    std::string error_message;
    int attempts = 0;           ///< attempts that ran (throttled ones do not count)
    std::string accepted;       ///< ISO 8601: when the event was queued
    std::string first_attempt;  ///< ISO 8601, empty when it never ran
    std::string last_attempt;
    std::string dead_lettered;  ///< ISO 8601: when it entered the store
};

/// One page of `list_dead_letters`.
struct dead_letter_page {
    std::vector<dead_letter> items;  ///< oldest first
    std::string next_marker;         ///< pass to the next call; empty on the last page
};

/// An entry put back on the asynchronous queue by a redrive.
struct redriven_event {
    std::string id;  ///< the entry's id (it left the store)
    std::string function_name;
    std::string request_id;  ///< of the new asynchronous invocation
};

/// What a redrive of many entries did: entries whose function is gone stay in the store.
struct redrive_report {
    std::vector<redriven_event> redriven;
    std::vector<std::pair<std::string, error>> failed;  ///< id and why
};

/// `EmulatorOnly`: what the dead-letter calls answer for an endpoint (`where`) that is not
/// scar-emulator, with the fix: an on-failure destination on AWS.
[[nodiscard]] error emulator_only_error(std::string_view where);

/// A Lambda client. Errors carry Lambda's codes (`ResourceNotFoundException`,
/// `ResourceConflictException`, `InvalidParameterValueException`,
/// `TooManyRequestsException`, …) with its message; network failures are `NetworkError`.
///
/// @par Thread safety
/// One client per thread (it keeps a connection).
class client {
public:
    explicit client(endpoint ep);
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;

    [[nodiscard]] result<function_config> create_function(const create_function_request& req);
    [[nodiscard]] result<function_config> get_function(const std::string& name);
    /// Every function (follows NextMarker).
    [[nodiscard]] result<std::vector<function_config>> list_functions();
    [[nodiscard]] result<function_config> update_configuration(
        const std::string& name,
        const configuration_update& u
    );
    [[nodiscard]] result<function_config> update_code_zip(
        const std::string& name,
        const std::string& zip_file
    );
    [[nodiscard]] result<function_config> update_code_image(
        const std::string& name,
        const std::string& image_uri
    );
    /// Removes the function; ResourceNotFoundException when it does not exist.
    [[nodiscard]] result<void> delete_function(const std::string& name);
    /// Invokes; `tail` asks for the last 4 KB of the log. A function error is a successful
    /// result with `function_error` set, as on the wire.
    [[nodiscard]] result<invoke_result> invoke(
        const std::string& name,
        const std::string& payload,
        invocation_type type = invocation_type::request_response,
        bool tail = false
    );
    [[nodiscard]] result<void> put_concurrency(const std::string& name, int reserved);
    [[nodiscard]] result<void> delete_concurrency(const std::string& name);
    /// AddPermission with `lambda:InvokeFunction` for `principal` (e.g. "s3.amazonaws.com").
    [[nodiscard]] result<void> add_permission(
        const std::string& name,
        const std::string& statement_id,
        const std::string& principal,
        const std::string& source_arn = {}
    );
    /// @name The emulator's dead-letter store
    /// Served by `scar-emulator` only (under `/_scar/lambda/dead-letters`, signed as
    /// Lambda). Any other endpoint — AWS, another emulator — gets `EmulatorOnly`, whose
    /// message says to configure an on-failure destination there instead.
    /// @{

    /// One page of entries, oldest first, of `function` (a name or ARN; every function
    /// when empty). `max_items` is 1–100. InvalidParameterValueException otherwise.
    [[nodiscard]] result<dead_letter_page> list_dead_letters(
        const std::string& function = {},
        const std::string& marker = {},
        int max_items = 50
    );
    /// Every entry of `function` (every function when empty), following the pages.
    [[nodiscard]] result<std::vector<dead_letter>> all_dead_letters(const std::string& function = {});
    /// Removes one entry; ResourceNotFoundException when the store has no such id.
    [[nodiscard]] result<void> delete_dead_letter(const std::string& id);
    /// Removes every entry of `function` (every entry when empty); how many went.
    [[nodiscard]] result<std::size_t> purge_dead_letters(const std::string& function = {});
    /// Queues one entry again as an asynchronous invocation of its function and removes it
    /// from the store. ResourceNotFoundException when there is no such entry, or when its
    /// function no longer exists (the entry then stays).
    [[nodiscard]] result<redriven_event> redrive_dead_letter(const std::string& id);
    /// Redrives every entry of `function` (every entry when empty).
    [[nodiscard]] result<redrive_report> redrive_dead_letters(const std::string& function = {});
    /// @}

    /// Polls GetFunction until the function is Active and its last update Successful
    /// (what `aws lambda wait function-active-v2` does); an error if it becomes Failed.
    [[nodiscard]] result<function_config> wait_active(
        const std::string& name,
        std::chrono::milliseconds timeout = std::chrono::minutes(5)
    );

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace scar::lambda
