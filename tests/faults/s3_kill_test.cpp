// The emulator killed with SIGKILL at random moments while clients PUT objects of varied
// sizes, run multipart uploads and delete objects; after each restart on the same data
// directory every key holds exactly what the last acknowledged request left or what the
// request in flight would have left, listings and HEAD agree, uploads in progress are
// listed with their acknowledged parts and can be completed or aborted, and the data
// directory holds nothing the objects and uploads do not account for.

#include <scar/core/encoding.hpp>
#include <scar/testing/emulator_process.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "fault_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace http = scar::http;
using namespace scar::faults;

constexpr std::uint32_t seed = 20261201;
constexpr int rounds = 20;
constexpr int workers = 4;
constexpr int keys_per_worker = 4;
constexpr int ops_per_worker = 40;  // per round, if the kill comes later than that
constexpr std::size_t min_part = 5U << 20;
const std::string bucket = "/faults";

/// What a key holds: absent, or a body (by its MD5) under an ETag.
struct version {
    bool exists = false;
    std::string body_md5;
    std::string etag;  ///< without quotes
    std::uint64_t size = 0;
    bool operator==(const version&) const = default;
};

std::string describe(const version& v) {
    return v.exists ? "body md5 " + v.body_md5 + " etag " + v.etag + " size " + std::to_string(v.size)
                    : std::string("absent");
}

/// A multipart upload the client started.
struct upload {
    std::string id;
    std::string key;
    std::map<int, std::string> parts;  ///< acknowledged: number → body
    std::optional<std::pair<int, std::string>> part_in_flight;
    bool complete_in_flight = false;
    bool abort_in_flight = false;
};

/// One worker's keys: what is acknowledged and what the request in flight (if any) would
/// leave. Each key belongs to one worker, whose requests are sequential, so at most one
/// request per key is in flight when the emulator dies.
struct worker_state {
    std::map<std::string, version> acked;
    std::map<std::string, version> in_flight;
    std::vector<upload> uploads;
    std::optional<std::string> create_in_flight;  ///< key of an unacknowledged CreateMultipartUpload
};

version version_of(const std::string& body) {
    const auto md5 = md5_hex(body);
    return {true, md5, md5, body.size()};
}

/// The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, "-N".
version multipart_version(const std::map<int, std::string>& parts) {
    std::string whole;
    std::string digests;
    for (const auto& [n, body] : parts) {
        whole += body;
        digests += *scar::encoding::from_hex(md5_hex(body));
    }
    return {true, md5_hex(whole), md5_hex(digests) + "-" + std::to_string(parts.size()), whole.size()};
}

std::string complete_xml(const std::map<int, std::string>& parts) {
    std::string x = "<CompleteMultipartUpload>";
    for (const auto& [n, body] : parts)
        x += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>\"" + md5_hex(body) +
             "\"</ETag></Part>";
    return x + "</CompleteMultipartUpload>";
}

/// Counts acknowledged responses and uploaded bytes; wakes the killer.
struct progress_board {
    std::mutex m;
    std::condition_variable cv;
    std::uint64_t acks = 0;
    std::atomic<std::uint64_t> sent{0};
    int finished = 0;
    void ack() {
        {
            const std::lock_guard lock(m);
            ++acks;
        }
        cv.notify_all();
    }
    void done() {
        {
            const std::lock_guard lock(m);
            ++finished;
        }
        cv.notify_all();
    }
};

/// A PUT (object or part) whose uploaded bytes are counted on the board.
scar::result<http::response> put_counted(
    const std::string& url,
    const std::string& path,
    std::string body,
    progress_board& board,
    bool with_md5
) {
    http::header_list h;
    if (with_md5) {
        h.emplace_back(
            "Content-MD5",
            scar::encoding::base64_encode(*scar::encoding::from_hex(md5_hex(body)))
        );
    }
    http::request req;
    req.method = "PUT";
    req.url = url + path;
    req.body = std::move(body);
    req.headers = std::move(h);
    scar::testing::sign_for_emulator(req, "s3");
    http::options o;
    o.retry.max_attempts = 1;
    std::uint64_t mine = 0;
    o.on_progress = [&](const http::progress& pr) {
        if (pr.upload_now > mine) {
            board.sent += pr.upload_now - mine;
            mine = pr.upload_now;
            board.cv.notify_all();
        }
        return true;
    };
    http::client c(o);
    return c.send(req);
}

