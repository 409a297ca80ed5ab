#pragma once
// The emulator's ECR: the control plane (JSON, SigV4) and a registry v2 data plane for its
// repositories (Basic auth with a GetAuthorizationToken password or the emulator's keys),
// so image functions deploy locally as on AWS.
//
// Storage under <data>/ecr: blobs/sha256/<hex> (content-addressed, shared), uploads/<id>,
// repositories.json (names, creation times, tags and manifests; rewritten atomically).

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "../service.hpp"

namespace scar::emulator::ecr {

class service final : public emulator::service {
public:
    service(
        std::filesystem::path root,
        std::string region,
        std::string account,
        std::string access_key,
        std::string secret_key
    );
    [[nodiscard]] static result<std::shared_ptr<service>> open(
        std::filesystem::path root,
        std::string region,
        std::string account,
        std::string access_key,
        std::string secret_key
    );

    [[nodiscard]] std::string_view name() const noexcept override { return "ecr"; }
    void write_error(exchange& ex, const error& e) const override;
    net::awaitable<void> handle(exchange& ex, const sigv4::verified_request& auth) override;

    /// The registry API under /v2/ (its own authentication).
    net::awaitable<void> handle_registry(exchange& ex);

    /// "127.0.0.1:PORT": the registry host in repository URIs.
    void set_registry_host(std::string host) { registry_host_ = std::move(host); }

private:
    struct manifest_info {
        std::string media_type;
        std::uint64_t size = 0;
        std::int64_t pushed_ms = 0;
    };
    struct repository {
        std::string name;
        std::int64_t created_ms = 0;
        std::map<std::string, std::string> tags;         ///< tag → digest
        std::map<std::string, manifest_info> manifests;  ///< digest → info
        std::set<std::string> blobs;                     ///< digests pushed or mounted here
    };

    [[nodiscard]] result<void> load();
    [[nodiscard]] result<void> save() const;
    [[nodiscard]] result<std::string> dispatch(std::string_view op, const std::string& body);
    [[nodiscard]] std::string repository_json(const repository& r) const;
    [[nodiscard]] bool authorized(const exchange& ex) const;
    [[nodiscard]] std::filesystem::path blob_path(std::string_view digest) const;
    void registry_error(exchange& ex, int status, std::string_view code, std::string_view message) const;

    std::filesystem::path root_;
    std::string region_;
    std::string account_;
    std::string access_key_;
    std::string secret_key_;
    std::string registry_host_;
    mutable std::mutex mutex_;
    std::map<std::string, repository, std::less<>> repos_;
    std::map<std::string, std::int64_t> tokens_;  ///< password → expiry (ms)
};

}  // namespace scar::emulator::ecr
