#pragma once
// The emulator's Lambda: the control plane (functions, concurrency, permissions), Invoke
// (sync, Event, DryRun), and the Runtime API each execution environment talks to.
//
// Image functions run in sandboxed containers made from their image (container.hpp); Zip
// functions with a custom runtime (`provided.al2023`/`provided.al2`, `bootstrap` in the
// zip) run as host processes without isolation (process.hpp).

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../logs/service.hpp"
#include "../service.hpp"
#include "dead_letters.hpp"
#include "process.hpp"

namespace scar::emulator::lambda {

struct settings {
    std::filesystem::path root;
    std::string region;
    std::string account;
    /// Account-wide concurrent executions.
    int account_concurrency = 64;
    /// Idle environments are kept this long for warm starts, then stopped.
    std::chrono::milliseconds idle_timeout{600'000};
    /// Delay before the first retry of a failed asynchronous invocation (AWS: about a minute;
    /// the second retry waits twice as long).
    std::chrono::milliseconds retry_delay{60'000};
    /// Multiplies maximum event ages (a time scale for tests).
    double event_age_scale = 1.0;
    /// Credentials handed to functions so they can call the emulator.
    std::string access_key = "test";
    std::string secret_key = "test";
    /// Sync the dead-letter store's writes (durable across an OS crash).
    bool fsync = true;
};

struct outcome {
    bool function_error = false;
    std::string body;
};

struct invocation;
struct environment;
struct function;

/// A function named with an optional qualifier (a version number, `$LATEST` or an alias).
struct resolved {
    std::shared_ptr<function> latest;  ///< the function ($LATEST)
    std::shared_ptr<function> run;     ///< the version that runs ($LATEST or a published one)
    std::string qualifier;             ///< as the caller named it ("" when none)
};

/// An asynchronous event on the durable queue.
struct queued_event {
    std::string payload;
    std::string qualifier;   ///< as invoked: "", a version or an alias (resolved at each attempt)
    std::string request_id;  ///< answered to Invoke; every attempt runs with it
    std::int64_t accepted_ms = 0;
    std::filesystem::path file;  ///< its queue file, removed once it is settled
};

class service final : public emulator::service {
public:
    service(settings s, std::shared_ptr<logs::service> logs)
        : settings_(std::move(s)), logs_(std::move(logs)) {}
    ~service() override;

    [[nodiscard]] static result<std::shared_ptr<service>> open(
        settings s,
        std::shared_ptr<logs::service> logs
    );

    [[nodiscard]] std::string_view name() const noexcept override { return "lambda"; }
    void write_error(exchange& ex, const error& e) const override;
    net::awaitable<void> handle(exchange& ex, const sigv4::verified_request& auth) override;

    /// The Runtime API (unauthenticated, as on AWS): `/_runtime/<environment>/2018-06-01/…`.
    net::awaitable<void> handle_runtime(exchange& ex);

    /// Where environments reach the Runtime API ("127.0.0.1:PORT"), and the executor that
    /// runs asynchronous invocations; set before serving.
    void set_runtime(std::string host_port, net::any_io_executor executor) {
        registry_host_ = host_port;
        runtime_address_ = std::move(host_port);
        executor_ = std::move(executor);
        start_reclaiming();
    }

    /// Pulls the images of Image functions loaded from disk (call once serving).
    void prepare_images();

    /// Invokes asynchronously (S3 notifications); false when the function does not exist.
    bool invoke_event(const std::string& function_arn_or_name, std::string payload);

    /// Invokes synchronously for a caller inside the emulator (API Gateway): the function's
    /// answer (`function_error` set when it failed or timed out), or Lambda's error:
    /// ResourceNotFoundException, ResourceConflictException (not Active),
    /// RequestEntityTooLargeException (over 6 MB), InvalidRequestContentException (not
    /// JSON), TooManyRequestsException. `log_line`, when not empty, is written to the
    /// function's log right after the invocation's START line.
    net::awaitable<result<outcome>> invoke_sync(
        const std::string& name_or_arn,
        std::string payload,
        std::string log_line = {}
    );

    /// Delivers the events queued before the last stop (call once serving).
    void resume_queue();

    /// Kills every environment (shutdown).
    void stop_all();

private:
    net::awaitable<void> invoke(exchange& ex, const std::string& name);
    net::awaitable<outcome> run(
        std::shared_ptr<function> fn,
        std::shared_ptr<invocation> inv,
        std::string* log_tail
    );

    [[nodiscard]] result<std::string> create_function(const std::string& body);
    [[nodiscard]] result<std::string> update_function(
        const std::string& name,
        const std::string& body,
        bool code
    );
    [[nodiscard]] result<void> load();
    [[nodiscard]] result<void> save(const function& f) const;
    [[nodiscard]] result<std::shared_ptr<function>> find(const std::string& name_or_arn) const;
    /// The function and the version that runs for `name_or_arn` (a name, `name:qualifier` or an
    /// ARN) and `qualifier` (the request's `Qualifier`); an alias with weighted routing picks
    /// one of its two versions. ResourceNotFoundException names the qualified ARN.
    [[nodiscard]] result<resolved> resolve(const std::string& name_or_arn, const std::string& qualifier)
        const;
    /// `version` ("$LATEST" or a number) of `latest` (caller holds the lock), or null.
    [[nodiscard]] std::shared_ptr<function> version_of(const function& latest, const std::string& version)
        const;
    /// PublishVersion, ListVersionsByFunction, DeleteFunction with a version qualifier.
    [[nodiscard]] result<std::string> publish_version(
        const std::shared_ptr<function>& fn,
        const std::string& body
    );
    [[nodiscard]] result<std::string> list_versions(const function& fn, const exchange& ex) const;
    [[nodiscard]] result<void> delete_version(
        const std::shared_ptr<function>& fn,
        const std::string& qualifier
    );
    /// Create/Get/Update/Delete/ListAliases (`alias_name` empty: the collection).
    [[nodiscard]] result<std::string> alias_request(
        const exchange& ex,
        const std::shared_ptr<function>& fn,
        const std::string& alias_name,
        const std::string& body,
        int& status
    );
    [[nodiscard]] result<void> unpack_code(function& f, const std::string& zip_base64);
    [[nodiscard]] std::string function_arn(const std::string& name) const;
    /// Starts a new environment for `fn` (caller holds the lock).
    [[nodiscard]] result<std::shared_ptr<environment>> launch(
        const std::shared_ptr<function>& fn,
        const net::any_io_executor& ex
    );
    void retire(const std::shared_ptr<environment>& env, const std::string& reason);
    /// Wakes one throttled asynchronous event: of `fn` if it has one waiting, else of any
    /// function (caller holds the lock).
    void wake_waiter(function* fn);
    /// Appends a line to the environment's log stream and to the tail of `inv` (default: the
    /// invocation in progress).
    void log(
        const std::shared_ptr<environment>& env,
        std::string line,
        const std::shared_ptr<invocation>& inv = nullptr
    );
    /// Keeps an event that failed for good in the dead-letter store.
    void keep_dead_letter(dead_letter d);
    /// The dead-letter store's API (an emulator extension, not AWS's):
    /// `/_scar/lambda/dead-letters[/{Id}[/redrive]]`, `/_scar/lambda/dead-letters/redrive`.
    [[nodiscard]] result<std::string> dead_letter_request(
        const exchange& ex,
        const std::vector<std::string>& parts,
        int& status
    );
    /// Put/Update/Get/DeleteFunctionEventInvokeConfig (`method` PUT/POST/GET/DELETE): the
    /// configuration's JSON, or "" for a deletion.
    [[nodiscard]] result<std::string> event_invoke_config(
        const std::string& method,
        function& f,
        const std::string& qualifier,
        const std::string& body
    );
    /// Validates the DestinationConfig of Put/UpdateFunctionEventInvokeConfig as AWS does.
    [[nodiscard]] result<void> check_destinations(
        const function& f,
        const std::string& on_success,
        const std::string& on_failure
    ) const;
    /// PublishLayerVersion, ListLayerVersions, GetLayerVersion, DeleteLayerVersion.
    [[nodiscard]] result<std::string> layer_request(
        const std::string& method,
        const std::string& name,
        const std::string& version,
        const std::string& body
    );
    [[nodiscard]] std::filesystem::path layer_dir(const std::string& name, int version) const;
    /// The function's layers merged in order into one directory (cached), or empty.
    [[nodiscard]] result<std::filesystem::path> merged_layers(const function& f) const;
    /// Pulls and unpacks an Image function's image on a thread; Pending until done.
    void prepare_image(const std::shared_ptr<function>& fn);
    /// Writes an asynchronous event to the durable queue and starts delivering it; its
    /// request id, or ResourceNotFoundException / ServiceException.
    [[nodiscard]] result<std::string> queue_event(
        const std::string& function_arn_or_name,
        const std::string& qualifier,
        std::string payload
    );
    /// Runs a queued event to completion (with retries), then removes its queue file.
    void dispatch_event(std::shared_ptr<function> fn, queued_event ev);
    net::awaitable<void> deliver(std::shared_ptr<function> fn, queued_event ev);
    /// Stops environments idle longer than `settings::idle_timeout`, as they expire.
    void start_reclaiming();
    net::awaitable<void> reclaim_idle();

    settings settings_;
    std::shared_ptr<logs::service> logs_;
    std::string runtime_address_;
    std::string registry_host_;
    /// Whether containers can be made here: probed in the background from the start (the
    /// probe starts a container, ~10 ms), waited for at the first function that needs it.
    std::shared_future<result<void>> sandbox_check_;
    [[nodiscard]] result<void> sandbox_available() const { return sandbox_check_.get(); }
    net::any_io_executor executor_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<function>, std::less<>> functions_;
    std::map<std::string, std::shared_ptr<environment>, std::less<>> environments_;
    int running_ = 0;  ///< environments alive, account-wide
    std::unique_ptr<dead_letter_store> dead_letters_;
};

}  // namespace scar::emulator::lambda