class worker {
public:
    worker(int id, int round, worker_state& st, progress_board& board, std::string url)
        : id_(id), round_(round), st_(st), board_(board), url_(std::move(url)) {}

    void run(std::uint32_t op_seed) {
        std::mt19937 rng(op_seed);
        for (int op = 0; op < ops_per_worker && alive_; ++op) {
            const auto pick = std::uniform_int_distribution<int>(0, 99)(rng);
            const auto key = key_name(std::uniform_int_distribution<int>(0, keys_per_worker - 1)(rng));
            const std::uint64_t content_seed = (static_cast<std::uint64_t>(round_) << 32) |
                                               (static_cast<std::uint64_t>(id_) << 16) |
                                               static_cast<std::uint64_t>(op);
            if (pick < 55) {
                static constexpr std::array<std::size_t, 6> sizes{0, 1, 1000, 70'000, 300'000, 1'500'000};
                const auto size =
                    sizes[std::uniform_int_distribution<std::size_t>(0, sizes.size() - 1)(rng)] +
                    std::uniform_int_distribution<std::size_t>(0, 999)(rng);
                put(key, body_bytes(content_seed, size), pick % 2 == 0);
            } else if (pick < 70) {
                multipart(key, content_seed, rng);
            } else if (pick < 90) {
                std::vector<std::string> keys{key};
                for (int k = 0; k < keys_per_worker; ++k) {
                    if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) keys.push_back(key_name(k));
                }
                std::sort(keys.begin(), keys.end());
                keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
                delete_objects(keys);
            } else {
                delete_one(key);
            }
        }
        board_.done();
    }

    [[nodiscard]] std::string key_name(int k) const {
        return "w" + std::to_string(id_) + "/k" + std::to_string(k);
    }

private:
    /// Records `r`: acknowledged (2xx) or lost with the emulator; any other status fails.
    bool settle(const scar::result<http::response>& r, const char* what) {
        if (!r) {
            alive_ = false;  // the emulator died: this request is in flight
            return false;
        }
        if (r->status / 100 != 2) {
            ADD_FAILURE() << what << " answered " << r->status << ": " << r->body;
            alive_ = false;
            return false;
        }
        board_.ack();
        return true;
    }

    void put(const std::string& key, std::string body, bool with_md5) {
        const auto v = version_of(body);
        st_.in_flight[key] = v;
        const auto r = put_counted(url_, bucket + "/" + key, std::move(body), board_, with_md5);
        if (!settle(r, "PutObject")) return;
        EXPECT_EQ(r->header("ETag").value_or(""), "\"" + v.etag + "\"");
        st_.in_flight.erase(key);
        st_.acked[key] = v;
    }

    void multipart(const std::string& key, std::uint64_t content_seed, std::mt19937& rng) {
        st_.create_in_flight = key;
        const auto created = call(url_, "s3", "POST", bucket + "/" + key + "?uploads");
        if (!settle(created, "CreateMultipartUpload")) return;
        st_.create_in_flight.reset();
        st_.uploads.push_back({xml_first(created->body, "UploadId"), key, {}, {}, false, false});
        const std::size_t index = st_.uploads.size() - 1;
        const int parts = std::uniform_int_distribution<int>(1, 2)(rng);
        for (int n = 1; n <= parts; ++n) {
            const std::size_t size =
                n < parts ? min_part : std::uniform_int_distribution<std::size_t>(1, 200'000)(rng);
            std::string body = body_bytes(content_seed * 31 + static_cast<std::uint64_t>(n), size);
            st_.uploads[index].part_in_flight = std::make_pair(n, body);
            const auto r = put_counted(
                url_,
                bucket + "/" + key + "?partNumber=" + std::to_string(n) +
                    "&uploadId=" + st_.uploads[index].id,
                body,
                board_,
                false
            );
            if (!settle(r, "UploadPart")) return;
            st_.uploads[index].part_in_flight.reset();
            st_.uploads[index].parts[n] = std::move(body);
        }
        // One upload in four stays open, to be found after the next restart.
        if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) return;
        auto& up = st_.uploads[index];
        up.complete_in_flight = true;
        st_.in_flight[key] = multipart_version(up.parts);
        const auto done =
            call(url_, "s3", "POST", bucket + "/" + key + "?uploadId=" + up.id, complete_xml(up.parts));
        if (!settle(done, "CompleteMultipartUpload")) return;
        EXPECT_EQ(unquote_etag(xml_first(done->body, "ETag")), multipart_version(up.parts).etag)
            << done->body;
        st_.acked[key] = multipart_version(up.parts);
        st_.in_flight.erase(key);
        st_.uploads.erase(st_.uploads.begin() + static_cast<std::ptrdiff_t>(index));
    }

    void delete_objects(const std::vector<std::string>& keys) {
        std::string xml = "<Delete>";
        for (const auto& k : keys) {
            xml += "<Object><Key>" + k + "</Key></Object>";
            st_.in_flight[k] = version{};
        }
        xml += "</Delete>";
        const auto md5 = scar::encoding::base64_encode(*scar::encoding::from_hex(md5_hex(xml)));
        const auto r = call(url_, "s3", "POST", bucket + "?delete", xml, {{"Content-MD5", md5}});
        if (!settle(r, "DeleteObjects")) return;
        EXPECT_EQ(xml_all(r->body, "Deleted").size(), keys.size()) << r->body;
        for (const auto& k : keys) {
            st_.in_flight.erase(k);
            st_.acked[k] = version{};
        }
    }

    void delete_one(const std::string& key) {
        st_.in_flight[key] = version{};
        const auto r = call(url_, "s3", "DELETE", bucket + "/" + key);
        if (!settle(r, "DeleteObject")) return;
        st_.in_flight.erase(key);
        st_.acked[key] = version{};
    }

    int id_;
    int round_;
    worker_state& st_;
    progress_board& board_;
    std::string url_;
    bool alive_ = true;
};

