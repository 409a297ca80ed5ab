// The smallest Lambda custom runtime: the Runtime API over one keep-alive socket, no HTTP
// library, statically linked. It starts in well under a millisecond, so the cold start the
// benchmark measures with it is the emulator's own (container, process, Runtime API), not
// the cost of loading libcurl and OpenSSL (~17 ms of page faults on a small VM, measured by
// the other runtime, lambda_runtime.cpp).

#include <cstdlib>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int fd = -1;
std::string host;
std::string prefix;  // the path the emulator puts before /2018-06-01
std::string buffered;

bool send_all(const std::string& s) {
    for (std::size_t done = 0; done < s.size();) {
        const auto n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool fill() {
    char buf[65536];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffered.append(buf, static_cast<std::size_t>(n));
    return true;
}

/// One response: its status, the request id header, the body.
bool receive(int& status, std::string& request_id, std::string& body) {
    std::size_t end;
    while ((end = buffered.find("\r\n\r\n")) == std::string::npos)
        if (!fill()) return false;
    const std::string head = buffered.substr(0, end + 2);
    buffered.erase(0, end + 4);
    status = std::atoi(head.c_str() + 9);
    std::size_t length = 0;
    for (std::size_t at = head.find("\r\n"); at != std::string::npos && at + 2 < head.size();) {
        const auto next = head.find("\r\n", at + 2);
        std::string line = head.substr(at + 2, next - at - 2);
        const auto colon = line.find(':');
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "content-length") length = std::strtoul(value.c_str(), nullptr, 10);
        if (name == "lambda-runtime-aws-request-id") request_id = value;
        at = next;
    }
    while (buffered.size() < length)
        if (!fill()) return false;
    body = buffered.substr(0, length);
    buffered.erase(0, length);
    return true;
}

}  // namespace

int main() {
    const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (api == nullptr) return 2;
    const std::string a = api;
    const auto slash = a.find('/');
    host = a.substr(0, slash);
    prefix = slash == std::string::npos ? "" : a.substr(slash);
    const auto colon = host.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(host.c_str() + colon + 1)));
    if (::inet_pton(AF_INET, host.substr(0, colon).c_str(), &addr.sin_addr) != 1) return 2;
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 1;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::string base = prefix + "/2018-06-01/runtime/invocation/";
    // BENCH_RESPONSE: answer this instead of echoing the event (an API Gateway proxy
    // response for the API Gateway benchmark).
    const char* fixed = std::getenv("BENCH_RESPONSE");
    for (;;) {
        if (!send_all("GET " + base + "next HTTP/1.1\r\nHost: " + host + "\r\n\r\n")) return 1;
        int status = 0;
        std::string id, event;
        if (!receive(status, id, event) || status != 200 || id.empty()) return 1;
        if (fixed != nullptr) event = fixed;
        if (!send_all(
                "POST " + base + id + "/response HTTP/1.1\r\nHost: " + host +
                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(event.size()) +
                "\r\n\r\n" + event
            ))
            return 1;
        std::string ignored_id, ignored;
        if (!receive(status, ignored_id, ignored) || status != 202) return 1;
    }
}
