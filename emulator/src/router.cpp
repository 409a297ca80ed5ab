#include "router.hpp"

#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>

#include "util.hpp"

namespace scar::emulator {
namespace {

/// JSON services' request bodies are read whole before verification; none is larger.
constexpr std::uint64_t json_body_limit = 16ull << 20;

/// The service of a credential "AKID/date/region/service/aws4_request".
std::string_view scope_service(std::string_view credential) noexcept {
    std::size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
        pos = credential.find('/', pos);
        if (pos == std::string_view::npos) return {};
        ++pos;
    }
    const auto end = credential.find('/', pos);
    return end == std::string_view::npos ? std::string_view{} : credential.substr(pos, end - pos);
}

}  // namespace

std::string_view router::service_name_for(const exchange& ex) const {
    if (const auto auth = ex.header("authorization")) {
        const auto at = auth->find("Credential=");
        if (at != std::string_view::npos) {
            auto cred = auth->substr(at + 11);
            cred = cred.substr(0, cred.find_first_of(", "));
            if (auto s = scope_service(cred); !s.empty()) return s;
        }
    }
    if (const auto* cred = ex.param("X-Amz-Credential")) {
        if (auto s = scope_service(*cred); !s.empty()) {
            if (const auto* svc = find(s)) return svc->name();
            return s == "s3" ? "s3" : "unknown";
        }
    }
    // Unsigned JSON 1.1 calls name their service only in X-Amz-Target.
    if (const auto target = ex.header("x-amz-target")) {
        if (target->starts_with("Logs_")) return "logs";
        if (target->starts_with("AmazonEC2ContainerRegistry_")) return "ecr";
    }
    const std::string_view p = ex.path;
    if (p.starts_with("/2015-03-31/") || p.starts_with("/2018-10-31/") || p.starts_with("/2017-10-31/") ||
        p.starts_with("/2016-08-19/") || p.starts_with("/2019-09-25/") || p.starts_with("/2021-10-31/") ||
        p.starts_with("/_scar/lambda/")) {
        return "lambda";
    }
    if (p.starts_with("/v1/")) return "batch";
    if (p.starts_with("/restapis")) return "apigateway";
    return "s3";
}

service* router::find(std::string_view name) const noexcept {
    for (const auto& s : services_)
        if (s->name() == name) return s.get();
    return nullptr;
}

net::awaitable<void> router::handle(exchange& ex) {
    ex.request_id = random_hex(8);
    ex.set_header("x-amz-request-id", ex.request_id);
    ex.set_header("Date", http_date(now_ms()));
    ex.set_header("Server", "scar-emulator");

    for (const auto& [match, handler] : open_routes_) {
        if (match(ex)) {
            co_await handler(ex);
            co_return;
        }
    }
    const std::string_view name = service_name_for(ex);
    service* svc = find(name);
    if (svc == nullptr) {
        ex.status = 501;
        ex.set_header("Content-Type", "application/json");
        ex.set_header("x-amzn-ErrorType", "NotImplemented");
        std::string msg =
            "the emulator does not serve the '" + std::string(name) + "' service (yet); it serves:";
        for (const auto& s : services_) msg.append(" ").append(s->name());
        ex.response_body = R"({"__type":"NotImplemented","message":")" + msg + "\"}";
        co_return;
    }

    if (svc->needs_body_for_auth() && ex.has_body) {
        auto body = co_await ex.read_body(json_body_limit);
        if (!body) {
            svc->write_error(ex, body.error());
            co_return;
        }
        ex.body = std::move(*body);
    }
    sigv4::incoming_request in{ex.method, ex.target, &ex.headers, std::nullopt, svc->name()};
    if (svc->needs_body_for_auth()) in.body = ex.body ? std::string_view(*ex.body) : std::string_view{};
    auto verified = verifier_.verify(in);
    // A signature made over one body's hash must not carry another body: the hash the
    // verifier used may come from an unsigned x-amz-content-sha256 header.
    if (verified && svc->needs_body_for_auth() && !verified->body_matches(ex.body.value_or(""))) {
        verified = make_error(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided: the body does "
            "not match the payload hash it was signed with",
            403
        );
    }
    if (!verified) {
        log::debug(ex.method, " ", ex.target, ": ", verified.error().what());
        svc->write_error(ex, verified.error());
        co_return;
    }
    co_await svc->handle(ex, *verified);
    log::debug(ex.method, " ", ex.target, " -> ", ex.status);
}

}  // namespace scar::emulator
