#include "dead_letters.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "../json_fields.hpp"
#include "../util.hpp"
#include <fcntl.h>
#include <unistd.h>

namespace scar::emulator::lambda {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

error io_error(const std::string& what, const fs::path& p, int err) {
    return make_error(
        "ServiceException",
        what + " '" + p.string() + "': " + std::strerror(err) + "; check the emulator's --data-dir",
        500
    );
}

/// Writes all of `text` to `fd`, then syncs it when asked.
result<void> write_all(int fd, std::string_view text, bool sync, const fs::path& p) {
    while (!text.empty()) {
        const auto n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return io_error("cannot write", p, errno);
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    if (sync && ::fdatasync(fd) != 0) return io_error("cannot sync", p, errno);
    return {};
}

std::string to_line(const dead_letter& d) {
    // "function", "payload" and "time" are what the first version of this file held.
    return json::serialize(json::object{
               {"id", d.id},
               {"function", d.function},
               {"function_arn", d.function_arn},
               {"qualifier", d.qualifier},
               {"on_failure", d.on_failure},
               {"dead_letter_target", d.dead_letter_target},
               {"request_id", d.request_id},
               {"payload", d.payload},
               {"condition", d.condition},
               {"error_type", d.error_type},
               {"error_message", d.error_message},
               {"attempts", d.attempts},
               {"accepted_ms", d.accepted_ms},
               {"first_attempt_ms", d.first_attempt_ms},
               {"last_attempt_ms", d.last_attempt_ms},
               {"dropped_ms", d.dropped_ms},
               {"time", iso8601_ms(d.dropped_ms)}}) +
           "\n";
}

std::optional<dead_letter> from_line(std::string_view line) {
    boost::system::error_code ec;
    const auto v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.as_object();
    dead_letter d;
    d.id = json_string(o, "id");
    d.function = json_string(o, "function");
    d.function_arn = json_string(o, "function_arn");
    d.qualifier = json_string(o, "qualifier");
    d.on_failure = json_string(o, "on_failure");
    d.dead_letter_target = json_string(o, "dead_letter_target");
    d.request_id = json_string(o, "request_id");
    d.payload = json_string(o, "payload");
    d.condition = json_string(o, "condition");
    if (d.condition.empty()) d.condition = "RetriesExhausted";
    d.error_type = json_string(o, "error_type");
    d.error_message = json_string(o, "error_message");
    d.attempts = static_cast<int>(json_int(o, "attempts").value_or(0));
    d.accepted_ms = json_int(o, "accepted_ms").value_or(0);
    d.first_attempt_ms = json_int(o, "first_attempt_ms").value_or(0);
    d.last_attempt_ms = json_int(o, "last_attempt_ms").value_or(0);
    d.dropped_ms = json_int(o, "dropped_ms").value_or(0);
    return d;
}

/// The time part of an id ("0192f3a4b5c6-…"), 0 when it has none.
std::int64_t id_ms(std::string_view id) {
    std::int64_t ms = 0;
    const auto end = id.data() + std::min<std::size_t>(id.size(), 12);
    if (std::from_chars(id.data(), end, ms, 16).ptr != end) return 0;
    return ms;
}

}  // namespace

result<std::unique_ptr<dead_letter_store>> dead_letter_store::open(fs::path file, bool fsync) {
    std::unique_ptr<dead_letter_store> s(new dead_letter_store(std::move(file), fsync));
    std::error_code ec;
    fs::create_directories(s->file_.parent_path(), ec);
    std::string text;
    {
        std::ifstream in(s->file_, std::ios::binary);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    // Lines without an id come from the first version of the file, and a last line without
    // its newline from a crash in the middle of an append: the rewrite settles both.
    bool settle = !text.empty() && text.back() != '\n';
    std::vector<dead_letter> all;
    for (std::size_t at = 0; at < text.size();) {
        auto end = text.find('\n', at);
        if (end == std::string::npos) break;
        if (auto d = from_line(std::string_view(text).substr(at, end - at))) {
            settle = settle || d->id.empty();
            all.push_back(std::move(*d));
        }
        at = end + 1;
    }
    for (auto& d : all) {
        s->last_id_ms_ = std::max(s->last_id_ms_, id_ms(d.id));
    }
    if (settle) {
        for (auto& d : all)
            if (d.id.empty()) d.id = s->next_id();
        if (auto ok = s->rewrite(all); !ok) return ok.error();
    }
    return s;
}

std::string dead_letter_store::next_id() {
    last_id_ms_ = std::max(last_id_ms_ + 1, now_ms());
    char buf[16];
    std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(last_id_ms_));
    return std::string(buf) + "-" + random_hex(4, false);
}

result<dead_letter> dead_letter_store::add(dead_letter d) {
    const std::lock_guard lock(mutex_);
    d.id = next_id();
    d.dropped_ms = now_ms();
    const unique_fd fd(::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) return io_error("cannot open", file_, errno);
    if (auto ok = write_all(fd.get(), to_line(d), fsync_, file_); !ok) return ok.error();
    return d;
}

result<std::vector<dead_letter>> dead_letter_store::read_all() const {
    std::vector<dead_letter> all;
    std::ifstream in(file_, std::ios::binary);
    if (!in && fs::exists(file_)) return io_error("cannot read", file_, EACCES);
    for (std::string line; std::getline(in, line);)
        if (auto d = from_line(line)) all.push_back(std::move(*d));
    return all;
}

result<void> dead_letter_store::rewrite(const std::vector<dead_letter>& all) const {
    const fs::path tmp = file_.string() + "." + random_hex(6, false) + ".tmp";
    {
        const unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) return io_error("cannot create", tmp, errno);
        std::string text;
        for (const auto& d : all) text += to_line(d);
        if (auto ok = write_all(fd.get(), text, fsync_, tmp); !ok) {
            ::unlink(tmp.c_str());
            return ok.error();
        }
    }
    if (::rename(tmp.c_str(), file_.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return io_error("cannot replace", file_, err);
    }
    return {};
}

result<dead_letter_store::page> dead_letter_store::list(
    std::string_view function,
    std::string_view marker,
    std::size_t max_items
) const {
    const std::lock_guard lock(mutex_);
    auto all = read_all();
    if (!all) return all.error();
    page out;
    for (auto& d : *all) {
        if (!function.empty() && d.function != function) continue;
        if (!marker.empty() && d.id <= marker) continue;  // ids increase down the file
        if (out.items.size() == max_items) {
            out.next_marker = out.items.back().id;
            break;
        }
        out.items.push_back(std::move(d));
    }
    return out;
}

result<std::vector<dead_letter_store::taken>> dead_letter_store::take_if(
    const std::function<bool(const dead_letter&)>& select,
    const std::function<result<std::string>(const dead_letter&)>& take
) {
    const std::lock_guard lock(mutex_);
    auto all = read_all();
    if (!all) return all.error();
    std::vector<taken> picked;
    std::vector<dead_letter> kept;
    for (auto& d : *all) {
        if (!select(d)) {
            kept.push_back(std::move(d));
            continue;
        }
        auto outcome = take(d);
        if (!outcome) kept.push_back(d);
        picked.push_back({std::move(d), std::move(outcome)});
    }
    if (kept.size() != all->size()) {
        if (auto ok = rewrite(kept); !ok) return ok.error();
    }
    return picked;
}

}  // namespace scar::emulator::lambda
