// scar local up | down | status: the emulator as a background process of the user.
//
// State lives in $SCAR_HOME (default ~/.scar): emulator.pid, emulator.endpoint and
// emulator.log; data in $SCAR_HOME/emulator unless --data-dir says otherwise.

#include <scar/core/error.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "../commands.hpp"
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace scar::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path scar_home() {
    if (const char* h = std::getenv("SCAR_HOME"); h != nullptr && *h != '\0') return h;
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return fs::path(h) / ".scar";
    throw aws_exception(make_error(
        "ConfigInvalid",
        "neither SCAR_HOME nor HOME is set; set SCAR_HOME to a writable directory"
    ));
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// The emulator's pid from the pid file, if that process is alive.
std::optional<pid_t> running_pid(const fs::path& home) {
    const auto text = read_file(home / "emulator.pid");
    if (text.empty()) return std::nullopt;
    const auto pid = static_cast<pid_t>(std::atol(text.c_str()));
    if (pid <= 0 || ::kill(pid, 0) != 0) return std::nullopt;
    return pid;
}

/// scar-emulator next to this program, else from PATH.
std::string emulator_program() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto beside = self.parent_path() / "scar-emulator";
        if (fs::exists(beside)) return beside.string();
    }
    return "scar-emulator";
}

struct up_options {
    std::uint16_t port = 4566;
    std::string host = "127.0.0.1";
    std::string data_dir;
};

int up(const up_options& o, std::ostream& say = std::cout) {
    const fs::path home = scar_home();
    fs::create_directories(home);
    if (const auto pid = running_pid(home)) {
        say << "the emulator is already running (pid " << *pid << ") at "
            << read_file(home / "emulator.endpoint") << "\n";
        return 0;
    }
    const fs::path log = home / "emulator.log";
    const std::string data = o.data_dir.empty() ? (home / "emulator").string() : o.data_dir;
    const std::string program = emulator_program();
    const std::string port = std::to_string(o.port);
    // Removed before the child starts, so the ready line read below is the new one.
    std::error_code rm_ec;
    fs::remove(log, rm_ec);
    const pid_t pid = ::fork();
    if (pid < 0)
        throw aws_exception(make_error("InternalError", "fork failed; is the system out of processes?"));
    if (pid == 0) {
        ::setsid();  // outlives this shell session
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (out < 0 || in < 0) ::_exit(126);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::execlp(
            program.c_str(),
            program.c_str(),
            "--host",
            o.host.c_str(),
            "--port",
            port.c_str(),
            "--data-dir",
            data.c_str(),
            static_cast<char*>(nullptr)
        );
        ::_exit(127);
    }
    // Ready when it says where it listens; gone if it exits first.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto text = read_file(log);
        if (const auto at = text.find("listening on "); at != std::string::npos) {
            const auto end = text.find(' ', at + 13);
            const std::string endpoint = text.substr(at + 13, end - at - 13);
            std::ofstream(home / "emulator.pid") << pid << "\n";
            std::ofstream(home / "emulator.endpoint") << endpoint;
            say << "emulator up at " << endpoint << " (pid " << pid << ", data " << data << ", log "
                << log.string() << ")\n"
                << "use it with: export AWS_ENDPOINT_URL=" << endpoint
                << " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1\n";
            return 0;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            std::cerr << "scar: the emulator did not start:\n" << text;
            return 1;
        }
        std::this_thread::sleep_for(5ms);  // polling the log file for the ready line
    }
    ::kill(pid, SIGKILL);
    std::cerr << "scar: the emulator did not report ready within 20 s; see " << log.string() << "\n";
    return 1;
}

int down() {
    const fs::path home = scar_home();
    const auto pid = running_pid(home);
    if (!pid) {
        std::cout << "the emulator is not running\n";
        fs::remove(home / "emulator.pid");
        return 0;
    }
    ::kill(*pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (::kill(*pid, 0) == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    if (::kill(*pid, 0) == 0) {
        ::kill(*pid, SIGKILL);
        std::cout << "the emulator did not stop within 10 s; killed it (pid " << *pid << ")\n";
    } else {
        std::cout << "emulator stopped (pid " << *pid << ")\n";
    }
    fs::remove(home / "emulator.pid");
    fs::remove(home / "emulator.endpoint");
    return 0;
}

int status() {
    const fs::path home = scar_home();
    if (const auto pid = running_pid(home)) {
        std::cout << "running at " << read_file(home / "emulator.endpoint") << " (pid " << *pid << ", log "
                  << (home / "emulator.log").string() << ")\n";
        return 0;
    }
    std::cout << "not running; start it with: scar local up\n";
    return 3;
}

}  // namespace

std::string emulator_endpoint() {
    const fs::path home = scar_home();
    if (!running_pid(home)) {
        if (up(up_options{}, std::cerr) != 0)
            throw aws_exception(make_error(
                "EmulatorNotRunning",
                "the local emulator could not be started; see " + (home / "emulator.log").string() +
                    ", or deploy to AWS with --target aws"
            ));
    }
    return read_file(home / "emulator.endpoint");
}

void add_local(CLI::App& app) {
    auto* local = app.add_subcommand("local", "the local emulator (S3, Lambda, Logs, ECR) in the background");
    local->require_subcommand(1);
    auto o = std::make_shared<up_options>();
    auto* u = local->add_subcommand("up", "start the emulator in the background");
    u->add_option("--port", o->port, "port to listen on")->capture_default_str();
    u->add_option("--host", o->host, "address to listen on")->capture_default_str();
    u->add_option("--data-dir", o->data_dir, "where its state lives (default $SCAR_HOME/emulator)");
    u->final_callback([o] { std::exit(up(*o)); });
    local->add_subcommand("down", "stop the emulator")->final_callback([] { std::exit(down()); });
    local->add_subcommand("status", "is the emulator running, and where")->final_callback([] {
        std::exit(status());
    });
}

}  // namespace scar::cli
