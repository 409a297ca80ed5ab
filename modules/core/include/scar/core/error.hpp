#pragma once
/// @file
/// The one error value of scar-cpp and the `result<T>` that carries it.
///
/// Every library function that can fail returns `scar::result<T>`: either a value or a
/// `scar::error`. Applications, the supervisor's top level and tests may call `.value()`,
/// which throws `scar::aws_exception` on failure, and catch once in `main`. The convention
/// is written down in `docs/design/errors.md`.

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace scar {

/// What went wrong, in AWS's vocabulary, and what the user can do about it.
///
/// `code` is an AWS-style error code (`NoSuchBucket`, `SignatureDoesNotMatch`,
/// `InvalidParameterValueException`) or one of ours (`ConfigInvalid`, `LayerEscape`,
/// `NetworkError`). `message` is one or two sentences that name the object concerned and
/// say what to do, e.g. "cannot read '~/.aws/credentials': Permission denied; fix its
/// permissions or set AWS_ACCESS_KEY_ID". `http_status` is the status a server answers
/// with for this error (0 when the error never crosses HTTP). `retryable` tells callers
/// that the same request may succeed later (throttling, 5xx, connection reset).
struct error {
    error() = default;
    /// Two strings at least, so that `result<std::string>` can still be made from a string
    /// (an aggregate would be constructible from one and make that ambiguous).
    error(std::string code_, std::string message_, int http_status_ = 0, bool retryable_ = false)
        : code(std::move(code_)),
          message(std::move(message_)),
          http_status(http_status_),
          retryable(retryable_) {}

    std::string code;
    std::string message;
    int http_status = 0;
    bool retryable = false;

    /// Returns a copy whose message is prefixed with `context` ("context: message").
    /// Used on the way up to name the operation or object: `e.wrap("GET s3://b/k")`.
    [[nodiscard]] error wrap(std::string_view context) const {
        error out = *this;
        out.message.insert(0, std::string(context) + ": ");
        return out;
    }

    /// "Code: message", the form printed to users.
    [[nodiscard]] std::string what() const { return code + ": " + message; }
};

/// Makes an error; converts implicitly to any failed `result<T>`:
/// `return make_error("NoSuchKey", "the key 'a' does not exist", 404);`.
[[nodiscard]] inline error make_error(
    std::string code,
    std::string message,
    int http_status = 0,
    bool retryable = false
) {
    return error{std::move(code), std::move(message), http_status, retryable};
}

/// Thrown by `result<T>::value()` on failure; carries the error unchanged.
class aws_exception : public std::runtime_error {
public:
    explicit aws_exception(error e) : std::runtime_error(e.what()), error_(std::move(e)) {}
    [[nodiscard]] const error& err() const noexcept { return error_; }

private:
    error error_;
};

/// Found by ADL from `boost::system::result<T, error>::value()`.
[[noreturn]] inline void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw aws_exception(e);
}

/// A value or an error. `boost::system::result` with `scar::error` as the error type.
template <class T>
using result = boost::system::result<T, error>;

}  // namespace scar
