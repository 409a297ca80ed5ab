// Cross-check: the signatures of >= 1,000 randomised requests equal those of botocore, an
// independent SigV4 implementation, driven as a subprocess (Debian's /usr/bin/python3).

#include <scar/core/encoding.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/sigv4/verifier.hpp>
#include <scar/testing/process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

namespace sigv4 = scar::sigv4;
namespace json = boost::json;

struct random_case {
    std::string method, url, body, service, region, time, akid, secret, token;
    scar::http::header_list headers;
    std::int64_t presign = 0;
    bool unsigned_payload = false;
};

class generator {
public:
    explicit generator(std::uint32_t seed) : rng_(seed) {}

    random_case next() {
        random_case c;
        c.method = pick<std::string>({"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"});
        c.service = pick<std::string>({"s3", "s3", "lambda", "execute-api", "batch", "logs", "ecr"});
        c.region = pick<std::string>({"us-east-1", "eu-west-1", "ap-southeast-2", "local"});
        c.akid = "AKID" + word("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16, 16);
        c.secret = word("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/", 40, 40);
        if (chance(0.3)) c.token = word("abcdefghijklmnopqrstuvwxyz0123456789+/=", 20, 300);
        c.time = sigv4::format_amz_date(
            scar::clock::time_point(std::chrono::seconds(uniform(1'400'000'000, 2'000'000'000)))
        );
        c.presign = chance(0.3) ? uniform(1, 604'800) : 0;
        const bool s3 = c.service == "s3";
        c.unsigned_payload = s3 && c.presign == 0 && chance(0.2);

        std::string host = pick<std::string>(
            {"127.0.0.1:4566", "localhost:9000", "example.amazonaws.com", "bucket.s3.amazonaws.com"}
        );
        std::string path;
        const auto segments = uniform(0, 5);
        for (std::int64_t i = 0; i < segments; ++i) {
            path.push_back('/');
            // Unicode, spaces, '+', '%', empty segments ('//'), dots and sub-delimiters.
            path += scar::encoding::uri_encode(segment(), false);
        }
        if (path.empty() || chance(0.2)) path.push_back('/');
        std::string query;
        const auto params = uniform(0, 5);
        std::vector<std::string> keys;
        for (std::int64_t i = 0; i < params; ++i) {
            std::string key;
            if (!keys.empty() && c.presign == 0 && chance(0.25)) {
                key = keys[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(keys.size()) - 1)
                )];  // repeated
            } else if (chance(0.1) && c.presign == 0) {
                key = "";  // empty key
            } else {
                key = word("abcXYZ-_.~ +%/=&é", 1, 8);
            }
            if (c.presign != 0 && std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
            keys.push_back(key);
            if (!query.empty()) query.push_back('&');
            query += scar::encoding::uri_encode(key);
            if (!chance(0.15) || c.presign != 0) {
                query.push_back('=');
                if (!chance(0.2)) query += scar::encoding::uri_encode(word("abc 123+/=%&?é日本", 0, 12));
            }
        }
        c.url = pick<std::string>({"http://", "https://"}) + host + path + (query.empty() ? "" : "?" + query);

        const auto nheaders = uniform(0, 4);
        for (std::int64_t i = 0; i < nheaders; ++i) {
            std::string name = pick<std::string>(
                {"Content-Type",
                 "x-amz-meta-owner",
                 "X-Amz-Meta-Mixed",
                 "x-custom",
                 "X-Custom",
                 "Cache-Control"}
            );
            // Folded whitespace: leading/trailing spaces, runs of spaces and tabs.
            std::string value = pick<std::string>({"", "  ", "\t"}) + word("abc xyz", 1, 6) +
                                pick<std::string>({" ", "   ", "\t \t"}) + word("def/=,;\"", 0, 6) +
                                pick<std::string>({"", " ", "  \t"});
            c.headers.emplace_back(std::move(name), std::move(value));
        }
        if (c.presign == 0 && chance(0.5)) c.body = word("{}\":,abc 123é\n", 0, 200);
        return c;
    }

private:
    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
    std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
    }
    template <class T>
    T pick(std::initializer_list<T> items) {
        return *(items.begin() + uniform(0, static_cast<std::int64_t>(items.size()) - 1));
    }
    /// A string of `lo`..`hi` characters from `alphabet` (UTF-8 sequences count as one).
    std::string word(std::string_view alphabet, std::int64_t lo, std::int64_t hi) {
        std::vector<std::string_view> chars;
        for (std::size_t i = 0; i < alphabet.size();) {
            std::size_t n = 1;
            const auto b = static_cast<unsigned char>(alphabet[i]);
            if (b >= 0xf0)
                n = 4;
            else if (b >= 0xe0)
                n = 3;
            else if (b >= 0xc0)
                n = 2;
            chars.push_back(alphabet.substr(i, n));
            i += n;
        }
        std::string out;
        const auto len = uniform(lo, hi);
        for (std::int64_t i = 0; i < len; ++i) {
            out += chars[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(chars.size()) - 1))];
        }
        return out;
    }
    std::string segment() {
        if (chance(0.1)) return "";
        if (chance(0.05)) return pick<std::string>({".", ".."});
        return word("abcdefXYZ019 +%-_.~!*'()$@:éሴ日本", 1, 12);
    }

    std::mt19937 rng_;
};

