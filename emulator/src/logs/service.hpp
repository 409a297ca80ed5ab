#pragma once
// The emulator's CloudWatch Logs: the subset `scar log` and the aws CLI use, plus the
// append interface the Lambda service writes function output through.
//
// State lives in memory and on disk under <data>/logs: groups.json (groups and retention,
// rewritten atomically) and one append-only JSON-lines file per stream.

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../service.hpp"

namespace scar::emulator::logs {

struct log_event {
    std::int64_t timestamp = 0;  ///< ms since the epoch, as given by the writer
    std::int64_t ingestion = 0;  ///< ms since the epoch, when stored
    std::string message;
};

class service final : public emulator::service {
public:
    /// Opens (creating) the store under `root`.
    [[nodiscard]] static result<std::shared_ptr<service>> open(
        std::filesystem::path root,
        std::string region,
        std::string account
    );
    service(std::filesystem::path root, std::string region, std::string account)
        : root_(std::move(root)), arn_prefix_("arn:aws:logs:" + region + ":" + account + ":log-group:") {}

    [[nodiscard]] std::string_view name() const noexcept override { return "logs"; }
    void write_error(exchange& ex, const error& e) const override;
    net::awaitable<void> handle(exchange& ex, const sigv4::verified_request& auth) override;

    /// Appends events to a stream, creating the group and stream when missing (what Lambda
    /// does for a function's log group).
    [[nodiscard]] result<void> append(
        const std::string& group,
        const std::string& stream,
        std::vector<log_event> events
    );

    /// The events of a stream (for tests and `LogType=Tail`).
    [[nodiscard]] std::vector<log_event> events(const std::string& group, const std::string& stream) const;

private:
    struct stream_state {
        std::string name;
        std::int64_t created = 0;
        std::vector<log_event> events;
        std::int64_t stored_bytes = 0;
    };
    struct group_state {
        std::string name;
        std::int64_t created = 0;
        std::optional<int> retention_days;
        std::map<std::string, stream_state, std::less<>> streams;
    };

    [[nodiscard]] result<void> load();
    [[nodiscard]] result<void> save_groups() const;
    [[nodiscard]] std::filesystem::path stream_file(const std::string& group, const std::string& stream)
        const;
    [[nodiscard]] result<void> persist(const std::string& group, const stream_state& s, std::size_t from)
        const;
    [[nodiscard]] result<group_state*> group(const std::string& name);
    /// The group and stream named by `logStreamName` in a request; ResourceNotFoundException.
    [[nodiscard]] result<std::pair<group_state*, stream_state*>> existing_stream(
        const boost::json::object& in,
        const std::string& group_name
    );
    [[nodiscard]] result<std::string> dispatch(std::string_view op, const std::string& body);
    /// Events still inside the group's retention period.
    [[nodiscard]] static bool retained(const group_state& g, const log_event& e, std::int64_t now) noexcept;

    std::filesystem::path root_;
    std::string arn_prefix_;
    mutable std::mutex mutex_;
    std::map<std::string, group_state, std::less<>> groups_;
};

}  // namespace scar::emulator::logs
