#pragma once
// What the macro benchmarks against scar-emulator share: starting the emulator, signing
// requests with its default credential, and packaging a custom runtime as a Zip function.

#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/process.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace scar::bench {

/// Ends a run with exit status 1 (caught in main) after the emulator it started is stopped:
/// its destructor runs as the exception unwinds, where std::exit would leave it running.
struct failure {};

inline testing::process_options opts(std::vector<std::string> argv) {
    testing::process_options o;
    o.argv = std::move(argv);
    return o;
}

/// A scar-emulator this run started (stopped when this goes) and its URL.
struct running_emulator {
    std::unique_ptr<testing::child_process> process;
    std::string url;
};

/// Starts `SCAR_EMULATOR_BIN` on a free port with `--no-fsync`, its data in `dir/data`, and
/// `extra` arguments.
inline running_emulator start_emulator(
    const std::filesystem::path& dir,
    std::vector<std::string> extra = {}
) {
    std::vector<std::string> argv =
        {SCAR_EMULATOR_BIN, "--port", "0", "--no-fsync", "--data-dir", (dir / "data").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto emu = std::make_unique<testing::child_process>(opts(argv));
    using namespace std::chrono_literals;
    if (!emu->wait_for_output("listening on", 20s)) throw failure{};
    emu->wait_for_output("\n", 5s);
    std::smatch m;
    const std::string text = emu->stdout_text();
    if (!std::regex_search(text, m, std::regex("listening on (http://[0-9.:]+)"))) throw failure{};
    return {std::move(emu), m[1].str()};
}

/// `req` signed for `service` with the emulator's default credential, now.
inline http::request sign(http::request req, const std::string& service) {
    static const aws::credentials creds{"test", "test", "", ""};
    auto p = sigv4::signing_params::make(creds, "us-east-1", service, clock::system().now());
    (void)sigv4::sign(req, p).value();
    return req;
}

/// A signed request with `body`.
inline http::request signed_request(
    const std::string& service,
    const std::string& method,
    const std::string& url,
    std::string body
) {
    http::request req;
    req.method = method;
    req.url = url;
    req.body = std::move(body);
    return sign(std::move(req), service);
}

/// A Zip holding `runtime` as an executable `bootstrap`, base64 (CreateFunction's ZipFile).
inline std::string runtime_zip_base64(const std::filesystem::path& dir, const std::string& runtime) {
    const auto zip = dir / "fn.zip";
    const auto made = testing::run(opts(
        {"python3",
         "-c",
         "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],'w')\ni=zipfile.ZipInfo('bootstrap'); "
         "i.external_attr=0o755<<16\nz.writestr(i, open(sys.argv[2],'rb').read()); z.close()",
         zip.string(),
         runtime}
    ));
    if (made.exit_code != 0) {
        std::fprintf(stderr, "cannot make the zip: %s\n", made.err.c_str());
        throw failure{};
    }
    std::ifstream in(zip, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return encoding::base64_encode(bytes.str());
}

}  // namespace scar::bench
