// scar-s3-roundtrip: signs real S3 requests with scar's SigV4 signer and sends them with
// scar's HTTP client to an S3-compatible endpoint: create a bucket, upload, stat, download
// (and compare), list, download through a presigned URL, check that a wrong secret is
// refused, delete. The main job of scripts/demo.sh until the workflow example lands.

#include <scar/core/aws_config.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>

#include <CLI/CLI.hpp>
#include <pugixml.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

namespace {

using steady = std::chrono::steady_clock;

struct session {
    std::string endpoint;
    std::string region;
    scar::aws::credentials creds;
    scar::http::client http;

    scar::result<scar::http::response> send(scar::http::request req, const scar::aws::credentials& as) {
        auto p = scar::sigv4::signing_params::make(as, region, "s3", scar::clock::system().now());
        if (auto s = scar::sigv4::sign(req, p); !s) return s.error();
        return http.send(req);
    }
    scar::result<scar::http::response> send(scar::http::request req) { return send(std::move(req), creds); }

    [[nodiscard]] scar::http::request make(std::string method, std::string_view path, std::string query = {})
        const {
        scar::http::request r;
        r.method = std::move(method);
        r.url = endpoint + std::string(path) + (query.empty() ? "" : "?" + query);
        return r;
    }
};

int failures = 0;

void step(
    std::string_view name,
    const scar::result<scar::http::response>& r,
    int want,
    steady::time_point t0,
    std::string_view detail = {}
) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0).count();
    if (!r) {
        ++failures;
        std::printf("  FAIL %-28s %s\n", std::string(name).c_str(), r.error().what().c_str());
        return;
    }
    const bool ok = r->status == want;
    failures += ok ? 0 : 1;
    std::printf(
        "  %s %-28s HTTP %d  %7.2f ms  %s\n",
        ok ? "ok  " : "FAIL",
        std::string(name).c_str(),
        r->status,
        static_cast<double>(us) / 1000.0,
        ok ? std::string(detail).c_str() : r->body.substr(0, 300).c_str()
    );
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Round trip to an S3-compatible endpoint with scar's SigV4 signer and HTTP client"};
    std::string endpoint;
    std::string bucket = "scar-roundtrip";
    std::size_t size = 1 << 20;
    app.add_option(
        "--endpoint",
        endpoint,
        "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)"
    );
    app.add_option("--bucket", bucket, "bucket to create and use");
    app.add_option("--size", size, "bytes to upload");
    CLI11_PARSE(app, argc, argv);

    const auto src = scar::aws::config_sources::from_process();
    auto creds = scar::aws::load_credentials(src);
    auto region = scar::aws::load_region(src);
    if (!creds || !region) {
        std::cerr << "scar-s3-roundtrip: " << (!creds ? creds.error().what() : region.error().what()) << "\n";
        return 2;
    }
    if (endpoint.empty()) {
        if (!scar::aws::has_custom_endpoint(src, "S3")) {
            std::cerr << "scar-s3-roundtrip: give --endpoint or set AWS_ENDPOINT_URL; this tool writes a "
                         "bucket and "
                         "refuses to default to AWS\n";
            return 2;
        }
        endpoint = scar::aws::endpoint_url(src, "S3", *region).value();
    }
    session s{endpoint, *region, *creds, scar::http::client{}};
    std::printf(
        "S3 round trip to %s as %s (%s), region %s\n",
        endpoint.c_str(),
        creds->access_key_id.c_str(),
        creds->source.c_str(),
        region->c_str()
    );

    std::string payload(size, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + (i * 7919) % 26);
    const std::string key = "dir/hello world+%ሴ.txt";
    const std::string path = "/" + bucket + "/" + scar::encoding::uri_encode(key, true);
    const std::string md5 = scar::encoding::to_hex(scar::crypto::md5_of(payload));

    auto t0 = steady::now();
    step("CreateBucket " + bucket, s.send(s.make("PUT", "/" + bucket)), 200, t0);

    auto put = s.make("PUT", path);
    put.body = payload;
    put.headers = {{"Content-Type", "text/plain"}, {"x-amz-meta-origin", "scar-cpp"}};
    t0 = steady::now();
    const auto put_r = s.send(put);
    const bool etag_ok = put_r && put_r->header("etag").value_or("") == "\"" + md5 + "\"";
    step(
        "PutObject (" + std::to_string(size) + " B)",
        put_r,
        200,
        t0,
        etag_ok ? "ETag = MD5 of the body" : ""
    );
    if (put_r && !etag_ok) {
        ++failures;
        std::printf(
            "  FAIL ETag %s != MD5 %s\n",
            std::string(put_r->header("etag").value_or("")).c_str(),
            md5.c_str()
        );
    }

    t0 = steady::now();
    const auto head = s.send(s.make("HEAD", path));
    step(
        "HeadObject",
        head,
        200,
        t0,
        head ? "x-amz-meta-origin: " + std::string(head->header("x-amz-meta-origin").value_or("?")) : ""
    );

    t0 = steady::now();
    const auto get = s.send(s.make("GET", path));
    const bool same = get && get->body == payload;
    step("GetObject", get, 200, t0, same ? "body identical" : "");
    if (get && !same) {
        ++failures;
        std::printf("  FAIL downloaded body differs from the upload\n");
    }

    t0 = steady::now();
    const auto list =
        s.send(s.make("GET", "/" + bucket, "list-type=2&prefix=" + scar::encoding::uri_encode("dir/")));
    std::string keys;
    if (list && list->status == 200) {
        pugi::xml_document doc;
        doc.load_string(list->body.c_str());
        for (const auto& c : doc.child("ListBucketResult").children("Contents")) {
            keys += std::string(keys.empty() ? "" : ", ") + c.child_value("Key");
        }
        if (keys != key) {
            ++failures;
            std::printf("  FAIL listing shows [%s], expected [%s]\n", keys.c_str(), key.c_str());
        }
    }
    step("ListObjectsV2 prefix=dir/", list, 200, t0, "keys: " + keys);

    auto p = scar::sigv4::signing_params::make(s.creds, s.region, "s3", scar::clock::system().now());
    const auto url = scar::sigv4::presign(s.make("GET", path), p, std::chrono::minutes(5)).value();
    scar::http::request presigned;
    presigned.url = url;
    t0 = steady::now();
    const auto pre = s.http.send(presigned);
    step("GetObject (presigned URL)", pre, 200, t0, pre && pre->body == payload ? "body identical" : "");

    auto stranger = s.creds;
    stranger.access_key_id = "AKIDUNKNOWNTOSERVER";
    t0 = steady::now();
    const auto unknown = s.send(s.make("GET", path), stranger);
    step("GetObject, unknown key id", unknown, 403, t0, "refused: InvalidAccessKeyId");

    auto wrong = s.creds;
    wrong.secret_access_key += "-wrong";
    t0 = steady::now();
    const auto denied = s.send(s.make("GET", path), wrong);
    if (denied && denied->status == 200) {
        // s3rver checks the key id but not SigV4 signatures ("unimplemented" in its source);
        // scar's own verifier (the emulator's) refuses this request: see tests/integration.
        std::printf(
            "  note GetObject, wrong secret      HTTP 200  this server does not verify SigV4 signatures\n"
        );
    } else {
        step("GetObject, wrong secret", denied, 403, t0, "refused: SignatureDoesNotMatch");
    }

    t0 = steady::now();
    step("DeleteObject", s.send(s.make("DELETE", path)), 204, t0);
    t0 = steady::now();
    step("DeleteBucket", s.send(s.make("DELETE", "/" + bucket)), 204, t0);

    std::printf(failures == 0 ? "round trip OK\n" : "round trip FAILED (%d problems)\n", failures);
    return failures == 0 ? 0 : 1;
}
