// A minimal Lambda custom runtime for benchmarks: echoes each event back, as fast as the
// Runtime API allows (one keep-alive connection through scar's HTTP client).

#include <scar/core/http.hpp>

#include <cstdlib>
#include <string>

int main() {
    const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (api == nullptr) return 2;
    const std::string base = std::string("http://") + api + "/2018-06-01/runtime/invocation/";
    scar::http::options o;
    o.retry.max_attempts = 1;
    scar::http::client client(o);
    for (;;) {
        scar::http::request next;
        next.url = base + "next";
        auto ev = client.send(next);
        if (!ev || ev->status != 200) return 1;
        const auto id = ev->header("lambda-runtime-aws-request-id");
        if (!id) return 1;
        scar::http::request done;
        done.method = "POST";
        done.url = base + std::string(*id) + "/response";
        done.body = std::move(ev->body);
        if (auto r = client.send(done); !r || r->status != 202) return 1;
    }
}
