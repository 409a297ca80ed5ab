#pragma once
// Debian's docker-registry (distribution 2.8) on 127.0.0.1 with its storage in a temp
// dir, for integration tests and the pull benchmark; and a busybox rootfs to build test
// images from, offline.

#include <scar/core/http.hpp>
#include <scar/testing/process.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace scar::image::testing {

inline constexpr const char* docker_registry_bin = "/usr/bin/docker-registry";
inline constexpr const char* busybox_bin = "/usr/bin/busybox";

/// A port that was free a moment ago.
inline int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);     // NOLINT: the sockets API
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);  // NOLINT
    ::close(s);
    return ntohs(a.sin_port);
}

/// A running docker-registry; stopped (by its PID) on destruction.
class local_registry {
public:
    explicit local_registry(const std::filesystem::path& dir) {
        port_ = free_port();
        const auto cfg = dir / "registry.yml";
        std::ofstream(cfg) << "version: 0.1\n"
                              "log:\n  level: error\n  accesslog:\n    disabled: true\n"
                              "storage:\n  filesystem:\n    rootdirectory: "
                           << (dir / "data").string()
                           << "\n  delete:\n    enabled: true\n"
                              "http:\n  addr: 127.0.0.1:"
                           << port_ << "\n";
        proc_ = std::make_unique<scar::testing::child_process>(
            scar::testing::process_options{{docker_registry_bin, "serve", cfg.string()}, {}, {}, {}, {}}
        );
        // Ready when /v2/ answers; the client's retries (connection refused is retryable)
        // do the waiting. Logs stay at "error": nobody drains the child's pipes while it
        // serves, and a full pipe would stall it.
        scar::http::options o;
        o.retry.max_attempts = 60;
        o.retry.base_delay = std::chrono::milliseconds(20);
        o.retry.max_delay = std::chrono::milliseconds(300);
        scar::http::client c(o);
        auto r = c.send({"GET", "http://" + host() + "/v2/", {}, {}, {}});
        if (!r || r->status != 200)
            throw std::runtime_error(
                "docker-registry did not start: " + (r ? std::to_string(r->status) : r.error().message)
            );
    }
    ~local_registry() {
        if (proc_) proc_->stop(SIGTERM);
    }
    local_registry(const local_registry&) = delete;
    local_registry& operator=(const local_registry&) = delete;

    /// "127.0.0.1:PORT"
    [[nodiscard]] std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    int port_ = 0;
    std::unique_ptr<scar::testing::child_process> proc_;
};

/// A minimal busybox rootfs at `dir`: bin/busybox, applet links, etc/passwd, tmp.
inline void make_busybox_rootfs(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    fs::create_directories(dir / "bin");
    fs::create_directories(dir / "etc");
    fs::create_directories(dir / "tmp");
    fs::permissions(dir / "tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::copy_file(busybox_bin, dir / "bin/busybox", fs::copy_options::overwrite_existing);
    for (const char* applet : {"sh", "ls", "cat", "echo", "env", "true"})
        fs::create_symlink("busybox", dir / "bin" / applet);
    std::ofstream(dir / "etc/passwd")
        << "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";
}

}  // namespace scar::image::testing
