#pragma once
// The emulator's S3 service: the REST API over the durable store, with notifications.

#include <scar/s3/notification.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "../blocking.hpp"
#include "../service.hpp"
#include "scar/emulator/server.hpp"
#include "store.hpp"

namespace scar::emulator::s3 {

/// The client-side models the service shares (notification configuration, event records).
namespace model = scar::s3;

/// One change to an object that bucket notifications may report.
struct object_event {
    std::string event_name;  ///< "ObjectCreated:Put", "ObjectRemoved:Delete", …
    std::string bucket;
    std::string key;
    std::uint64_t size = 0;
    std::string etag;
    std::string sequencer;
    std::int64_t time_ms = 0;
    std::string request_id;
    std::string source_ip;
    std::string principal;  ///< access key id of the caller
};

/// Receives the notifications that matched a bucket's configuration.
using notification_sink = std::function<void(const s3_notification&)>;

struct settings {
    std::filesystem::path root;
    std::string region;
    std::string account;
    bool fsync = true;
};

/// The S3 REST API.
class service final : public emulator::service {
public:
    service(std::shared_ptr<store> st, settings s) : store_(std::move(st)), settings_(std::move(s)) {}

    [[nodiscard]] std::string_view name() const noexcept override { return "s3"; }
    [[nodiscard]] bool needs_body_for_auth() const noexcept override { return false; }
    void write_error(exchange& ex, const error& e) const override;
    net::awaitable<void> handle(exchange& ex, const sigv4::verified_request& auth) override;

    /// Adds a receiver of notifications (before any request is served).
    void add_sink(notification_sink s) { sinks_.push_back(std::move(s)); }

    [[nodiscard]] store& objects() noexcept { return *store_; }

private:
    struct request;
    net::awaitable<void> dispatch(request& r);
    net::awaitable<void> put_object(request& r);
    net::awaitable<void> upload_part(request& r);
    net::awaitable<void> put_bucket_notification(request& r);
    net::awaitable<void> object_tagging(request& r);
    net::awaitable<void> create_bucket(request& r);
    net::awaitable<void> delete_objects(request& r);
    net::awaitable<void> create_upload(request& r);
    net::awaitable<void> complete_upload(request& r);
    void list_buckets(request& r);
    void list_objects(request& r, bool v2);
    void get_object(request& r, bool head);
    void copy_object(request& r);
    void delete_object(request& r);
    void list_parts(request& r);
    void list_uploads(request& r);
    void notify(const request& r, std::string event_name, const object_meta& m);
    [[nodiscard]] result<std::pair<object_meta, std::shared_ptr<const int>>> copy_source(const request& r
    ) const;

    std::shared_ptr<store> store_;
    settings settings_;
    /// The parsed configuration of each bucket that has one (read from the store on first use).
    [[nodiscard]] std::shared_ptr<const model::notification_config> config_of(const std::string& bucket);

    std::vector<notification_sink> sinks_;
    /// Where commits wait for their disk syncs (see blocking.hpp).
    blocking_pool blocking_{32};
    std::mutex configs_mutex_;
    std::map<std::string, std::shared_ptr<const model::notification_config>, std::less<>> configs_;
};

/// Opens the store under `s.root` and makes the service.
[[nodiscard]] result<std::shared_ptr<service>> make_service(const settings& s);

}  // namespace scar::emulator::s3
