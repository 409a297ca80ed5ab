#pragma once
// One HTTP request and its response, as services see them. The session (http_server.cpp)
// fills the request part, lets the router and a service handle it, then writes the response.

#include <scar/core/error.hpp>
#include <scar/core/http.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scar::emulator {

namespace net = boost::asio;

/// Reads the request body from the connection, piece by piece.
class body_reader {
public:
    virtual ~body_reader() = default;
    /// Fills `buf` with the next bytes of the body; 0 at its end.
    virtual net::awaitable<result<std::size_t>> read_some(std::span<char> buf) = 0;
};

/// A response body taken from an open file (GET of an object). The descriptor is opened
/// while the object is current, so a concurrent overwrite or delete cannot change what is
/// sent.
struct file_range {
    std::shared_ptr<const int> fd;  ///< closes the file when the last holder lets go
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct exchange {
    // --- request ---
    std::string method;
    std::string target;  ///< raw request-target
    std::string path;    ///< raw path, still percent-encoded
    std::string query;   ///< raw query, without '?'
    /// Decoded query parameters in order ('+' decodes to a space, as form encoding does).
    std::vector<std::pair<std::string, std::string>> params;
    http::header_list headers;
    bool has_body = false;
    std::optional<std::uint64_t> content_length;
    std::string remote_address;
    std::string request_id;
    /// The whole body, when the router read it before dispatch (JSON services).
    std::optional<std::string> body;
    body_reader* reader = nullptr;
    bool body_consumed = false;

    // --- response ---
    int status = 200;
    http::header_list response_headers;
    std::string response_body;
    std::optional<file_range> response_file;
    /// Content-Length to announce without a body (HEAD).
    std::optional<std::uint64_t> head_length;

    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept {
        return http::find_header(headers, name);
    }
    [[nodiscard]] const std::string* param(std::string_view name) const noexcept {
        for (const auto& [n, v] : params)
            if (n == name) return &v;
        return nullptr;
    }
    [[nodiscard]] bool has_param(std::string_view name) const noexcept { return param(name) != nullptr; }

    /// Streams the body to `sink`; fails with `EntityTooLarge` past `limit` bytes.
    net::awaitable<result<void>> read_body(
        const std::function<result<void>(std::string_view)>& sink,
        std::uint64_t limit
    );
    /// The whole body in memory (at most `limit` bytes).
    net::awaitable<result<std::string>> read_body(std::uint64_t limit);

    void set_header(std::string_view name, std::string value) {
        http::set_header(response_headers, name, std::move(value));
    }
};

}  // namespace scar::emulator
