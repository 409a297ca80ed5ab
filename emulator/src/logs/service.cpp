#include "service.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "../json_fields.hpp"
#include "../util.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace scar::emulator::logs {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

error invalid(std::string message) {
    return make_error("InvalidParameterException", std::move(message), 400);
}

error group_not_found(const std::string& name) {
    return make_error(
        "ResourceNotFoundException",
        "The specified log group does not exist: '" + name + "'",
        400
    );
}

bool flag(const json::object& o, std::string_view k, bool fallback) {
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_bool() ? v->as_bool() : fallback;
}

result<std::string> required(const json::object& o, std::string_view k) {
    auto v = json_string(o, k);
    if (v.empty()) {
        return invalid(
            "1 validation error detected: Value null at '" + std::string(k) +
            "' failed to satisfy constraint: Member must not be null"
        );
    }
    return v;
}

/// A filter pattern of space-separated terms (a term in double quotes may contain spaces):
/// every term must occur in the message. CloudWatch's JSON and metric patterns are not
/// supported and are refused.
result<std::vector<std::string>> parse_pattern(std::string_view p) {
    std::vector<std::string> terms;
    std::size_t i = 0;
    while (i < p.size()) {
        if (p[i] == ' ') {
            ++i;
            continue;
        }
        if (p[i] == '{' || p[i] == '[') {
            return invalid(
                "the emulator supports filter patterns made of terms and \"quoted phrases\" only, not JSON "
                "or space-delimited patterns"
            );
        }
        if (p[i] == '"') {
            const auto end = p.find('"', i + 1);
            if (end == std::string_view::npos) return invalid("unterminated quote in the filter pattern");
            terms.emplace_back(p.substr(i + 1, end - i - 1));
            i = end + 1;
        } else {
            const auto end = std::min(p.find(' ', i), p.size());
            terms.emplace_back(p.substr(i, end - i));
            i = end;
        }
    }
    return terms;
}

}  // namespace

result<std::shared_ptr<service>> service::open(fs::path root, std::string region, std::string account) {
    auto s = std::make_shared<service>(std::move(root), std::move(region), std::move(account));
    if (auto ok = s->load(); !ok) return ok.error();
    return s;
}

fs::path service::stream_file(const std::string& group, const std::string& stream) const {
    return root_ / encoding::to_hex(crypto::sha256_of(group)) /
           (encoding::to_hex(crypto::sha256_of(stream)) + ".jsonl");
}

bool service::retained(const group_state& g, const log_event& e, std::int64_t now) noexcept {
    return !g.retention_days || e.ingestion >= now - *g.retention_days * day_ms;
}

result<void> service::load() {
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec)
        return make_error("InternalError", "cannot create '" + root_.string() + "': " + ec.message(), 500);
    std::ifstream in(root_ / "groups.json");
    if (!in) return {};
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::system::error_code jec;
    const auto doc = json::parse(text, jec);
    if (jec || !doc.is_array()) return {};
    for (const auto& g : doc.as_array()) {
        if (!g.is_object()) continue;
        group_state gs;
        gs.name = json_string(g.as_object(), "name");
        gs.created = json_int(g.as_object(), "created").value_or(0);
        if (const auto r = json_int(g.as_object(), "retention")) gs.retention_days = static_cast<int>(*r);
        const fs::path dir = root_ / encoding::to_hex(crypto::sha256_of(gs.name));
        for (const auto& f : fs::directory_iterator(dir, ec)) {
            std::ifstream sin(f.path());
            std::string line;
            stream_state ss;
            bool header = true;
            while (std::getline(sin, line)) {
                boost::system::error_code lec;
                const auto v = json::parse(line, lec);
                if (lec || !v.is_object()) continue;  // a torn last line after a crash
                const auto& o = v.as_object();
                if (header) {
                    ss.name = json_string(o, "stream");
                    ss.created = json_int(o, "created").value_or(0);
                    header = false;
                    continue;
                }
                log_event e{json_int(o, "t").value_or(0), json_int(o, "i").value_or(0), json_string(o, "m")};
                ss.stored_bytes += static_cast<std::int64_t>(e.message.size());
                ss.events.push_back(std::move(e));
            }
            if (!ss.name.empty()) gs.streams.emplace(ss.name, std::move(ss));
        }
        groups_.emplace(gs.name, std::move(gs));
    }
    return {};
}

result<void> service::save_groups() const {
    json::array a;
    for (const auto& [name, g] : groups_) {
        json::object o{{"name", name}, {"created", g.created}};
        if (g.retention_days) o["retention"] = *g.retention_days;
        a.push_back(std::move(o));
    }
    return replace_file(root_ / "groups.json", json::serialize(a), "ServiceUnavailableException");
}

