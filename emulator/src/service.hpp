#pragma once
// What the router needs of an emulated service.

#include <scar/sigv4/verifier.hpp>

#include <string_view>

#include "exchange.hpp"

namespace scar::emulator {

class service {
public:
    virtual ~service() = default;
    /// The SigV4 service name clients sign with ("s3", "lambda", …).
    [[nodiscard]] virtual std::string_view name() const noexcept = 0;
    /// True when clients sign the body hash without sending it in a header, so the router
    /// must read the body before verifying (the JSON services; S3 streams instead).
    [[nodiscard]] virtual bool needs_body_for_auth() const noexcept { return true; }
    /// Puts `e` on `ex` in the service's wire format (S3 XML, JSON + x-amzn-ErrorType, …).
    virtual void write_error(exchange& ex, const error& e) const = 0;
    /// Handles a request whose signature was verified.
    virtual net::awaitable<void> handle(exchange& ex, const sigv4::verified_request& auth) = 0;
};

}  // namespace scar::emulator