/// What GET and HEAD show of a key; checks that they agree.
version observe(const scar::testing::emulator_process& emu, const std::string& key) {
    const auto got = call(emu.url(), "s3", "GET", bucket + "/" + key);
    const auto head = call(emu.url(), "s3", "HEAD", bucket + "/" + key);
    EXPECT_TRUE(got && head) << key;
    if (!got || !head) return {};
    EXPECT_EQ(got->status, head->status) << key;
    if (got->status == 404) return {};
    EXPECT_EQ(got->status, 200) << key << ": " << got->body;
    const std::string etag = unquote_etag(got->header("ETag").value_or(""));
    EXPECT_EQ(head->header("ETag").value_or(""), got->header("ETag").value_or("")) << key;
    EXPECT_EQ(head->header("Content-Length").value_or(""), std::to_string(got->body.size())) << key;
    return {true, md5_hex(got->body), etag, got->body.size()};
}

/// Every key through ListObjectsV2, three at a time (continuation tokens exercised):
/// key → (etag, size).
std::map<std::string, std::pair<std::string, std::uint64_t>> list_all(const std::string& url) {
    std::map<std::string, std::pair<std::string, std::uint64_t>> out;
    std::string token;
    for (int page = 0; page < 100; ++page) {
        std::string q = "?list-type=2&max-keys=3";
        if (!token.empty()) q += "&continuation-token=" + scar::encoding::uri_encode(token);
        const auto r = call(url, "s3", "GET", bucket + q);
        EXPECT_TRUE(r && r->status == 200) << (r ? r->body : r.error().what());
        if (!r || r->status != 200) break;
        for (const auto& c : xml_all(r->body, "Contents")) {
            out[xml_first(c, "Key")] = {
                unquote_etag(xml_first(c, "ETag")),
                std::stoull(xml_first(c, "Size"))};
        }
        token = xml_first(r->body, "NextContinuationToken");
        if (xml_first(r->body, "IsTruncated") != "true") break;
    }
    return out;
}

/// Files in the data directory not accounted for by objects and open uploads.
void check_data_dir(const fs::path& data, std::size_t objects, std::size_t uploads, int round) {
    const fs::path s3 = data / "s3";
    EXPECT_EQ(count_files(s3 / "tmp"), 0U) << "round " << round << ": files left in s3/tmp";
    for (const auto& f : files_ending(s3, ".tmp")) ADD_FAILURE() << "round " << round << ": leftover " << f;
    EXPECT_EQ(count_files(s3 / "data"), objects) << "round " << round << ": object bodies on disk";
    std::size_t upload_dirs = 0;
    for (const auto& e : fs::directory_iterator(s3 / "uploads")) upload_dirs += e.is_directory() ? 1 : 0;
    EXPECT_EQ(upload_dirs, uploads) << "round " << round << ": upload directories";
}

