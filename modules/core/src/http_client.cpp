#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "curl_api.hpp"

namespace scar::http {
namespace {

using detail::curl_api;

struct slist_deleter {
    const curl_api* api = nullptr;
    void operator()(curl_slist* l) const noexcept { api->slist_free_all(l); }
};
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;

struct easy_deleter {
    const curl_api* api = nullptr;
    void operator()(CURL* h) const noexcept { api->easy_cleanup(h); }
};
using easy_ptr = std::unique_ptr<CURL, easy_deleter>;

struct file_deleter {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_deleter>;

easy_ptr new_easy(const curl_api& api) {
    easy_ptr h(api.easy_init(), easy_deleter{&api});
    if (!h) throw std::bad_alloc();
    return h;
}

bool default_retry_on(const response& r) {
    return r.status == 429 || r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504;
}

/// Delay before attempt `attempt` (2 = first retry): full jitter over an exponential cap.
std::chrono::milliseconds backoff(const retry_policy& p, int attempt) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const int exp = std::min(attempt - 2, 30);
    const auto cap =
        std::min<std::int64_t>(p.max_delay.count(), p.base_delay.count() * (std::int64_t{1} << exp));
    if (cap <= 0) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(0, cap)(rng));
}

/// One attempt of one request: what curl reads from and writes to.
struct attempt_state {
    const curl_api* api = nullptr;
    const request* req = nullptr;
    const options* opts = nullptr;
    // Body source.
    std::size_t body_offset = 0;
    file_ptr body_file;
    std::uint64_t body_left = 0;
    // Destination.
    const std::filesystem::path* to_file = nullptr;
    std::filesystem::path temp_path;
    file_ptr out_file;
    const sink* to_sink = nullptr;
    std::uint64_t delivered = 0;  // bytes given to a sink
    bool sink_aborted = false;
    bool file_failed = false;
    int file_errno = 0;
    bool progress_aborted = false;
    // Result.
    response resp;
    slist_ptr headers;
    slist_ptr connect_to;
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
};

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto& st = *static_cast<attempt_state*>(user);
    std::string_view line(data, size * n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
        // A new status line (after 100 Continue or a redirect): start over.
        st.resp.headers.clear();
        st.resp.status = 0;
        const auto sp = line.find(' ');
        if (sp != std::string_view::npos) {
            const auto code = line.substr(sp + 1, 3);
            std::from_chars(code.data(), code.data() + code.size(), st.resp.status);
        }
        return size * n;
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && colon != 0) {
        auto value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
        st.resp.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return size * n;
}

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
    auto& st = *static_cast<attempt_state*>(user);
    const std::size_t len = size * n;
    // Error bodies (and everything when no destination was given) stay in memory.
    if (st.resp.status >= 300 || (st.to_file == nullptr && st.to_sink == nullptr)) {
        st.resp.body.append(data, len);
        return len;
    }
    if (st.to_sink != nullptr) {
        if (!(*st.to_sink)(std::string_view(data, len))) {
            st.sink_aborted = true;
            return CURL_WRITEFUNC_ERROR;
        }
        st.delivered += len;
        return len;
    }
    if (!st.out_file) {
        st.out_file.reset(std::fopen(st.temp_path.c_str(), "wb"));
        if (!st.out_file) {
            st.file_failed = true;
            st.file_errno = errno;
            return CURL_WRITEFUNC_ERROR;
        }
    }
    if (std::fwrite(data, 1, len, st.out_file.get()) != len) {
        st.file_failed = true;
        st.file_errno = errno;
        return CURL_WRITEFUNC_ERROR;
    }
    return len;  // a retry writes a fresh temporary file, so file bytes do not block retries
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
    auto& st = *static_cast<attempt_state*>(user);
    const std::size_t room = size * n;
    if (st.body_file) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(room, st.body_left));
        if (want == 0) return 0;
        const std::size_t got = std::fread(buffer, 1, want, st.body_file.get());
        if (got == 0) return CURL_READFUNC_ABORT;  // file shrank under us
        st.body_left -= got;
        return got;
    }
    const std::string& body = st.req->body;
    const std::size_t count = std::min(room, body.size() - st.body_offset);
    std::memcpy(buffer, body.data() + st.body_offset, count);
    st.body_offset += count;
    return count;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    auto& st = *static_cast<attempt_state*>(user);
    const progress p{
        static_cast<std::uint64_t>(dltotal),
        static_cast<std::uint64_t>(dlnow),
        static_cast<std::uint64_t>(ultotal),
        static_cast<std::uint64_t>(ulnow)};
    if (!st.opts->on_progress(p)) {
        st.progress_aborted = true;
        return 1;
    }
    return 0;
}

