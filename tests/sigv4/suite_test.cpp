// AWS's SigV4 test suites, as data: aws-c-auth's `v4` suite (header and query forms, with
// the verifier) and botocore's classic `aws4_testsuite` (header form).

#include <scar/core/encoding.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/sigv4/verifier.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "raw_request.hpp"

namespace {

namespace fs = std::filesystem;
namespace sigv4 = scar::sigv4;
using scar::testing::parse_raw_request;
using scar::testing::read_text;

const fs::path data_dir = fs::path(SCAR_SOURCE_DIR) / "tests/data/sigv4";

std::string trim_nl(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

struct v4_case {
    std::string name;
    std::string akid, secret, token;
    std::string region, service;
    scar::clock::time_point time;
    std::int64_t expires = 3600;
    bool normalize = true;
    bool sign_body = false;
    bool omit_session_token = false;
};

v4_case load_context(const fs::path& dir) {
    const auto ctx = boost::json::parse(read_text((dir / "context.json").string())).as_object();
    v4_case c;
    c.name = dir.filename().string();
    const auto& cred = ctx.at("credentials").as_object();
    c.akid = cred.at("access_key_id").as_string().c_str();
    c.secret = cred.at("secret_access_key").as_string().c_str();
    if (const auto* t = cred.if_contains("token")) c.token = t->as_string().c_str();
    c.region = ctx.at("region").as_string().c_str();
    c.service = ctx.at("service").as_string().c_str();
    c.expires = ctx.at("expiration_in_seconds").to_number<std::int64_t>();
    c.normalize = ctx.at("normalize").as_bool();
    c.sign_body = ctx.at("sign_body").as_bool();
    if (const auto* o = ctx.if_contains("omit_session_token")) c.omit_session_token = o->as_bool();
    const std::string ts = ctx.at("timestamp").as_string().c_str();  // 2015-08-30T12:36:00Z
    std::string compact;
    for (char ch : ts) {
        if (ch != '-' && ch != ':') compact.push_back(ch);
    }
    c.time = sigv4::parse_amz_date(compact).value();
    return c;
}

sigv4::signing_params params_for(const v4_case& c) {
    sigv4::signing_params p;
    p.access_key_id = c.akid;
    p.secret_access_key = c.secret;
    p.session_token = c.token;
    p.region = c.region;
    p.service = c.service;
    p.time = c.time;
    p.rules = sigv4::service_rules::for_service(c.service);
    p.rules.normalize_path = c.normalize;
    p.content_sha256_header = c.sign_body;
    p.omit_session_token = c.omit_session_token;
    return p;
}

std::vector<fs::path> v4_cases() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(data_dir / "v4")) {
        if (e.is_directory()) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

scar::http::request to_request(const scar::testing::raw_request& r) {
    scar::http::request req;
    req.method = r.method;
    req.url = r.target;
    req.headers = r.headers;
    req.body = r.body;
    return req;
}

TEST(SigV4Suite, HasAllCases) {
    EXPECT_EQ(v4_cases().size(), 38U);
}

TEST(SigV4Suite, HeaderFormMatchesEveryCase) {
    for (const auto& dir : v4_cases()) {
        SCOPED_TRACE(dir.filename().string());
        const auto c = load_context(dir);
        const auto raw = parse_raw_request(read_text((dir / "request.txt").string()));
        ASSERT_TRUE(raw);
        auto req = to_request(*raw);
        const auto d = sigv4::sign(req, params_for(c)).value();
        EXPECT_EQ(d.canonical_request, trim_nl(read_text((dir / "header-canonical-request.txt").string())));
        EXPECT_EQ(d.string_to_sign, trim_nl(read_text((dir / "header-string-to-sign.txt").string())));
        EXPECT_EQ(d.signature, trim_nl(read_text((dir / "header-signature.txt").string())));
        const auto expected = parse_raw_request(read_text((dir / "header-signed-request.txt").string()));
        ASSERT_TRUE(expected);
        EXPECT_EQ(
            scar::http::find_header(req.headers, "authorization").value_or(""),
            scar::http::find_header(expected->headers, "authorization").value_or("-")
        );
    }
}

TEST(SigV4Suite, QueryFormMatchesEveryCase) {
    for (const auto& dir : v4_cases()) {
        SCOPED_TRACE(dir.filename().string());
        const auto c = load_context(dir);
        const auto raw = parse_raw_request(read_text((dir / "request.txt").string()));
        ASSERT_TRUE(raw);
        sigv4::signing_details d;
        auto p = params_for(c);
        p.content_sha256_header = false;
        const auto url = sigv4::presign(to_request(*raw), p, std::chrono::seconds(c.expires), &d).value();
        EXPECT_EQ(d.canonical_request, trim_nl(read_text((dir / "query-canonical-request.txt").string())));
        EXPECT_EQ(d.string_to_sign, trim_nl(read_text((dir / "query-string-to-sign.txt").string())));
        EXPECT_EQ(d.signature, trim_nl(read_text((dir / "query-signature.txt").string())));
        EXPECT_NE(url.find("X-Amz-Signature=" + d.signature), std::string::npos);
    }
}

TEST(SigV4Suite, ClassicSuiteHeaderForm) {
    int cases = 0;
    for (const auto& e : fs::recursive_directory_iterator(data_dir / "classic")) {
        if (e.path().extension() != ".req") continue;
        ++cases;
        const auto dir = e.path().parent_path();
        const auto stem = e.path().stem().string();
        SCOPED_TRACE(stem);
        const auto raw = parse_raw_request(read_text(e.path().string()));
        const auto signed_req = parse_raw_request(read_text((dir / (stem + ".sreq")).string()));
        ASSERT_TRUE(raw);
        ASSERT_TRUE(signed_req);
        const std::string creq = trim_nl(read_text((dir / (stem + ".creq")).string()));
        const std::string token(
            scar::http::find_header(signed_req->headers, "x-amz-security-token").value_or("")
        );

        sigv4::signing_params p;
        p.access_key_id = "AKIDEXAMPLE";
        p.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        p.session_token = token;
        p.omit_session_token = !token.empty() && creq.find("x-amz-security-token") == std::string::npos;
        p.region = "us-east-1";
        p.service = "service";
        p.time = sigv4::parse_amz_date("20150830T123600Z").value();
        auto req = to_request(*raw);
        const auto d = sigv4::sign(req, p).value();
        EXPECT_EQ(d.canonical_request, creq);
        EXPECT_EQ(d.string_to_sign, trim_nl(read_text((dir / (stem + ".sts")).string())));
        EXPECT_EQ(
            scar::http::find_header(req.headers, "authorization").value_or(""),
            trim_nl(read_text((dir / (stem + ".authz")).string()))
        );
    }
    EXPECT_EQ(cases, 34);
}

// --- The verifier against the suite's signed requests --------------------------------------

struct verifier_fixture {
    scar::manual_clock clock{sigv4::parse_amz_date("20150830T123600Z").value()};
    sigv4::key_cache cache;
    std::string token;

    sigv4::verifier make(bool normalize) {
        sigv4::verify_options o;
        o.time_source = &clock;
        o.cache = &cache;
        o.normalize_paths = normalize;
        return sigv4::verifier(
            [this](std::string_view akid) -> std::optional<scar::aws::credentials> {
                if (akid != "AKIDEXAMPLE") return std::nullopt;
                return scar::aws::credentials{
                    "AKIDEXAMPLE",
                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    token,
                    "test"};
            },
            o
        );
    }
};

/// Accepts `text` as a request, the way a server would: parsed, verified, body checked.
bool accepted(const sigv4::verifier& v, std::string_view text) {
    const auto r = parse_raw_request(text);
    if (!r) return false;
    const sigv4::incoming_request in{r->method, r->target, &r->headers, r->body};
    const auto ok = v.verify(in);
    return ok && ok->body_matches(r->body);
}

/// Replaces the byte at `i` by a different one of the same class, so that letter case
/// (irrelevant in header names) is not what the tampering changes.
char tamper(char c) {
    if (c >= 'a' && c <= 'z') return c == 'z' ? 'a' : static_cast<char>(c + 1);
    if (c >= 'A' && c <= 'Z') return c == 'Z' ? 'A' : static_cast<char>(c + 1);
    if (c >= '0' && c <= '9') return c == '9' ? '0' : static_cast<char>(c + 1);
    return c == 'q' ? 'x' : 'q';
}

TEST(SigV4Suite, VerifierAcceptsEverySignedCaseAndRejectsEveryTampering) {
    std::size_t tamperings = 0;
    for (const auto& dir : v4_cases()) {
        const auto c = load_context(dir);
        verifier_fixture fx;
        fx.token = c.token;
        const auto v = fx.make(c.normalize);
        for (const char* form : {"header-signed-request.txt", "query-signed-request.txt"}) {
            SCOPED_TRACE(dir.filename().string() + "/" + form);
            const std::string text = read_text((dir / form).string());
            ASSERT_TRUE(accepted(v, text));
            const auto original = parse_raw_request(text).value();
            const auto http_version = text.find(" HTTP/1.1");
            for (std::size_t i = 0; i < text.size(); ++i) {
                if (i >= http_version && i < http_version + 9) continue;  // not part of what is signed
                std::string t = text;
                t[i] = tamper(t[i]);
                ++tamperings;
                if (!accepted(v, t)) continue;
                // Accepted only if the change vanished in path normalisation ("/example/.." → "/").
                const auto changed = parse_raw_request(t).value();
                const auto was = sigv4::split_target(original.target);
                const auto now = sigv4::split_target(changed.target);
                EXPECT_TRUE(
                    c.normalize && now.path != was.path && now.query == was.query &&
                    sigv4::normalize_path(now.path) == sigv4::normalize_path(was.path) &&
                    changed.headers == original.headers && changed.method == original.method
                ) << "tampered byte "
                  << i << " accepted: " << t;
            }
        }
    }
    EXPECT_GT(tamperings, 20'000U);
}

}  // namespace
