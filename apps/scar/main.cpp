// scar: serverless containers on AWS Lambda and Batch, or on the local emulator.

#include <scar/core/error.hpp>

#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"scar: run container images as serverless functions, locally or on AWS"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "scar 0.1.0");
    scar::cli::add_local(app);
    scar::cli::add_image(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const scar::aws_exception& e) {
        std::cerr << "scar: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