bool method_has_body(const request& req) {
    return !req.body.empty() || req.body_file || req.method == "PUT" || req.method == "POST" ||
           req.method == "PATCH";
}

/// Prepares `h`, a fresh or reset handle, for one attempt of `st.req`.
/// Errors: InvalidRequest (unreadable body file or slice outside it). On error `h` may
/// hold options pointing into `st`: reset it before reuse.
result<void> prepare(CURL* h, attempt_state& st) {
    const curl_api& api = *st.api;
    const request& req = *st.req;
    const options& o = *st.opts;
    api.set_string(h, CURLOPT_URL, req.url.c_str());
    api.set_long(h, CURLOPT_NOSIGNAL, 1L);
    api.set_long(h, CURLOPT_PATH_AS_IS, 1L);  // S3 keys may hold "//", "." and ".."
    api.set_long(h, CURLOPT_TCP_NODELAY, 1L);
    api.set_long(h, CURLOPT_TCP_KEEPALIVE, 1L);
    api.set_pointer(h, CURLOPT_ERRORBUFFER, st.error_buffer.data());
    api.set_long(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
    api.set_long(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
    api.set_long(h, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(o.low_speed_bytes));
    api.set_long(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_time.count()));
    api.set_long(h, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
    api.set_long(h, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
    api.set_callback(h, CURLOPT_HEADERFUNCTION, on_header);
    api.set_pointer(h, CURLOPT_HEADERDATA, &st);
    api.set_callback(h, CURLOPT_WRITEFUNCTION, on_write);
    api.set_pointer(h, CURLOPT_WRITEDATA, &st);
    if (o.on_progress) {
        api.set_long(h, CURLOPT_NOPROGRESS, 0L);
        api.set_callback(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        api.set_pointer(h, CURLOPT_XFERINFODATA, &st);
    }
    if (!o.connect_to.empty()) {
        curl_slist* l = nullptr;
        for (const auto& c : o.connect_to) l = api.slist_append(l, c.c_str());
        st.connect_to = slist_ptr(l, slist_deleter{&api});
        api.set_list(h, CURLOPT_CONNECT_TO, l);
    }

    if (req.method == "HEAD") {
        api.set_long(h, CURLOPT_NOBODY, 1L);
    } else if (method_has_body(req)) {
        std::uint64_t size = req.body.size();
        if (req.body_file) {
            st.body_file.reset(std::fopen(req.body_file->path.c_str(), "rb"));
            const int open_errno = errno;
            std::error_code ec;
            const auto file_size =
                st.body_file ? std::filesystem::file_size(req.body_file->path, ec) : std::uintmax_t{0};
            if (!st.body_file || ec) {
                return make_error(
                    "InvalidRequest",
                    "cannot read the request body file '" + req.body_file->path.string() +
                        "': " + (st.body_file ? ec.message() : std::string(std::strerror(open_errno))) +
                        "; check that it exists and is readable"
                );
            }
            if (req.body_file->offset > file_size ||
                (req.body_file->length && *req.body_file->length > file_size - req.body_file->offset)) {
                return make_error(
                    "InvalidRequest",
                    "the request body slice [" + std::to_string(req.body_file->offset) + ", +" +
                        std::to_string(req.body_file->length.value_or(0)) + ") is outside the file '" +
                        req.body_file->path.string() + "' of " + std::to_string(file_size) + " bytes"
                );
            }
            if (fseeko(st.body_file.get(), static_cast<off_t>(req.body_file->offset), SEEK_SET) != 0) {
                return make_error(
                    "InvalidRequest",
                    "cannot seek to byte " + std::to_string(req.body_file->offset) + " of '" +
                        req.body_file->path.string() + "': " + std::strerror(errno)
                );
            }
            size = req.body_file->length.value_or(file_size - req.body_file->offset);
            st.body_left = size;
        }
        api.set_long(h, CURLOPT_UPLOAD, 1L);
        api.set_offset(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
        api.set_callback(h, CURLOPT_READFUNCTION, on_read);
        api.set_pointer(h, CURLOPT_READDATA, &st);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        api.set_string(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (method_has_body(req) && req.method == "GET") {
        api.set_string(h, CURLOPT_CUSTOMREQUEST, "GET");
    }

    // The caller's headers go out as given (a caller's Host replaces curl's); curl's own
    // "Expect: 100-continue", "Accept: */*" and the form Content-Type it gives POST bodies
    // are suppressed unless the caller set them.
    curl_slist* l = nullptr;
    bool has_accept = false;
    bool has_expect = false;
    bool has_content_type = false;
    std::string line;
    for (const auto& [name, value] : req.headers) {
        has_accept = has_accept || encoding::iequals(name, "accept");
        has_expect = has_expect || encoding::iequals(name, "expect");
        has_content_type = has_content_type || encoding::iequals(name, "content-type");
        // "Name;" is curl's way of sending a header with an empty value.
        line.assign(name);
        if (value.empty()) {
            line += ';';
        } else {
            line += ": ";
            line += value;
        }
        l = api.slist_append(l, line.c_str());
    }
    if (!has_expect) l = api.slist_append(l, "Expect:");
    if (!has_accept) l = api.slist_append(l, "Accept:");
    if (!has_content_type) l = api.slist_append(l, "Content-Type:");
    st.headers = slist_ptr(l, slist_deleter{&api});
    api.set_list(h, CURLOPT_HTTPHEADER, l);
    return {};
}

/// The error for a failed attempt, or nothing when curl succeeded.
std::optional<error> attempt_error(CURLcode rc, attempt_state& st) {
    if (rc == CURLE_OK) return std::nullopt;
    const std::string where = st.req->method + " " + st.req->url + ": ";
    const std::string reason =
        st.error_buffer[0] != '\0' ? std::string(st.error_buffer.data()) : st.api->easy_strerror(rc);
    const std::string curl = " (curl " + std::to_string(static_cast<int>(rc)) + ")";
    if (st.sink_aborted) return make_error("Aborted", where + "the response consumer stopped the transfer");
    if (st.progress_aborted)
        return make_error("Aborted", where + "the progress callback stopped the transfer");
    if (st.file_failed) {
        return make_error(
            "LocalIOError",
            where + "cannot write '" + st.temp_path.string() + "': " + std::strerror(st.file_errno) +
                "; check free space and permissions"
        );
    }
    switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            return make_error(
                "RequestTimeout",
                where + reason + curl + "; the server did not answer in time",
                0,
                true
            );
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            return make_error("InvalidRequest", where + reason + curl + "; check the endpoint URL");
        case CURLE_READ_ERROR:
        case CURLE_ABORTED_BY_CALLBACK:
            return make_error(
                "LocalIOError",
                where + "the request body could not be read" + curl +
                    "; was the body file truncated while it was being sent?"
            );
        case CURLE_COULDNT_CONNECT:
            return make_error("NetworkError", where + reason + curl + "; is the server running?", 0, true);
        case CURLE_COULDNT_RESOLVE_HOST:
            return make_error("NetworkError", where + reason + curl + "; check the host name", 0, true);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
            return make_error(
                "NetworkError",
                where + reason + curl + "; the server's TLS certificate is not trusted"
            );
        default:
            return make_error("NetworkError", where + reason + curl, 0, true);
    }
}

/// After an attempt: move a completed file into place or remove the partial one.
result<void> settle_file(attempt_state& st, bool success) {
    if (st.to_file == nullptr) return {};
    const bool had_file = static_cast<bool>(st.out_file);
    if (had_file && std::fflush(st.out_file.get()) != 0) success = false;
    st.out_file.reset();
    std::error_code ec;
    if (!success || st.resp.status >= 300) {
        if (had_file) std::filesystem::remove(st.temp_path, ec);
        return {};
    }
    if (!had_file) {
        // An empty 2xx body still creates the (empty) file.
        file_ptr f(std::fopen(st.temp_path.c_str(), "wb"));
        if (!f) {
            return make_error(
                "LocalIOError",
                "cannot create '" + st.temp_path.string() + "': " + std::strerror(errno) +
                    "; check that the directory exists and is writable"
            );
        }
    }
    std::filesystem::rename(st.temp_path, *st.to_file, ec);
    if (ec) {
        std::filesystem::remove(st.temp_path, ec);
        return make_error(
            "LocalIOError",
            "cannot move the download into '" + st.to_file->string() + "': " + ec.message() +
                "; check that the directory exists and is writable"
        );
    }
    return {};
}

std::filesystem::path temp_path_for(const std::filesystem::path& target) {
    std::string suffix;
    for (const char c : crypto::random_bytes(6))
        suffix += "0123456789abcdef"[static_cast<unsigned char>(c) & 15U];
    return target.parent_path() / ("." + target.filename().string() + ".part-" + suffix);
}

}  // namespace

struct client::impl {
    options opts;
    const curl_api* curl = nullptr;  // set by the first transfer (libcurl is loaded then)
    easy_ptr easy;
    CURLM* multi = nullptr;
    std::vector<easy_ptr> pool;  // handles of send_all, kept for their connections

    explicit impl(options o) : opts(std::move(o)) {
        if (!opts.retry.retry_on) opts.retry.retry_on = default_retry_on;
        opts.retry.max_attempts = std::max(opts.retry.max_attempts, 1);
    }
    ~impl() {
        if (multi != nullptr) curl->multi_cleanup(multi);
    }
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    /// libcurl's table, loaded on this client's first transfer.
    result<const curl_api*> load() {
        if (curl == nullptr) {
            auto loaded = curl_api::get();
            if (!loaded) return loaded.error();
            curl = *loaded;
        }
        return curl;
    }

    CURL* handle() {
        if (!easy) easy = new_easy(*curl);
        return easy.get();
    }

    /// Whether the outcome of attempt `attempt` should be retried.
    [[nodiscard]] bool should_retry(const result<response>& r, const attempt_state& st, int attempt) const {
        if (attempt >= opts.retry.max_attempts) return false;
        if (st.delivered != 0) return false;  // bytes already given away cannot be taken back
        if (!r) return r.error().retryable;
        return opts.retry.retry_on(*r);
    }

    result<response> finish_attempt(CURLcode rc, attempt_state& st) {
        const auto err = attempt_error(rc, st);
        if (auto settled = settle_file(st, !err); !settled && !err) return settled.error();
        if (err) return *err;
        return std::move(st.resp);
    }

    result<response> run(const request& original, const std::filesystem::path* to_file, const sink* to_sink) {
        if (auto loaded = load(); !loaded) return loaded.error().wrap(original.method + " " + original.url);
        const curl_api& api = *curl;
        request signed_copy;  // only used with a before_send hook
        for (int attempt = 1;; ++attempt) {
            const request* req = &original;
            if (opts.before_send) {
                signed_copy = original;
                if (auto ok = opts.before_send(signed_copy); !ok) return ok.error();
                req = &signed_copy;
            }
            attempt_state st;
            st.api = &api;
            st.req = req;
            st.opts = &opts;
            st.to_file = to_file;
            st.to_sink = to_sink;
            if (to_file != nullptr) st.temp_path = temp_path_for(*to_file);
            CURL* h = handle();
            auto prepared = prepare(h, st);
            if (!prepared) {
                api.easy_reset(h);
                return prepared.error();
            }
            const CURLcode rc = api.easy_perform(h);
            // Drop every pointer into `st`; live connections survive a reset.
            api.easy_reset(h);
            auto r = finish_attempt(rc, st);
            if (!should_retry(r, st, attempt)) return r;
            std::this_thread::sleep_for(backoff(opts.retry, attempt + 1));
        }
    }
};

client::client(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

const options& client::opts() const noexcept {
    return impl_->opts;
}

result<response> client::send(const request& req) {
    return impl_->run(req, nullptr, nullptr);
}

result<response> client::send_to_file(const request& req, const std::filesystem::path& path) {
    return impl_->run(req, &path, nullptr);
}

result<response> client::send_to_sink(const request& req, const sink& out) {
    return impl_->run(req, nullptr, &out);
}

std::vector<result<response>> client::send_all(std::span<transfer> batch, std::size_t max_parallel) {
    using steady = std::chrono::steady_clock;
    max_parallel = std::max<std::size_t>(max_parallel, 1);
    auto& self = *impl_;
    if (auto loaded = self.load(); !loaded) {
        std::vector<result<response>> failed;
        failed.reserve(batch.size());
        for (const auto& t : batch) failed.emplace_back(loaded.error().wrap(t.req.method + " " + t.req.url));
        return failed;
    }
    const curl_api& api = *self.curl;
    if (self.multi == nullptr) self.multi = api.multi_init();

    struct slot {
        transfer* t = nullptr;
        int attempt = 0;
        steady::time_point ready{};
        request req;  // the attempt's copy, signed by before_send
        std::unique_ptr<attempt_state> st;
        CURL* easy = nullptr;
        bool done = false;
    };
    std::vector<slot> slots(batch.size());
    std::vector<std::optional<result<response>>> results(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) slots[i].t = &batch[i];
    std::vector<CURL*> idle;
    for (auto& e : self.pool) idle.push_back(e.get());

    std::size_t running = 0;
    std::size_t finished = 0;
    const auto complete = [&](std::size_t i, result<response> r) {
        results[i] = std::move(r);
        slots[i].done = true;
        ++finished;
    };

    while (finished < batch.size()) {
        // Start what may start.
        const auto now = steady::now();
        for (std::size_t i = 0; i < slots.size() && running < max_parallel; ++i) {
            slot& s = slots[i];
            if (s.done || s.easy != nullptr || s.ready > now) continue;
            ++s.attempt;
            s.req = s.t->req;
            if (self.opts.before_send) {
                if (auto ok = self.opts.before_send(s.req); !ok) {
                    complete(i, ok.error());
                    continue;
                }
            }
            s.st = std::make_unique<attempt_state>();
            s.st->api = &api;
            s.st->req = &s.req;
            s.st->opts = &self.opts;
            if (s.t->to_file) {
                s.st->to_file = &*s.t->to_file;
                s.st->temp_path = temp_path_for(*s.t->to_file);
            }
            if (s.t->to_sink) s.st->to_sink = &s.t->to_sink;
            if (idle.empty()) {
                self.pool.push_back(new_easy(api));
                idle.push_back(self.pool.back().get());
            }
            s.easy = idle.back();
            idle.pop_back();
            auto prepared = prepare(s.easy, *s.st);
            if (prepared) {
                api.set_pointer(s.easy, CURLOPT_PRIVATE, &s);
                if (const CURLMcode mc = api.multi_add_handle(self.multi, s.easy); mc != CURLM_OK) {
                    prepared = make_error(
                        "NetworkError",
                        s.req.method + " " + s.req.url +
                            ": curl cannot start the transfer: " + api.multi_strerror(mc)
                    );
                }
            }
            if (!prepared) {
                api.easy_reset(s.easy);
                idle.push_back(s.easy);
                s.easy = nullptr;
                s.st.reset();
                complete(i, prepared.error());
                continue;
            }
            ++running;
        }
        if (finished == batch.size()) break;

        int still = 0;
        api.multi_perform(self.multi, &still);
        int queued = 0;
        while (CURLMsg* msg = api.multi_info_read(self.multi, &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            auto* s = static_cast<slot*>(api.private_data(msg->easy_handle));
            const CURLcode rc = msg->data.result;
            api.multi_remove_handle(self.multi, msg->easy_handle);
            api.easy_reset(msg->easy_handle);  // drop every pointer into the slot
            idle.push_back(msg->easy_handle);
            s->easy = nullptr;
            --running;
            auto r = self.finish_attempt(rc, *s->st);
            const auto index = static_cast<std::size_t>(s - slots.data());
            if (self.should_retry(r, *s->st, s->attempt)) {
                s->ready = steady::now() + backoff(self.opts.retry, s->attempt + 1);
            } else {
                complete(index, std::move(r));
            }
            s->st.reset();
        }
        if (finished == batch.size()) break;

        // Sleep until a socket is ready, curl has work to do, or (with a free slot) the
        // next waiting transfer is due. curl_multi_poll shortens the wait to curl's own
        // timers.
        auto wait = std::chrono::milliseconds(1000);
        if (running < max_parallel) {
            const auto t = steady::now();
            for (const auto& s : slots) {
                if (s.done || s.easy != nullptr) continue;
                const auto due = std::chrono::ceil<std::chrono::milliseconds>(
                    std::max(s.ready - t, steady::duration::zero())
                );
                wait = std::min(wait, due);
            }
        }
        if (wait.count() > 0) {
            if (const CURLMcode mc =
                    api.multi_poll(self.multi, nullptr, 0, static_cast<int>(wait.count()), nullptr);
                mc != CURLM_OK) {
                // Cannot happen short of memory exhaustion; waiting out the delay keeps going.
                std::this_thread::sleep_for(wait);
            }
        }
    }

    std::vector<result<response>> out;
    out.reserve(results.size());
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
}

}  // namespace scar::http
