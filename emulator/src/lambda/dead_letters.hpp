#pragma once
// The dead-letter store: asynchronous events that failed for good (every attempt failed, or
// they outlived their maximum age), kept so users can list, delete and redrive them. AWS
// has no such store (it offers an on-failure destination or a DLQ queue instead); this one
// is the emulator's, served under /_scar/lambda/dead-letters.
//
// On disk: `<lambda root>/dead-letters.jsonl`, one JSON object per line in the order the
// events were dropped. Appends are fsynced; deletions rewrite the file into a temporary one
// and rename it over the old, so a crash leaves the old list or the new one. A line cut
// short by a crash is dropped when the store opens.

#include <scar/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace scar::emulator::lambda {

/// One event that failed for good.
struct dead_letter {
    /// Assigned by the store: increasing in the order events were dropped, never reused.
    std::string id;
    std::string function;      ///< the function's name
    std::string function_arn;  ///< unqualified
    std::string qualifier;     ///< the version or alias invoked ("" for none); a redrive invokes it
    std::string request_id;    ///< the asynchronous Invoke's request id (every attempt had it)
    std::string payload;       ///< the event, as the caller sent it
    /// Why it was dropped, in AWS's terms: RetriesExhausted, EventAgeExceeded,
    /// ZeroReservedConcurrency, or FunctionNotFound (the function was deleted while the event
    /// waited).
    std::string condition;
    std::string error_type;  ///< of the last attempt ("Sandbox.Timedout", "Runtime.ExitError", …)
    std::string error_message;
    /// Where AWS would also have sent it and the emulator cannot: the OnFailure destination
    /// (an SQS queue, SNS topic, EventBridge bus or S3 bucket) and the function's
    /// DeadLetterConfig target (SQS or SNS); empty when none.
    std::string on_failure;
    std::string dead_letter_target;
    int attempts = 0;                   ///< invocations that ran (throttled tries do not count, as on AWS)
    std::int64_t accepted_ms = 0;       ///< when Invoke (or S3) queued the event
    std::int64_t first_attempt_ms = 0;  ///< 0 when it never ran
    std::int64_t last_attempt_ms = 0;
    std::int64_t dropped_ms = 0;  ///< when it entered the store (set by the store)
};

/// The store. Every operation holds one mutex, so concurrent appends, listings, deletions
/// and redrives see each other whole.
class dead_letter_store {
public:
    /// Opens (or creates) the store in `file`; `fsync` makes appends durable across an OS crash.
    [[nodiscard]] static result<std::unique_ptr<dead_letter_store>> open(
        std::filesystem::path file,
        bool fsync
    );

    /// Appends `d` and returns it with its id and drop time.
    [[nodiscard]] result<dead_letter> add(dead_letter d);

    struct page {
        std::vector<dead_letter> items;
        std::string next_marker;  ///< empty on the last page
    };
    /// Entries of `function` (every function when empty) after `marker`, oldest first, at most
    /// `max_items`.
    [[nodiscard]] result<page> list(std::string_view function, std::string_view marker, std::size_t max_items)
        const;

    /// Calls `take` for each entry `select` picks, with the store locked; entries for which
    /// `take` succeeds are removed. Returns the entries picked, each with what `take` answered.
    struct taken {
        dead_letter entry;
        result<std::string> outcome;
    };
    [[nodiscard]] result<std::vector<taken>> take_if(
        const std::function<bool(const dead_letter&)>& select,
        const std::function<result<std::string>(const dead_letter&)>& take
    );

private:
    dead_letter_store(std::filesystem::path file, bool fsync) : file_(std::move(file)), fsync_(fsync) {}
    [[nodiscard]] result<std::vector<dead_letter>> read_all() const;
    [[nodiscard]] result<void> rewrite(const std::vector<dead_letter>& all) const;
    [[nodiscard]] std::string next_id();

    std::filesystem::path file_;
    bool fsync_;
    mutable std::mutex mutex_;
    std::int64_t last_id_ms_ = 0;  ///< ids' time part, strictly increasing
};

}  // namespace scar::emulator::lambda
