// SigV4 micro benchmarks: sign (cold and cached key), presign, verify, chunk signing.
//   build/bin/scar_sigv4_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <scar/sigv4/chunked.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/sigv4/verifier.hpp>

#include <benchmark/benchmark.h>

namespace {

namespace sigv4 = scar::sigv4;

const scar::aws::credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "bench"};
const auto when = sigv4::parse_amz_date("20261122T120000Z").value();

/// A typical S3 PUT: path-style key, three headers, precomputed payload hash.
scar::http::request s3_put() {
    scar::http::request r;
    r.method = "PUT";
    r.url = "http://127.0.0.1:4566/input-bucket/images/cat%20photo.jpg?x-id=PutObject";
    r.headers = {{"Content-Type", "image/jpeg"}, {"x-amz-meta-origin", "scar"}, {"User-Agent", "scar/0.1"}};
    return r;
}

sigv4::signing_params params(sigv4::key_cache* cache) {
    auto p = sigv4::signing_params::make(creds, "us-east-1", "s3", when);
    p.payload_hash = sigv4::unsigned_payload;
    p.cache = cache;
    return p;
}

void sign_cold(benchmark::State& state) {
    const auto base = s3_put();
    const auto p = params(nullptr);  // derive the key every time
    for (auto _ : state) {
        auto req = base;
        benchmark::DoNotOptimize(sigv4::sign(req, p));
    }
}
BENCHMARK(sign_cold);

void sign_cached(benchmark::State& state) {
    sigv4::key_cache cache;
    const auto base = s3_put();
    const auto p = params(&cache);
    for (auto _ : state) {
        auto req = base;
        benchmark::DoNotOptimize(sigv4::sign(req, p));
    }
}
BENCHMARK(sign_cached);

void sign_cached_lambda_json(benchmark::State& state) {
    sigv4::key_cache cache;
    scar::http::request base;
    base.method = "POST";
    base.url = "http://127.0.0.1:4566/2015-03-31/functions/my-function/invocations";
    base.body = R"({"Records":[{"s3":{"bucket":{"name":"in"},"object":{"key":"a.jpg"}}}]})";
    auto p = sigv4::signing_params::make(creds, "us-east-1", "lambda", when);
    p.cache = &cache;
    for (auto _ : state) {
        auto req = base;
        benchmark::DoNotOptimize(sigv4::sign(req, p));
    }
}
BENCHMARK(sign_cached_lambda_json);

void presign_cached(benchmark::State& state) {
    sigv4::key_cache cache;
    const auto req = s3_put();
    const auto p = params(&cache);
    for (auto _ : state) benchmark::DoNotOptimize(sigv4::presign(req, p, std::chrono::hours(1)));
}
BENCHMARK(presign_cached);

void verify_cached(benchmark::State& state) {
    sigv4::key_cache cache;
    auto req = s3_put();
    (void)sigv4::sign(req, params(&cache)).value();
    const std::string target = req.url.substr(req.url.find("/input-bucket"));
    scar::manual_clock clock(when);
    sigv4::verify_options o;
    o.time_source = &clock;
    o.cache = &cache;
    const sigv4::verifier v(
        [](std::string_view) -> std::optional<scar::aws::credentials> { return creds; },
        o
    );
    const sigv4::incoming_request in{req.method, target, &req.headers, std::nullopt};
    if (!v.verify(in)) state.SkipWithError("verification failed");
    for (auto _ : state) benchmark::DoNotOptimize(v.verify(in));
}
BENCHMARK(verify_cached);

void chunk_sign_64k(benchmark::State& state) {
    auto req = s3_put();
    auto p = params(nullptr);
    p.payload_hash = sigv4::streaming_payload;
    const auto seed = sigv4::sign(req, p).value();
    sigv4::chunk_signer signer(seed);
    const std::string chunk(65'536, 'x');
    for (auto _ : state) benchmark::DoNotOptimize(signer.sign(chunk));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 65'536);
}
BENCHMARK(chunk_sign_64k);

}  // namespace

BENCHMARK_MAIN();
