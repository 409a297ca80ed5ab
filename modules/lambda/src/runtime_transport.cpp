#include "runtime_transport.hpp"

#include <scar/core/encoding.hpp>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace scar::lambda::detail {
namespace {

constexpr std::size_t max_head = 64 * 1024;          // status line and header fields
constexpr std::size_t max_body = 256 * 1024 * 1024;  // far above Lambda's 6 MB payloads
constexpr std::size_t read_chunk = 256 * 1024;
constexpr int connect_timeout_ms = 10'000;

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

/// Whether the comma-separated field value holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const auto comma = value.find(',');
        if (encoding::iequals(trim(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

struct addrinfo_deleter {
    void operator()(addrinfo* a) const noexcept { ::freeaddrinfo(a); }
};

}  // namespace

runtime_transport::runtime_transport(std::string_view api) {
    std::string_view hostport = api;
    if (const auto slash = api.find('/'); slash != std::string_view::npos) {
        hostport = api.substr(0, slash);
        prefix_ = api.substr(slash);
        while (prefix_.ends_with('/')) prefix_.pop_back();
    }
    host_ = hostport;
    std::string_view name = hostport;
    std::string_view port = "80";
    if (hostport.starts_with('[')) {
        const auto close = hostport.find(']');
        if (close == std::string_view::npos) {
            parse_error_ = "an IPv6 address is not closed by ']'";
        } else {
            name = hostport.substr(1, close - 1);
            const auto rest = hostport.substr(close + 1);
            if (rest.starts_with(':')) {
                port = rest.substr(1);
            } else if (!rest.empty()) {
                parse_error_ = "'" + std::string(rest) + "' follows the IPv6 address";
            }
        }
    } else if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
        name = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (parse_error_.empty() && name.empty()) parse_error_ = "it names no host";
    if (parse_error_.empty() && (port.empty() || ec != std::errc() || end != port.data() + port.size() ||
                                 number == 0 || number > 65535))
        parse_error_ = "'" + std::string(port) + "' is not a port number";
    name_ = name;
    port_ = port;
    base_url_ = "http://" + host_ + prefix_;
}

error runtime_transport::network_error(std::string_view what) const {
    return make_error("NetworkError", where_ + ": " + std::string(what), 0, true);
}

result<void> runtime_transport::connect() {
    fd_.reset();
    in_.clear();
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(name_.c_str(), port_.c_str(), &hints, &found); rc != 0) {
        return network_error(
            "cannot resolve '" + name_ + "': " + ::gai_strerror(rc) + "; check AWS_LAMBDA_RUNTIME_API"
        );
    }
    const std::unique_ptr<addrinfo, addrinfo_deleter> list(found);
    int last_errno = 0;
    for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
        unique_fd fd(::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!fd) {
            last_errno = errno;
            continue;
        }
        int rc = ::connect(fd.get(), a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            pollfd p{fd.get(), POLLOUT, 0};
            do {
                rc = ::poll(&p, 1, connect_timeout_ms);
            } while (rc < 0 && errno == EINTR);
            if (rc == 0) {
                last_errno = ETIMEDOUT;
                continue;
            }
            int so_error = 0;
            socklen_t len = sizeof so_error;
            if (rc < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) {
                last_errno = errno;
                continue;
            }
            errno = so_error;
            rc = so_error == 0 ? 0 : -1;
        }
        if (rc != 0) {
            last_errno = errno;
            continue;
        }
        const int flags = ::fcntl(fd.get(), F_GETFL);
        ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
        const int one = 1;
        ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        fd_ = std::move(fd);
        return {};
    }
    return network_error(
        "cannot connect to " + host_ + ": " + std::strerror(last_errno) +
        "; is the Runtime API (AWS_LAMBDA_RUNTIME_API) running?"
    );
}

int runtime_transport::read_more(error& err) {
    const std::size_t old = in_.size();
    in_.resize(old + read_chunk);
    ssize_t n = 0;
    do {
        n = ::recv(fd_.get(), in_.data() + old, read_chunk, 0);
    } while (n < 0 && errno == EINTR);
    in_.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n > 0) return 1;
    err = network_error(
        n == 0 ? std::string("the Runtime API closed the connection before a whole answer")
               : std::string("cannot read the answer: ") + std::strerror(errno)
    );
    return n == 0 ? 0 : -1;
}