TEST(FaultsS3, KillDuringPutsMultipartUploadsAndDeletes) {
    seeded_rng rng(seed);
    scar::testing::temp_dir dir("scar-faults-s3");
    std::vector<worker_state> states(workers);
    int killed_mid_request = 0;
    std::uint64_t acked_total = 0;

    for (int round = 0; round <= rounds; ++round) {
        scar::testing::emulator_process emu(dir.path());  // throws (fails) if it cannot start
        const std::string url = emu.url();
        if (round == 0) {
            ASSERT_EQ(status_of(call(url, "s3", "PUT", bucket)), 200);
        }

        // 1. Every key is what was acknowledged or what the lost request would have made.
        std::size_t objects = 0;
        for (int w = 0; w < workers; ++w) {
            auto& st = states[static_cast<std::size_t>(w)];
            for (int k = 0; k < keys_per_worker; ++k) {
                const auto key = "w" + std::to_string(w) + "/k" + std::to_string(k);
                const auto seen = observe(emu, key);
                const version acked = st.acked.contains(key) ? st.acked[key] : version{};
                const auto flight = st.in_flight.find(key);
                const bool ok = seen == acked || (flight != st.in_flight.end() && seen == flight->second);
                EXPECT_TRUE(ok) << "round " << round << " key " << key << ": found " << describe(seen)
                                << "; acknowledged " << describe(acked) << "; in flight "
                                << (flight == st.in_flight.end() ? "nothing" : describe(flight->second));
                st.acked[key] = seen;
                objects += seen.exists ? 1 : 0;
            }
            st.in_flight.clear();
        }
        // 2. The listing shows exactly those objects, with HEAD's ETag and size.
        const auto listed = list_all(url);
        std::size_t expected_listed = 0;
        for (auto& st : states) {
            for (const auto& [key, v] : st.acked) {
                if (!v.exists) continue;
                ++expected_listed;
                const auto it = listed.find(key);
                ASSERT_NE(it, listed.end()) << "round " << round << ": " << key << " readable but not listed";
                EXPECT_EQ(it->second.first, v.etag) << key;
                EXPECT_EQ(it->second.second, v.size) << key;
            }
        }
        EXPECT_EQ(listed.size(), expected_listed) << "round " << round << ": listed objects nobody wrote";

        // 3. Uploads in progress: listed with their acknowledged parts.
        const auto uploads_xml = call(url, "s3", "GET", bucket + "?uploads");
        ASSERT_TRUE(uploads_xml && uploads_xml->status == 200);
        const auto listed_ids = xml_all(uploads_xml->body, "UploadId");
        const auto listed_keys = xml_all(uploads_xml->body, "Key");
        ASSERT_EQ(listed_ids.size(), listed_keys.size());
        std::set<std::string> known;
        std::size_t open_uploads = listed_ids.size();
        for (auto& st : states) {
            for (const auto& up : st.uploads) {
                known.insert(up.id);
                const bool is_listed =
                    std::find(listed_ids.begin(), listed_ids.end(), up.id) != listed_ids.end();
                if (!up.complete_in_flight && !up.abort_in_flight) {
                    EXPECT_TRUE(is_listed)
                        << "round " << round << ": upload " << up.id << " of " << up.key << " lost";
                }
            }
        }
        check_data_dir(dir.path(), objects, open_uploads, round);
        for (std::size_t i = 0; i < listed_ids.size(); ++i) {
            if (known.contains(listed_ids[i])) continue;
            // Only a CreateMultipartUpload whose answer was lost may leave an unknown upload.
            bool expected = false;
            for (const auto& st : states) expected = expected || st.create_in_flight == listed_keys[i];
            EXPECT_TRUE(expected) << "round " << round << ": upload " << listed_ids[i] << " for "
                                  << listed_keys[i] << " that nobody started";
            const auto aborted =
                call(url, "s3", "DELETE", bucket + "/" + listed_keys[i] + "?uploadId=" + listed_ids[i]);
            EXPECT_TRUE(aborted && aborted->status == 204);
        }
        for (auto& st : states) {
            st.create_in_flight.reset();
            for (auto& up : st.uploads) {
                const bool is_listed =
                    std::find(listed_ids.begin(), listed_ids.end(), up.id) != listed_ids.end();
                if (!is_listed) {
                    // Only a completion (or abort) in flight may have ended it; then the key
                    // shows the assembled object (checked in step 1) or it was aborted.
                    up.id.clear();
                    continue;
                }
                const auto parts = call(url, "s3", "GET", bucket + "/" + up.key + "?uploadId=" + up.id);
                ASSERT_TRUE(parts && parts->status == 200);
                const auto numbers = xml_all(parts->body, "PartNumber");
                const auto etags = xml_all(parts->body, "ETag");
                std::map<int, std::string> present;
                for (std::size_t p = 0; p < numbers.size() && p < etags.size(); ++p) {
                    present[std::stoi(numbers[p])] = unquote_etag(etags[p]);
                }
                for (const auto& [n, body] : up.parts) {
                    EXPECT_EQ(present[n], md5_hex(body))
                        << "round " << round << ": part " << n << " of " << up.id;
                }
                if (up.part_in_flight && present.contains(up.part_in_flight->first)) {
                    EXPECT_EQ(present[up.part_in_flight->first], md5_hex(up.part_in_flight->second));
                    up.parts[up.part_in_flight->first] = up.part_in_flight->second;
                }
                up.part_in_flight.reset();
                // Complete the ones that can be, abort the rest.
                const bool completable = !up.parts.empty() && (up.parts.size() == 1 ||
                                                               up.parts.begin()->second.size() >= min_part);
                if (completable && rng.between(0, 1) == 0) {
                    const auto done = call(
                        url,
                        "s3",
                        "POST",
                        bucket + "/" + up.key + "?uploadId=" + up.id,
                        complete_xml(up.parts)
                    );
                    ASSERT_TRUE(done && done->status == 200) << (done ? done->body : done.error().what());
                    const auto v = multipart_version(up.parts);
                    EXPECT_EQ(observe(emu, up.key), v) << "round " << round << ": completed " << up.key;
                    st.acked[up.key] = v;
                } else {
                    const auto aborted =
                        call(url, "s3", "DELETE", bucket + "/" + up.key + "?uploadId=" + up.id);
                    EXPECT_TRUE(aborted && aborted->status == 204);
                }
                up.id.clear();
            }
            std::erase_if(st.uploads, [](const upload& u) { return u.id.empty(); });
        }
        const auto after = call(url, "s3", "GET", bucket + "?uploads");
        EXPECT_TRUE(xml_all(after->body, "UploadId").empty()) << after->body;
        EXPECT_EQ(count_files(dir.path() / "s3" / "uploads"), 0U)
            << "round " << round << ": parts left behind";
        if (round == rounds) break;

        // 4. Concurrent writers; SIGKILL after a random number of acknowledged requests,
        //    sometimes a random number of bytes later (mid-body).
        progress_board board;
        const std::uint64_t kill_after_acks = rng.between(1, 40);
        const bool mid_body = rng.between(0, 2) == 0;
        const std::uint64_t extra_bytes = rng.between(1, 3'000'000);
        std::vector<std::thread> threads;
        std::vector<std::unique_ptr<worker>> ws;
        for (int w = 0; w < workers; ++w) {
            ws.push_back(std::make_unique<worker>(w, round, states[static_cast<std::size_t>(w)], board, url));
            threads.emplace_back(
                &worker::run,
                ws.back().get(),
                static_cast<std::uint32_t>(rng.between(0, UINT32_MAX))
            );
        }
        {
            std::unique_lock lock(board.m);
            board.cv.wait(lock, [&] { return board.acks >= kill_after_acks || board.finished == workers; });
            if (mid_body) {
                const auto target = board.sent.load() + extra_bytes;
                board.cv.wait(lock, [&] { return board.sent.load() >= target || board.finished == workers; });
            }
            acked_total += board.acks;
            if (board.finished < workers) ++killed_mid_request;
        }
        emu.process().stop(SIGKILL);
        for (auto& t : threads) t.join();
    }
    std::cout << "[ faults   ] " << rounds << " kills, " << killed_mid_request << " with requests in flight, "
              << acked_total << " acknowledged requests checked\n";
    EXPECT_GT(killed_mid_request, rounds / 2) << "the kills must land during requests";
}

}  // namespace
