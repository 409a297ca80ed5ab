// scar: serverless containers on AWS Lambda and Batch, or on the local emulator.

#include <scar/core/error.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <string_view>
#include <vector>

#include "commands.hpp"

namespace {

/// SCAR's two-letter short flags, which CLI11 (one letter after '-') cannot declare.
constexpr std::pair<std::string_view, std::string_view> scar_flags[] = {
    {"-ri", "--request-id"},
    {"-db", "--data-binary"},
    {"-jd", "--json-data"},
};

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    for (auto& a : args)
        for (const auto& [from, to] : scar_flags)
            if (a == from) a = to;
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());

    CLI::App app{"scar: run container images as serverless functions, locally or on AWS"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "scar 0.1.0");
    scar::cli::add_init(app);
    scar::cli::add_run(app);
    scar::cli::add_invoke(app);
    scar::cli::add_ls(app);
    scar::cli::add_log(app);
    scar::cli::add_rm(app);
    scar::cli::add_cost(app);
    scar::cli::add_dlq(app);
    scar::cli::add_put_get(app);
    scar::cli::add_image(app);
    scar::cli::add_local(app);
    try {
        app.parse(static_cast<int>(av.size()), av.data());
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const scar::aws_exception& e) {
        std::cerr << "scar: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
