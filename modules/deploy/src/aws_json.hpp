#pragma once
// Signed calls to AWS's JSON 1.1 protocol services (ECR, CloudWatch Logs): POST / with
// X-Amz-Target, errors as {"__type", "message"}.

#include <scar/core/aws_config.hpp>
#include <scar/core/error.hpp>

#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace scar::deploy::detail {

class json_service {
public:
    /// `target_prefix` "AmazonEC2ContainerRegistry_V20150921"; `signing_name` "ecr".
    json_service(
        std::string url,
        std::string region,
        aws::credentials creds,
        std::string signing_name,
        std::string target_prefix
    );
    ~json_service();
    json_service(json_service&&) noexcept;
    json_service& operator=(json_service&&) noexcept;

    /// Calls `operation` with `request`; the answer's JSON, or the service's error (code
    /// from `__type`, its message, prefixed with the operation).
    [[nodiscard]] result<boost::json::value> call(
        std::string_view operation,
        const boost::json::value& request
    );

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The string at `key` of an object, or "".
[[nodiscard]] std::string string_at(const boost::json::value& v, std::string_view key);

}  // namespace scar::deploy::detail
