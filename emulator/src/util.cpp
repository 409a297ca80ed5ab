#include "util.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/sigv4/canonical.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <unistd.h>

namespace scar::emulator {

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start < query.size()) {
        auto end = query.find('&', start);
        if (end == std::string_view::npos) end = query.size();
        const auto pair = query.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        const auto raw_name = pair.substr(0, eq);
        const auto raw_value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        auto name = encoding::uri_decode(raw_name, true);
        auto value = encoding::uri_decode(raw_value, true);
        out.emplace_back(
            name ? std::move(*name) : std::string(raw_name),
            value ? std::move(*value) : std::string(raw_value)
        );
    }
    return out;
}

std::int64_t now_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}

namespace {
std::tm utc(std::int64_t ms) {
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return tm;
}
}  // namespace

std::string iso8601_ms(std::int64_t ms) {
    const std::tm tm = utc(ms);
    char buf[32];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf, n);
    const auto frac = static_cast<int>(ms % 1000);
    out.push_back('.');
    out.push_back(static_cast<char>('0' + frac / 100));
    out.push_back(static_cast<char>('0' + frac / 10 % 10));
    out.push_back(static_cast<char>('0' + frac % 10));
    out.push_back('Z');
    return out;
}

std::string http_date(std::int64_t ms) {
    const std::tm tm = utc(ms);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return {buf, n};
}

std::int64_t parse_http_date_ms(std::string_view s) noexcept {
    const auto t = sigv4::parse_http_date(s);
    if (!t) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

std::string random_hex(std::size_t n, bool upper) {
    const auto bytes = crypto::random_bytes(n);
    auto hex = encoding::to_hex(
        std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())  // NOLINT
    );
    if (upper)
        for (auto& c : hex)
            if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    return hex;
}

result<void> replace_file(
    const std::filesystem::path& path,
    std::string_view content,
    std::string_view error_code,
    bool sync
) {
    const std::filesystem::path tmp = path.string() + "." + random_hex(6, false) + ".tmp";
    const auto failed = [&](std::string_view what, int err) -> error {
        ::unlink(tmp.c_str());
        return make_error(
            std::string(error_code),
            std::string(what) + " '" + tmp.string() + "': " + std::strerror(err) +
                (err == ENOSPC ? "; the emulator's data directory is full, free some space" : ""),
            500,
            true
        );
    };
    const unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return failed("cannot create", errno);
    while (!content.empty()) {
        const auto n = ::write(fd.get(), content.data(), content.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return failed("cannot write", n < 0 ? errno : EIO);
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    if (sync && ::fdatasync(fd.get()) != 0) return failed("cannot sync", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return failed("cannot rename", errno);
    return {};
}

}  // namespace scar::emulator