runtime_transport::outcome runtime_transport::exchange(
    const std::string& head,
    std::string_view body,
    bool head_request,
    http::response& out,
    error& err
) {
    // The request: header block and body in one sendmsg where they fit. A server may answer
    // and close before taking the whole body (a payload over its limit): when sending
    // fails, its answer is still read, and the send error reported only if there is none.
    std::optional<error> send_error;
    std::array<iovec, 2> iov{
        iovec{const_cast<char*>(head.data()), head.size()},   // NOLINT(cppcoreguidelines-pro-type-const-cast)
        iovec{const_cast<char*>(body.data()), body.size()}};  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    std::size_t first = 0;
    while (first < iov.size()) {
        msghdr msg{};
        msg.msg_iov = &iov[first];
        msg.msg_iovlen = iov.size() - first;
        const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            send_error = network_error(std::string("cannot send the request: ") + std::strerror(errno));
            break;
        }
        auto sent = static_cast<std::size_t>(n);
        while (first < iov.size() && sent >= iov[first].iov_len) {
            sent -= iov[first].iov_len;
            ++first;
        }
        if (first < iov.size()) {
            iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + sent;
            iov[first].iov_len -= sent;
        }
    }

    // The status line and header fields, after any 1xx interim answers.
    bool received = false;
    bool http10 = false;
    for (;;) {
        std::size_t end = std::string::npos;
        while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
            if (in_.size() > max_head) {
                err = network_error("the answer's header block is over 64 KiB");
                return outcome::failed;
            }
            if (read_more(err) <= 0) {
                if (send_error) err = *send_error;
                return received || !in_.empty() ? outcome::failed : outcome::stale;
            }
        }
        received = true;
        const std::string_view block(in_.data(), end);
        const auto line_end = block.find("\r\n");
        const std::string_view status_line = block.substr(0, line_end);
        int status = 0;
        if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") ||
            std::from_chars(status_line.data() + 9, status_line.data() + 12, status).ec != std::errc()) {
            err =
                network_error("the answer is not HTTP/1.x: '" + std::string(status_line.substr(0, 80)) + "'");
            return outcome::failed;
        }
        http10 = status_line[7] == '0';
        out.status = status;
        out.headers.clear();
        std::string_view fields =
            line_end == std::string_view::npos ? std::string_view{} : block.substr(line_end + 2);
        while (!fields.empty()) {
            const auto eol = fields.find("\r\n");
            const std::string_view line = fields.substr(0, eol);
            if (const auto colon = line.find(':'); colon != std::string_view::npos && colon != 0)
                out.headers.emplace_back(
                    std::string(line.substr(0, colon)),
                    std::string(trim(line.substr(colon + 1)))
                );
            if (eol == std::string_view::npos) break;
            fields.remove_prefix(eol + 2);
        }
        in_.erase(0, end + 4);
        if (status >= 200 || status == 101) break;
    }

    // The body.
    const auto connection = out.header("connection");
    bool close = http10 ? !(connection && has_token(*connection, "keep-alive"))
                        : (connection && has_token(*connection, "close"));
    const auto encoding = out.header("transfer-encoding");
    const auto length = out.header("content-length");
    if (head_request || out.status == 204 || out.status == 304) {
        // no body
    } else if (encoding && has_token(*encoding, "chunked")) {
        for (;;) {
            std::size_t eol = std::string::npos;
            while ((eol = in_.find("\r\n")) == std::string::npos) {
                if (in_.size() > max_head) {
                    err = network_error("a chunk size line of the answer is over 64 KiB");
                    return outcome::failed;
                }
                if (read_more(err) <= 0) return outcome::failed;
            }
            const std::string_view size_line =
                trim(std::string_view(in_).substr(0, in_.find_first_of(";\r")));
            std::size_t size = 0;
            const auto [p, ec] =
                std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
            if (size_line.empty() || ec != std::errc() || p != size_line.data() + size_line.size() ||
                size > max_body - out.body.size()) {
                err = network_error(
                    "the answer has a bad chunk size '" + std::string(size_line.substr(0, 20)) + "'"
                );
                return outcome::failed;
            }
            in_.erase(0, eol + 2);
            if (size == 0) {
                // Trailer fields, up to the empty line.
                for (;;) {
                    while ((eol = in_.find("\r\n")) == std::string::npos) {
                        if (in_.size() > max_head || read_more(err) <= 0) {
                            if (in_.size() > max_head)
                                err = network_error("the answer's trailer is over 64 KiB");
                            return outcome::failed;
                        }
                    }
                    in_.erase(0, eol + 2);
                    if (eol == 0) break;
                }
                break;
            }
            while (in_.size() < size + 2) {
                if (read_more(err) <= 0) return outcome::failed;
            }
            if (in_.compare(size, 2, "\r\n") != 0) {
                err = network_error("a chunk of the answer does not end with CRLF");
                return outcome::failed;
            }
            out.body.append(in_, 0, size);
            in_.erase(0, size + 2);
        }
    } else if (length) {
        std::size_t n = 0;
        const auto [p, ec] = std::from_chars(length->data(), length->data() + length->size(), n);
        if (ec != std::errc() || p != length->data() + length->size() || n > max_body) {
            err = network_error("the answer has a bad Content-Length '" + std::string(*length) + "'");
            return outcome::failed;
        }
        in_.reserve(n);
        while (in_.size() < n) {
            if (read_more(err) <= 0) return outcome::failed;
        }
        out.body.assign(in_, 0, n);
        in_.erase(0, n);
    } else {
        // No length: the body runs to the end of the connection.
        for (;;) {
            if (in_.size() > max_body) {
                err = network_error("the answer is over 256 MiB");
                return outcome::failed;
            }
            const int got = read_more(err);
            if (got < 0) return outcome::failed;
            if (got == 0) break;
        }
        out.body = std::move(in_);
        in_.clear();
        close = true;
    }
    if (close || send_error || !in_.empty()) {
        fd_.reset();
        in_.clear();
    }
    return outcome::answered;
}

