// A custom runtime built on scar::lambda::runtime_client, zipped as `bootstrap` by the
// tests: echoes events, fails on request (unless PROBE_HEALED is set), reports the time left.

#include <scar/lambda/runtime.hpp>

#include <cstdio>
#include <cstdlib>

int main() {
    const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (api == nullptr) {
        std::fprintf(stderr, "AWS_LAMBDA_RUNTIME_API is not set\n");
        return 2;
    }
    scar::lambda::runtime_client rt(api);
    for (;;) {
        auto inv = rt.next();
        if (!inv) {
            std::fprintf(stderr, "next failed: %s\n", inv.error().what().c_str());
            return 1;
        }
        std::printf("probe handling %s %s\n", inv->request_id.c_str(), inv->payload.c_str());
        std::fflush(stdout);
        if (inv->payload.find("fail") != std::string::npos && std::getenv("PROBE_HEALED") == nullptr) {
            (void)rt.fail(inv->request_id, "Probe.Failure", "asked to fail");
            continue;
        }
        const std::string body = R"({"echo":)" + inv->payload + R"(,"remaining_ms":)" +
                                 std::to_string(inv->remaining_ms()) + R"(,"arn":")" + inv->function_arn +
                                 "\"}";
        if (auto ok = rt.respond(inv->request_id, body); !ok) return 1;
        std::printf("probe answered %s\n", inv->request_id.c_str());
        std::fflush(stdout);
    }
}
