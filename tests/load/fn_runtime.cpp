// The Lambda custom runtime of the load and security suites: static, one keep-alive socket
// to the Runtime API, no HTTP or JSON library, so a cold start costs the emulator's work
// and not the runtime's. What it does with an event (a JSON object; only flat string and
// integer fields are read):
//
//   {"seq":N,"gate":P}             prints "delivered <event>" to stdout (the function's log,
//                                  which the load suite counts); with "gate", connects to
//                                  127.0.0.1:P and waits for one byte (the test holds the
//                                  invocation open until it releases it); echoes the event
//   {"op":"write","path":P,"data":D}   writes D to P        → {"ok":true} or {"ok":false,"errno":"EROFS"}
//   {"op":"read","path":P}             reads P              → {"ok":true,"data":"…"} or the errno
//   {"op":"list","path":P}             names in directory P → {"ok":true,"data":"a\nb\n"} or the errno
//
// Values must not contain escaped quotes; the suites choose them.

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int sock = -1;
std::string inbox;

bool send_all(int fd, const std::string& s) {
    for (std::size_t done = 0; done < s.size();) {
        const auto n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool write_all(int fd, const std::string& s) {
    for (std::size_t done = 0; done < s.size();) {
        const auto n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool receive_more() {
    char buf[65536];
    for (;;) {
        const auto n = ::recv(sock, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        inbox.append(buf, static_cast<std::size_t>(n));
        return true;
    }
}

struct reply {
    int status = 0;
    std::string request_id;
    std::string body;
};

/// Reads one HTTP response (Content-Length framed, as the emulator answers).
bool receive(reply& out) {
    std::size_t end;
    while ((end = inbox.find("\r\n\r\n")) == std::string::npos)
        if (!receive_more()) return false;
    const std::string head = inbox.substr(0, end + 2);
    inbox.erase(0, end + 4);
    out.status = std::atoi(head.c_str() + 9);
    std::size_t length = 0;
    std::size_t at = head.find("\r\n");
    while (at != std::string::npos && at + 2 < head.size()) {
        const auto next = head.find("\r\n", at + 2);
        const std::string line = head.substr(at + 2, next - at - 2);
        at = next;
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "content-length") length = std::strtoul(value.c_str(), nullptr, 10);
        if (name == "lambda-runtime-aws-request-id") out.request_id = value;
    }
    while (inbox.size() < length)
        if (!receive_more()) return false;
    out.body = inbox.substr(0, length);
    inbox.erase(0, length);
    return true;
}

/// The string value of `"key":"…"` in `event`, or "".
std::string field(const std::string& event, const std::string& key) {
    const auto at = event.find("\"" + key + "\":\"");
    if (at == std::string::npos) return {};
    const auto start = at + key.size() + 4;
    const auto end = event.find('"', start);
    return end == std::string::npos ? std::string() : event.substr(start, end - start);
}

/// The integer value of `"key":N` in `event`, or 0.
long number(const std::string& event, const std::string& key) {
    const auto at = event.find("\"" + key + "\":");
    return at == std::string::npos ? 0 : std::strtol(event.c_str() + at + key.size() + 3, nullptr, 10);
}

std::string json_escape(const std::string& s) {
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out.append(buf);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

std::string failed(int err) {
    const char* name = ::strerrorname_np(err);
    return std::string(R"({"ok":false,"errno":")") + (name != nullptr ? name : "unknown") + "\"}";
}

std::string succeeded(const std::string& data) {
    return R"({"ok":true,"data":")" + json_escape(data) + "\"}";
}

std::string do_write(const std::string& path, const std::string& data) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return failed(errno);
    const bool ok = write_all(fd, data);
    const int err = errno;
    ::close(fd);
    return ok ? succeeded("") : failed(err);
}

std::string do_read(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return failed(errno);
    std::string data;
    char buf[65536];
    for (;;) {
        const auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            return failed(err);
        }
        if (n == 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return succeeded(data);
}

std::string do_list(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return failed(errno);
    std::string names;
    while (const dirent* e = ::readdir(dir)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") names += name + "\n";
    }
    ::closedir(dir);
    return succeeded(names);
}

std::string handle(const std::string& event) {
    const std::string op = field(event, "op");
    if (op == "write") return do_write(field(event, "path"), field(event, "data"));
    if (op == "read") return do_read(field(event, "path"));
    if (op == "list") return do_list(field(event, "path"));
    (void)write_all(STDOUT_FILENO, "delivered " + event + "\n");
    if (const long port = number(event, "gate"); port > 0) {
        sockaddr_in gate{};
        gate.sin_family = AF_INET;
        gate.sin_port = htons(static_cast<std::uint16_t>(port));
        gate.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char byte = 0;
        if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&gate), sizeof gate) != 0)
            return R"({"gate":"cannot connect"})";
        while (::recv(fd, &byte, 1, 0) < 0 && errno == EINTR) {
        }
        ::close(fd);
    }
    return event;
}

}  // namespace

int main() {
    const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (api == nullptr) return 2;
    const std::string address = api;
    const auto slash = address.find('/');
    const std::string host = address.substr(0, slash);
    const std::string base =
        (slash == std::string::npos ? "" : address.substr(slash)) + "/2018-06-01/runtime/invocation/";
    const auto colon = host.rfind(':');
    if (colon == std::string::npos) return 2;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(host.c_str() + colon + 1)));
    if (::inet_pton(AF_INET, host.substr(0, colon).c_str(), &addr.sin_addr) != 1) return 2;
    sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || ::connect(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return 1;
    const int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        if (!send_all(sock, "GET " + base + "next HTTP/1.1\r\nHost: " + host + "\r\n\r\n")) return 1;
        reply next;
        if (!receive(next) || next.status != 200 || next.request_id.empty()) return 1;
        const std::string answer = handle(next.body);
        if (!send_all(
                sock,
                "POST " + base + next.request_id + "/response HTTP/1.1\r\nHost: " + host +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(answer.size()) +
                    "\r\n\r\n" + answer
            ))
            return 1;
        reply posted;
        if (!receive(posted) || posted.status != 202) return 1;
    }
}