result<void> service::persist(const std::string& group, const stream_state& s, std::size_t from) const {
    const fs::path p = stream_file(group, s.name);
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    const unique_fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    struct stat before {};
    if (fd && ::fstat(fd.get(), &before) == 0) {
        std::string out;
        if (before.st_size == 0) {
            out = json::serialize(json::object{{"stream", s.name}, {"created", s.created}}) + "\n";
        }
        for (std::size_t i = from; i < s.events.size(); ++i) {
            const auto& e = s.events[i];
            out += json::serialize(json::object{{"t", e.timestamp}, {"i", e.ingestion}, {"m", e.message}});
            out += '\n';
        }
        std::string_view rest = out;
        while (!rest.empty()) {
            const auto n = ::write(fd.get(), rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                if (n == 0) errno = EIO;
                break;
            }
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
        if (rest.empty()) return {};
    }
    const int err = errno;
    // A short write (a full disk) would leave a torn line that the next append glues to its
    // first event; cut the file back to its last whole line.
    if (fd) (void)::ftruncate(fd.get(), before.st_size);
    return make_error(
        "ServiceUnavailableException",
        "cannot append to '" + p.string() + "': " + std::strerror(err) +
            (err == ENOSPC ? "; the emulator's data directory is full, free some space" : ""),
        500,
        true
    );
}

result<std::pair<service::group_state*, service::stream_state*>> service::existing_stream(
    const boost::json::object& in,
    const std::string& group_name
) {
    auto stream = required(in, "logStreamName");
    if (!stream) return stream.error();
    auto g = group(group_name);
    if (!g) return g.error();
    const auto s = (*g)->streams.find(*stream);
    if (s == (*g)->streams.end()) {
        return make_error(
            "ResourceNotFoundException",
            "The specified log stream does not exist: '" + *stream + "'",
            400
        );
    }
    return std::make_pair(*g, &s->second);
}

result<service::group_state*> service::group(const std::string& name) {
    const auto it = groups_.find(name);
    if (it == groups_.end()) return group_not_found(name);
    return &it->second;
}

result<void> service::append(
    const std::string& group_name,
    const std::string& stream,
    std::vector<log_event> events
) {
    const std::lock_guard lock(mutex_);
    auto [git, new_group] = groups_.try_emplace(group_name);
    auto& g = git->second;
    if (new_group) {
        g.name = group_name;
        g.created = now_ms();
        if (auto ok = save_groups(); !ok) {
            groups_.erase(git);
            return ok;
        }
    }
    auto [sit, new_stream] = g.streams.try_emplace(stream);
    auto& s = sit->second;
    if (new_stream) {
        s.name = stream;
        s.created = now_ms();
    }
    const std::size_t from = s.events.size();
    const auto now = now_ms();
    for (auto& e : events) {
        if (e.ingestion == 0) e.ingestion = now;
        // Program output may be any bytes; what is not UTF-8 becomes U+FFFD, as on
        // CloudWatch (raw, it would make the JSON answers unreadable).
        e.message = encoding::to_valid_utf8(e.message);
        s.stored_bytes += static_cast<std::int64_t>(e.message.size());
        s.events.push_back(std::move(e));
    }
    auto stored = persist(group_name, s, new_stream ? 0 : from);
    if (!stored) {
        // What could not be written is not kept either: memory and disk agree.
        for (std::size_t i = from; i < s.events.size(); ++i)
            s.stored_bytes -= static_cast<std::int64_t>(s.events[i].message.size());
        s.events.resize(from);
        if (new_stream) g.streams.erase(sit);
    }
    return stored;
}

std::vector<log_event> service::events(const std::string& group_name, const std::string& stream) const {
    const std::lock_guard lock(mutex_);
    const auto g = groups_.find(group_name);
    if (g == groups_.end()) return {};
    const auto s = g->second.streams.find(stream);
    return s == g->second.streams.end() ? std::vector<log_event>{} : s->second.events;
}

void service::write_error(exchange& ex, const error& e) const {
    ex.status = e.http_status != 0 ? e.http_status : 500;
    ex.set_header("Content-Type", "application/x-amz-json-1.1");
    ex.set_header("x-amzn-RequestId", ex.request_id);
    ex.response_body = json::serialize(json::object{{"__type", e.code}, {"message", e.message}});
}

net::awaitable<void> service::handle(exchange& ex, const sigv4::verified_request&) {
    const auto target = ex.header("x-amz-target").value_or("");
    constexpr std::string_view prefix = "Logs_20140328.";
    if (ex.method != "POST" || !target.starts_with(prefix)) {
        write_error(
            ex,
            make_error(
                "UnknownOperationException",
                "expected a POST with X-Amz-Target: Logs_20140328.<Operation>",
                400
            )
        );
        co_return;
    }
    auto out = dispatch(target.substr(prefix.size()), ex.body.value_or("{}"));
    if (!out) {
        write_error(ex, out.error());
        co_return;
    }
    ex.set_header("Content-Type", "application/x-amz-json-1.1");
    ex.set_header("x-amzn-RequestId", ex.request_id);
    ex.response_body = std::move(*out);
}

result<std::string> service::dispatch(std::string_view op, const std::string& body) {
    boost::system::error_code jec;
    const auto doc = json::parse(body.empty() ? "{}" : body, jec);
    if (jec || !doc.is_object())
        return make_error("SerializationException", "the request body is not a JSON object", 400);
    const auto& in = doc.as_object();
    const std::lock_guard lock(mutex_);
    const auto now = now_ms();

    if (op == "CreateLogGroup") {
        auto name = required(in, "logGroupName");
        if (!name) return name.error();
        if (groups_.contains(*name)) {
            return make_error(
                "ResourceAlreadyExistsException",
                "The specified log group already exists: '" + *name + "'",
                400
            );
        }
        auto& g = groups_[*name];
        g.name = *name;
        g.created = now;
        if (auto ok = save_groups(); !ok) {
            groups_.erase(*name);
            return ok.error();
        }
        return std::string("{}");
    }
    if (op == "DeleteLogGroup") {
        auto name = required(in, "logGroupName");
        if (!name) return name.error();
        if (!groups_.erase(*name)) return group_not_found(*name);
        std::error_code ec;
        fs::remove_all(root_ / encoding::to_hex(crypto::sha256_of(*name)), ec);
        if (auto ok = save_groups(); !ok) return ok.error();
        return std::string("{}");
    }
    if (op == "PutRetentionPolicy" || op == "DeleteRetentionPolicy") {
        auto name = required(in, "logGroupName");
        if (!name) return name.error();
        auto g = group(*name);
        if (!g) return g.error();
        if (op == "PutRetentionPolicy") {
            static constexpr std::array<int, 22> allowed = {1,    3,    5,    7,    14,   30,  60,  90,
                                                            120,  150,  180,  365,  400,  545, 731, 1096,
                                                            1827, 2192, 2557, 2922, 3288, 3653};
            const auto days = json_int(in, "retentionInDays");
            if (!days || std::find(allowed.begin(), allowed.end(), *days) == allowed.end()) {
                return invalid(
                    "retentionInDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
                    "545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"
                );
            }
            (*g)->retention_days = static_cast<int>(*days);
        } else {
            (*g)->retention_days.reset();
        }
        if (auto ok = save_groups(); !ok) return ok.error();
        return std::string("{}");
    }
    if (op == "DescribeLogGroups") {
        const auto prefix = json_string(in, "logGroupNamePrefix");
        const auto limit =
            static_cast<std::size_t>(std::clamp<std::int64_t>(json_int(in, "limit").value_or(50), 1, 50));
        const auto token = json_string(in, "nextToken");
        json::array out;
        std::string last;
        for (auto it = token.empty() ? groups_.lower_bound(prefix) : groups_.upper_bound(token);
             it != groups_.end();
             ++it) {
            if (!it->first.starts_with(prefix)) break;
            if (out.size() == limit) {
                return json::serialize(json::object{{"logGroups", out}, {"nextToken", last}});
            }
            std::int64_t bytes = 0;
            for (const auto& [n, s] : it->second.streams) bytes += s.stored_bytes;
            json::object g{
                {"logGroupName", it->first},
                {"creationTime", it->second.created},
                {"metricFilterCount", 0},
                {"arn", arn_prefix_ + it->first + ":*"},
                {"storedBytes", bytes}};
            if (it->second.retention_days) g["retentionInDays"] = *it->second.retention_days;
            out.push_back(std::move(g));
            last = it->first;
        }
        return json::serialize(json::object{{"logGroups", out}});
    }
    if (op == "CreateLogStream" || op == "DeleteLogStream") {
        auto name = required(in, "logGroupName");
        if (!name) return name.error();
        auto stream = required(in, "logStreamName");
        if (!stream) return stream.error();
        auto g = group(*name);
        if (!g) return g.error();
        if (op == "DeleteLogStream") {
            if (!(*g)->streams.erase(*stream)) {
                return make_error(
                    "ResourceNotFoundException",
                    "The specified log stream does not exist: '" + *stream + "'",
                    400
                );
            }
            std::error_code ec;
            fs::remove(stream_file(*name, *stream), ec);
            return std::string("{}");
        }
        if ((*g)->streams.contains(*stream)) {
            return make_error(
                "ResourceAlreadyExistsException",
                "The specified log stream already exists: '" + *stream + "'",
                400
            );
        }
        auto& s = (*g)->streams[*stream];
        s.name = *stream;
        s.created = now;
        if (auto ok = persist(*name, s, 0); !ok) return ok.error();
        return std::string("{}");
    }
    if (op == "DescribeLogStreams") {
        auto name = required(in, "logGroupName");
        if (!name) return name.error();
        auto g = group(*name);
        if (!g) return g.error();
        const auto prefix = json_string(in, "logStreamNamePrefix");
        const bool by_time = json_string(in, "orderBy") == "LastEventTime";
        if (by_time && !prefix.empty())
            return invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
        const bool descending = flag(in, "descending", false);
        const auto limit =
            static_cast<std::size_t>(std::clamp<std::int64_t>(json_int(in, "limit").value_or(50), 1, 50));
        std::vector<const stream_state*> streams;
        for (const auto& [n, s] : (*g)->streams)
            if (n.starts_with(prefix)) streams.push_back(&s);
        const auto last_time = [](const stream_state* s) {
            return s->events.empty() ? s->created : s->events.back().timestamp;
        };
        if (by_time)
            std::stable_sort(streams.begin(), streams.end(), [&](auto* a, auto* b) {
                return last_time(a) < last_time(b);
            });
        if (descending) std::reverse(streams.begin(), streams.end());
        std::size_t start = 0;
        if (const auto t = json_string(in, "nextToken"); !t.empty())
            start = static_cast<std::size_t>(std::stoull(t));
        json::array out;
        for (std::size_t i = start; i < streams.size() && out.size() < limit; ++i) {
            const auto* s = streams[i];
            json::object o{
                {"logStreamName", s->name},
                {"creationTime", s->created},
                {"storedBytes", s->stored_bytes},
                {"arn", arn_prefix_ + *name + ":log-stream:" + s->name}};
            if (!s->events.empty()) {
                o["firstEventTimestamp"] = s->events.front().timestamp;
                o["lastEventTimestamp"] = s->events.back().timestamp;
                o["lastIngestionTime"] = s->events.back().ingestion;
            }
            out.push_back(std::move(o));
        }
        json::object res{{"logStreams", out}};
        if (start + out.size() < streams.size()) res["nextToken"] = std::to_string(start + out.size());
        return json::serialize(res);
    }
    if (op == "PutLogEvents") {
        auto name = required(in, "logGroupName");
        if (!name) return name.error();
        auto found = existing_stream(in, *name);
        if (!found) return found.error();
        auto [g, s] = *found;
        const auto* events = in.if_contains("logEvents");
        if (events == nullptr || !events->is_array() || events->as_array().empty()) {
            return invalid("logEvents must contain at least one event");
        }
        const std::size_t from = s->events.size();
        for (const auto& e : events->as_array()) {
            if (!e.is_object()) return invalid("every log event is an object with timestamp and message");
            log_event ev{
                json_int(e.as_object(), "timestamp").value_or(0),
                now,
                json_string(e.as_object(), "message")};
            s->stored_bytes += static_cast<std::int64_t>(ev.message.size());
            s->events.push_back(std::move(ev));
        }
        if (auto ok = persist(*name, *s, from); !ok) return ok.error();
        return json::serialize(json::object{{"nextSequenceToken", std::to_string(s->events.size())}});
    }
    if (op == "GetLogEvents") {
        auto name = required(in, "logGroupName");
        if (!name) return name.error();
        auto found = existing_stream(in, *name);
        if (!found) return found.error();
        auto [g, s] = *found;
        const auto& evs = s->events;
        const auto start_time = json_int(in, "startTime").value_or(INT64_MIN);
        const auto end_time = json_int(in, "endTime").value_or(INT64_MAX);
        const auto limit =
            static_cast<std::size_t>(std::clamp<std::int64_t>(json_int(in, "limit").value_or(10000), 1, 10000)
            );
        std::vector<std::size_t> matching;
        for (std::size_t i = 0; i < evs.size(); ++i) {
            if (evs[i].timestamp >= start_time && evs[i].timestamp < end_time && retained(*g, evs[i], now))
                matching.push_back(i);
        }
        // Tokens are positions in `matching`: f/<first index after the page>, b/<index of the page's first>.
        const auto token = json_string(in, "nextToken");
        std::size_t lo = 0;
        std::size_t hi = 0;
        if (token.starts_with("f/")) {
            lo = std::min<std::size_t>(std::stoull(token.substr(2)), matching.size());
            hi = std::min(lo + limit, matching.size());
        } else if (token.starts_with("b/")) {
            hi = std::min<std::size_t>(std::stoull(token.substr(2)), matching.size());
            lo = hi > limit ? hi - limit : 0;
        } else if (flag(in, "startFromHead", false)) {
            hi = std::min(limit, matching.size());
        } else {
            hi = matching.size();
            lo = hi > limit ? hi - limit : 0;
        }
        json::array out;
        for (std::size_t k = lo; k < hi; ++k) {
            const auto& e = evs[matching[k]];
            out.push_back(json::object{
                {"timestamp", e.timestamp},
                {"message", e.message},
                {"ingestionTime", e.ingestion}});
        }
        // At the end the forward token repeats the one given, which is how clients stop.
        return json::serialize(json::object{
            {"events", out},
            {"nextForwardToken", "f/" + std::to_string(hi)},
            {"nextBackwardToken", "b/" + std::to_string(lo)}});
    }
    if (op == "FilterLogEvents") {
        auto name = required(in, "logGroupName");
        if (!name) return name.error();
        auto g = group(*name);
        if (!g) return g.error();
        auto terms = parse_pattern(json_string(in, "filterPattern"));
        if (!terms) return terms.error();
        std::vector<std::string> names;
        if (const auto* v = in.if_contains("logStreamNames"); v != nullptr && v->is_array()) {
            for (const auto& n : v->as_array())
                if (n.is_string()) names.emplace_back(n.as_string());
        }
        const auto prefix = json_string(in, "logStreamNamePrefix");
        const auto start_time = json_int(in, "startTime").value_or(INT64_MIN);
        const auto end_time = json_int(in, "endTime").value_or(INT64_MAX);
        const auto limit =
            static_cast<std::size_t>(std::clamp<std::int64_t>(json_int(in, "limit").value_or(10000), 1, 10000)
            );
        struct hit {
            const stream_state* stream;
            std::size_t index;
        };
        std::vector<hit> hits;
        json::array searched;
        for (const auto& [n, s] : (*g)->streams) {
            if (!names.empty() && std::find(names.begin(), names.end(), n) == names.end()) continue;
            if (!n.starts_with(prefix)) continue;
            searched.push_back(json::object{{"logStreamName", n}, {"searchedCompletely", true}});
            for (std::size_t i = 0; i < s.events.size(); ++i) {
                const auto& e = s.events[i];
                if (e.timestamp < start_time || e.timestamp >= end_time || !retained(**g, e, now)) continue;
                const bool all = std::all_of(terms->begin(), terms->end(), [&](const std::string& t) {
                    return e.message.find(t) != std::string::npos;
                });
                if (all) hits.push_back({&s, i});
            }
        }
        std::stable_sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) {
            return a.stream->events[a.index].timestamp < b.stream->events[b.index].timestamp;
        });
        std::size_t start = 0;
        if (const auto t = json_string(in, "nextToken"); !t.empty())
            start = static_cast<std::size_t>(std::stoull(t));
        json::array out;
        for (std::size_t k = start; k < hits.size() && out.size() < limit; ++k) {
            const auto& e = hits[k].stream->events[hits[k].index];
            out.push_back(json::object{
                {"logStreamName", hits[k].stream->name},
                {"timestamp", e.timestamp},
                {"message", e.message},
                {"ingestionTime", e.ingestion},
                {"eventId", std::to_string(e.timestamp) + std::to_string(hits[k].index)}});
        }
        json::object res{{"events", out}, {"searchedLogStreams", searched}};
        if (start + out.size() < hits.size()) res["nextToken"] = std::to_string(start + out.size());
        return json::serialize(res);
    }
    return make_error(
        "UnknownOperationException",
        "the emulator's CloudWatch Logs does not implement '" + std::string(op) +
            "'; it serves CreateLogGroup, DeleteLogGroup, Put/DeleteRetentionPolicy, DescribeLogGroups, "
            "Create/DeleteLogStream, DescribeLogStreams, PutLogEvents, GetLogEvents, FilterLogEvents",
        400
    );
}

}  // namespace scar::emulator::logs
