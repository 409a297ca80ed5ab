#include "support.hpp"

#include "commands.hpp"

namespace scar::cli {

void add_target_flags(CLI::App* cmd, target_flags& f) {
    cmd->add_option("--target", f.target, "local (the emulator, started when needed; the default) or aws")
        ->check(CLI::IsMember({"local", "aws"}));
    cmd->add_option("--region", f.region, "AWS region (default: the environment's, or us-east-1 locally)");
}

deploy::target resolve(const target_flags& f, std::string_view fallback) {
    deploy::target_options o;
    o.region = f.region;
    if ((f.target.empty() ? fallback : std::string_view(f.target)) == "local")
        o.local_endpoint = emulator_endpoint();
    return need(deploy::resolve_target(o));
}

}  // namespace scar::cli

#include <scar/lambda/client.hpp>
#include <scar/s3/client.hpp>

namespace scar::cli {

s3::client s3_client(const deploy::target& t) {
    s3::client_options o;
    o.endpoint = t.s3_url;
    o.region = t.region;
    o.credentials = t.credentials;
    return s3::client(std::move(o));
}

lambda::client lambda_client(const deploy::target& t) {
    return lambda::client(lambda::endpoint{t.lambda_url, t.region, t.credentials});
}

std::pair<std::string, std::string> split_bucket_path(std::string_view path) {
    if (path.starts_with("s3://")) path.remove_prefix(5);
    while (path.ends_with('/')) path.remove_suffix(1);
    const auto slash = path.find('/');
    if (path.empty() || slash == 0)
        fail(make_error(
            "InvalidArgument",
            "expected bucket[/folder], e.g. scar-in/images, not '" + std::string(path) + "'"
        ));
    if (slash == std::string_view::npos) return {std::string(path), {}};
    return {std::string(path.substr(0, slash)), std::string(path.substr(slash + 1))};
}

}  // namespace scar::cli
