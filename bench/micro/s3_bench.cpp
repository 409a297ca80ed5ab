// S3 module micro benchmarks: the models the emulator runs on every object change
// (notification matching, event JSON), XML configuration parsing, URL building, and one
// client PUT / GET round trip against a loopback HTTP server (signing, hashing, curl).
//   build-s3/bin/scar_s3_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <scar/s3/client.hpp>
#include <scar/s3/errors.hpp>
#include <scar/s3/event.hpp>
#include <scar/s3/notification.hpp>
#include <scar/testing/http_server_mock.hpp>

#include <benchmark/benchmark.h>

namespace {

namespace s3 = scar::s3;

std::string ten_rule_config() {
    std::string x = R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)";
    for (int i = 0; i < 10; ++i) {
        x += "<LambdaFunctionConfiguration><Id>rule-" + std::to_string(i) +
             "</Id><LambdaFunctionArn>arn:aws:lambda:us-east-1:000000000000:function:f" + std::to_string(i) +
             "</LambdaFunctionArn><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</"
             "Name>"
             "<Value>in" +
             std::to_string(i) +
             "/</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.csv</Value>"
             "</FilterRule></S3Key></Filter></LambdaFunctionConfiguration>";
    }
    return x + "</NotificationConfiguration>";
}

s3::event_record sample_record() {
    s3::event_record r;
    r.aws_region = "us-east-1";
    r.event_time = s3::parse_event_time("2026-11-22T12:00:00.123Z").value();
    r.event_name = "ObjectCreated:Put";
    r.principal_id = "AWS:test";
    r.source_ip = "127.0.0.1";
    r.request_id = "C3D13FE58DE4C810";
    r.id2 = "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD";
    r.configuration_id = "rule-3";
    r.bucket_name = "input";
    r.bucket_owner = "000000000000";
    r.bucket_arn = "arn:aws:s3:::input";
    r.key = "in3/some dir/ünïcode file.csv";
    r.size = 123456;
    r.etag = "d41d8cd98f00b204e9800998ecf8427e";
    r.sequencer = "0055AED6DCD90281E5";
    return r;
}

void parse_notification_config(benchmark::State& state) {
    const std::string xml = ten_rule_config();
    for (auto _ : state) benchmark::DoNotOptimize(s3::parse_notification_xml(xml));
}
BENCHMARK(parse_notification_config);

void validate_notification_config(benchmark::State& state) {
    const auto c = s3::parse_notification_xml(ten_rule_config()).value();
    for (auto _ : state) benchmark::DoNotOptimize(s3::validate(c));
}
BENCHMARK(validate_notification_config);

/// What the emulator does per object change: find the rules that match, of ten.
void match_ten_rules(benchmark::State& state) {
    const auto c = s3::parse_notification_xml(ten_rule_config()).value();
    for (auto _ : state) {
        int hits = 0;
        for (const auto& r : c.lambda)
            hits += s3::matches(r, "ObjectCreated:Put", "in7/a/b/file.csv") ? 1 : 0;
        benchmark::DoNotOptimize(hits);
    }
}
BENCHMARK(match_ten_rules);

void event_to_json(benchmark::State& state) {
    const s3::event_batch b{{sample_record()}};
    for (auto _ : state) benchmark::DoNotOptimize(s3::to_json(b));
}
BENCHMARK(event_to_json);

void event_parse_json(benchmark::State& state) {
    const std::string json = s3::to_json(s3::event_batch{{sample_record()}});
    for (auto _ : state) benchmark::DoNotOptimize(s3::parse_event_json(json));
}
BENCHMARK(event_parse_json);

void sequencer_next(benchmark::State& state) {
    s3::sequencer_source seq;
    for (auto _ : state) benchmark::DoNotOptimize(seq.next());
}
BENCHMARK(sequencer_next);

void object_url(benchmark::State& state) {
    s3::client_options o;
    o.endpoint = "http://127.0.0.1:4566";
    o.credentials = {"test", "test", "", "bench"};
    const s3::client c(o);
    for (auto _ : state) benchmark::DoNotOptimize(c.url_for("input", "in3/some dir/ünïcode file.csv"));
}
BENCHMARK(object_url);

void map_error_response(benchmark::State& state) {
    scar::http::response r;
    r.status = 404;
    r.body =
        "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
    for (auto _ : state) benchmark::DoNotOptimize(s3::error_from_response(r, "GET s3://b/k", "NoSuchKey"));
}
BENCHMARK(map_error_response);

/// One signed PUT of `range(0)` bytes and one GET back, over a kept-alive loopback
/// connection to a minimal server: the client's whole per-request cost plus the server's.
void put_get_round_trip(benchmark::State& state) {
    const std::string body(static_cast<std::size_t>(state.range(0)), 'x');
    scar::testing::http_server_mock server([&](const scar::testing::recorded_request& r) {
        if (r.method == "PUT") return scar::testing::mock_response{200, {{"ETag", "\"e\""}}, "", false};
        return scar::testing::mock_response{200, {}, body, false};
    });
    s3::client_options o;
    o.endpoint = server.url();
    o.credentials = {"test", "test", "", "bench"};
    s3::client c(o);
    for (auto _ : state) {
        benchmark::DoNotOptimize(c.put_object("b", "k", body));
        benchmark::DoNotOptimize(c.get_object("b", "k"));
    }
    state.SetBytesProcessed(state.iterations() * state.range(0) * 2);
}
BENCHMARK(put_get_round_trip)->Arg(4 << 10)->Arg(1 << 20)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
