// The emulator's front door: bytes on a connection to an in-process scar-emulator. The
// first byte picks how they are sent:
//   - raw: written as they are (request heads, bodies, pipelining, garbage), then the
//     write side is shut; whatever the server answers is read to the end;
//   - signed: "METHOD\nPATH?QUERY\nBODY" signed with the emulator's credential for S3 or
//     CloudWatch Logs (the second byte picks), so the bytes reach the service's own
//     parsers past authentication.
// After every input the server must still answer a request. Lambda, ECR and Batch are not
// driven signed: a function or job could name an image on any registry and the emulator
// would try to reach it (this target must not touch a network).

#include <scar/core/aws_config.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/http.hpp>
#include <scar/core/log.hpp>
#include <scar/emulator/server.hpp>
#include <scar/sigv4/signer.hpp>

#include <filesystem>
#include <memory>

#include "fuzz.hpp"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

struct running_emulator {
    fs::path data;
    std::unique_ptr<scar::emulator::server> server;
    std::string url;
    scar::http::client http{[] {
        scar::http::options o;
        o.timeout = std::chrono::milliseconds(5'000);
        o.retry.max_attempts = 1;
        return o;
    }()};

    running_emulator() {
        scar::log::set_level(scar::log::level::error);
        data = fs::temp_directory_path() / ("scar-fuzz-emulator-" + std::to_string(::getpid()));
        fs::remove_all(data);
        scar::emulator::options o;
        o.port = 0;
        o.data_dir = data;
        o.fsync = false;
        o.threads = 2;
        server = std::make_unique<scar::emulator::server>(o);
        auto ok = server->start();
        scar_fuzz_check(ok.has_value());
        url = "http://127.0.0.1:" + std::to_string(server->port());
    }
    ~running_emulator() {
        server->stop();
        std::error_code ec;
        fs::remove_all(data, ec);
    }
    running_emulator(const running_emulator&) = delete;
    running_emulator& operator=(const running_emulator&) = delete;
};

running_emulator& emulator() {
    static running_emulator e;
    return e;
}

void send_raw(std::uint16_t port, std::string_view bytes) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    scar_fuzz_check(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    scar_fuzz_check(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may close early on a bad head
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    ::shutdown(fd, SHUT_WR);
    char buf[16384];
    pollfd p{fd, POLLIN, 0};
    // A complete request gets an answer and then EOF; an incomplete one waits for its body
    // until the server's read timeout, so stop reading after a quiet second.
    while (::poll(&p, 1, 1000) > 0 && ::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    ::close(fd);
}

void send_signed(running_emulator& e, std::string_view in) {
    if (in.empty()) return;
    const std::string_view service = static_cast<unsigned char>(in[0]) % 2 == 0 ? "s3" : "logs";
    in.remove_prefix(1);
    const auto nl1 = in.find('\n');
    if (nl1 == std::string_view::npos) return;
    const auto method = in.substr(0, nl1);
    in.remove_prefix(nl1 + 1);
    const auto nl2 = in.find('\n');
    const auto target = in.substr(0, nl2);
    const auto body = nl2 == std::string_view::npos ? std::string_view{} : in.substr(nl2 + 1);
    if (method.empty() || method.find_first_of(" \r\n\t") != std::string_view::npos) return;
    if (target.empty() || target.front() != '/' || target.find_first_of(" \r\n\t#") != std::string_view::npos)
        return;
    scar::http::request req;
    req.method = std::string(method);
    req.url = e.url + std::string(target);
    req.body = std::string(body);
    if (service == "logs") {
        req.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
        req.headers.emplace_back(
            "X-Amz-Target",
            "Logs_20140328." + std::string(target.substr(1, target.find('?') - 1))
        );
        req.url = e.url + "/";
        req.method = "POST";
    }
    const scar::aws::credentials creds{"test", "test", "", "fuzz"};
    auto p = scar::sigv4::signing_params::make(creds, "us-east-1", service, scar::clock::system().now());
    if (!scar::sigv4::sign(req, p)) return;
    (void)e.http.send(req);
}

}  // namespace

SCAR_FUZZ_TARGET(data) {
    if (data.empty()) return;
    auto& e = emulator();
    if (static_cast<unsigned char>(data[0]) % 2 == 0) {
        send_raw(e.server->port(), data.substr(1));
    } else {
        send_signed(e, data.substr(1));
    }
    scar::http::request ping;
    ping.method = "GET";
    ping.url = e.url + "/";
    auto alive = e.http.send(ping);
    scar_fuzz_check(alive.has_value() && alive->status > 0);
}