result<http::response> runtime_transport::send(
    std::string_view method,
    std::string_view path,
    const http::header_list& headers,
    std::string_view body
) {
    where_ = std::string(method) + " " + base_url_ + std::string(path);
    if (!parse_error_.empty()) {
        return make_error(
            "InvalidRequest",
            "AWS_LAMBDA_RUNTIME_API '" + host_ + prefix_ + "' is not host:port[/path]: " + parse_error_
        );
    }
    std::string head;
    head.reserve(256);
    head.append(method).append(" ").append(prefix_).append(path).append(" HTTP/1.1\r\nHost: ").append(host_);
    head += "\r\n";
    for (const auto& [name, value] : headers) head.append(name).append(": ").append(value).append("\r\n");
    const bool has_body = method != "GET" && method != "HEAD";
    if (has_body) head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    head += "\r\n";
    for (int attempt = 1;; ++attempt) {
        const bool reused = fd_.valid();
        if (!reused) {
            if (auto c = connect(); !c) return c.error();
        }
        http::response out;
        error err;
        switch (exchange(head, has_body ? body : std::string_view{}, method == "HEAD", out, err)) {
            case outcome::answered:
                return out;
            case outcome::stale:
                fd_.reset();
                if (reused && attempt == 1) continue;  // the server closed an idle connection
                return err;
            case outcome::failed:
                fd_.reset();
                return err;
        }
    }
}

}  // namespace scar::lambda::detail