json::value to_json(const random_case& c) {
    json::array headers;
    for (const auto& [n, v] : c.headers) headers.push_back(json::array{json::string(n), json::string(v)});
    return json::object{
        {"method", c.method},
        {"url", c.url},
        {"headers", headers},
        {"body", c.body},
        {"service", c.service},
        {"region", c.region},
        {"time", c.time},
        {"akid", c.akid},
        {"secret", c.secret},
        {"token", c.token},
        {"presign", c.presign},
        {"unsigned_payload", c.unsigned_payload},
    };
}

struct ours {
    std::string signature;
    std::string url;
    scar::http::header_list headers;
};

ours sign_ours(const random_case& c) {
    scar::http::request req;
    req.method = c.method;
    req.url = c.url;
    req.headers = c.headers;
    req.body = c.body;
    sigv4::signing_params p;
    p.access_key_id = c.akid;
    p.secret_access_key = c.secret;
    p.session_token = c.token;
    p.region = c.region;
    p.service = c.service;
    p.time = sigv4::parse_amz_date(c.time).value();
    p.rules = sigv4::service_rules::for_service(c.service);
    if (c.unsigned_payload) p.payload_hash = sigv4::unsigned_payload;
    if (c.presign != 0) {
        const auto url = sigv4::presign(req, p, std::chrono::seconds(c.presign)).value();
        return {url.substr(url.rfind("X-Amz-Signature=") + 16, 64), url, req.headers};
    }
    const auto d = sigv4::sign(req, p).value();
    return {d.signature, req.url, req.headers};
}

TEST(SigV4Botocore, RandomisedRequestsSignLikeBotocore) {
    if (!std::filesystem::exists("/usr/bin/python3"))
        GTEST_SKIP() << "Debian's /usr/bin/python3 is missing: run scripts/setup.sh";
    constexpr std::uint32_t seed = 20261122;
    constexpr int count = 1200;
    generator gen(seed);
    std::vector<random_case> cases;
    json::array input;
    for (int i = 0; i < count; ++i) {
        cases.push_back(gen.next());
        input.push_back(to_json(cases.back()));
    }
    const auto r = scar::testing::run(
        {.argv = {"/usr/bin/python3", SCAR_SOURCE_DIR "/tests/sigv4/botocore_sign.py"},
         .env = {},
         .unset_env = {"PYTHONPATH", "PYTHONHOME"},
         .cwd = std::nullopt,
         .stdin_data = json::serialize(input)}
    );
    ASSERT_EQ(r.exit_code, 0) << "botocore driver failed (is python3-botocore installed?):\n" << r.err;
    const auto results = json::parse(r.out).as_array();
    ASSERT_EQ(results.size(), cases.size());

    int header_cases = 0;
    int presigned_cases = 0;
    int s3_cases = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        const auto& theirs = results[i].as_object();
        const auto mine = sign_ours(c);
        EXPECT_EQ(mine.signature, theirs.at("signature").as_string().c_str())
            << "case " << i << " (seed " << seed << "): " << json::serialize(to_json(c));
        if (c.presign == 0) {
            EXPECT_EQ(
                scar::http::find_header(mine.headers, "authorization").value_or(""),
                theirs.at("authorization").as_string().c_str()
            ) << "case "
              << i;
            ++header_cases;
        } else {
            ++presigned_cases;
        }
        s3_cases += c.service == "s3" ? 1 : 0;
    }
    EXPECT_GT(header_cases, 600);
    EXPECT_GT(presigned_cases, 250);
    EXPECT_GT(s3_cases, 250);
}

}  // namespace
