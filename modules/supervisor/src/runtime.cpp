#include "scar/supervisor/runtime.hpp"

#include <scar/config/function.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>
#include <scar/lambda/runtime.hpp>

#include <boost/json.hpp>

#include <array>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fcntl.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace scar::supervisor {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view usage =
    "usage: scar-supervisor [--entrypoint-words N] [-- COMMAND...]\n"
    "\n"
    "The runtime of scar functions. In Lambda (AWS_LAMBDA_RUNTIME_API set) it serves\n"
    "invocations through the Runtime API; elsewhere it handles one event from EVENT or\n"
    "standard input and prints the response. COMMAND is the image's own command, run when\n"
    "an invocation brings no script; its first N words are the ENTRYPOINT that cmd_args are\n"
    "given to (default: all). Configuration: $LAMBDA_TASK_ROOT/function.toml or\n"
    "FUNCTION_CONFIG. See docs/supervisor.md.\n";

error config_error(std::string message) {
    return make_error("ConfigInvalid", std::move(message));
}

std::optional<std::string> process_env(std::string_view name) {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
}

std::string random_id() {
    std::array<unsigned char, 16> b{};
    bool ok = false;
    if (const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC); fd >= 0) {
        ok = ::read(fd, b.data(), b.size()) == static_cast<ssize_t>(b.size());
        ::close(fd);
    }
    if (!ok) {
        const auto seed =
            static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
            static_cast<std::uint64_t>(::getpid());
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<unsigned char>(seed >> ((i % 8) * 8));
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0FU) | 0x40U);
    b[8] = static_cast<unsigned char>((b[8] & 0x3FU) | 0x80U);
    std::string hex = encoding::to_hex(b);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
           "-" + hex.substr(20);
}

std::string error_json(std::string_view type, std::string_view message) {
    return json::serialize(json::object{{"errorType", type}, {"errorMessage", message}});
}

void apply_log_level(const std::string& name) {
    std::string n = encoding::to_lower(name);
    if (n == "critical") n = "error";
    if (auto l = log::parse_level(n)) log::set_level(*l);
}

int lambda_loop(const std::string& api, result<settings> loaded) {
    lambda::runtime_client rt(api);
    if (!loaded) {
        log::error("cannot start: ", loaded.error().what());
        if (auto r = rt.init_error(loaded.error().code, loaded.error().message); !r)
            log::error("cannot report the init error: ", r.error().what());
        return 1;
    }
    const supervisor sup(std::move(*loaded));
    for (;;) {
        auto next = rt.next();
        if (!next) {
            log::error("the Runtime API is gone: ", next.error().what());
            return 1;
        }
        invocation inv;
        inv.request_id = std::move(next->request_id);
        inv.payload = std::move(next->payload);
        if (next->deadline_ms > 0)
            inv.deadline = clock::time_point(std::chrono::milliseconds(next->deadline_ms));
        const reply r = sup.handle(inv);
        auto sent = r.ok ? rt.respond(inv.request_id, r.body)
                         : rt.fail(inv.request_id, r.error_type, r.error_message);
        if (!sent) log::error("cannot answer invocation ", inv.request_id, ": ", sent.error().what());
    }
}

int binary_mode(result<settings> loaded) {
    if (!loaded) {
        log::error("cannot start: ", loaded.error().what());
        std::cout << error_json(loaded.error().code, loaded.error().message) << '\n';
        return 1;
    }
    std::string payload;
    if (auto e = process_env("EVENT")) {
        payload = std::move(*e);
    } else if (::isatty(STDIN_FILENO) == 0) {
        payload.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        log::info("no EVENT and standard input is a terminal: handling an empty event");
    }
    invocation inv;
    inv.request_id =
        process_env("AWS_LAMBDA_REQUEST_ID").value_or(process_env("AWS_BATCH_JOB_ID").value_or(random_id()));
    inv.payload = std::move(payload);
    const supervisor sup(std::move(*loaded));
    const reply r = sup.handle(inv);
    std::cout << (r.ok ? r.body : error_json(r.error_type, r.error_message)) << '\n' << std::flush;
    return r.ok ? 0 : 1;
}

}  // namespace

result<command_line> parse_command_line(const std::vector<std::string>& args) {
    command_line cl;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            cl.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i + 1), args.end());
            break;
        }
        if (a == "-h" || a == "--help") {
            cl.help = true;
        } else if (a == "--version") {
            cl.version = true;
        } else if (a == "--entrypoint-words" || a.starts_with("--entrypoint-words=")) {
            std::string value;
            if (a.size() > std::string_view("--entrypoint-words").size()) {
                value = a.substr(a.find('=') + 1);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            }
            std::size_t n = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
                return make_error(
                    "InvalidParameterValue",
                    "--entrypoint-words takes a number (how many words after '--' are the image's "
                    "ENTRYPOINT), not '" +
                        value + "'"
                );
            }
            cl.entrypoint_words = n;
        } else if (a.starts_with("-")) {
            return make_error(
                "InvalidParameterValue",
                "unknown option '" + a + "'; put the image's command after '--'\n" + std::string(usage)
            );
        } else {
            cl.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
            break;
        }
    }
    if (cl.entrypoint_words && *cl.entrypoint_words > cl.command.size()) {
        return make_error(
            "InvalidParameterValue",
            "--entrypoint-words " + std::to_string(*cl.entrypoint_words) + " is more than the " +
                std::to_string(cl.command.size()) + " word(s) given after '--'"
        );
    }
    return cl;
}

result<settings> load_settings(const env_reader& env, const command_line& cl) {
    settings s;
    s.command = cl.command;
    s.entrypoint_words = cl.entrypoint_words.value_or(cl.command.size());
    s.where = env("AWS_LAMBDA_RUNTIME_API") ? platform::lambda : platform::binary;
    const fs::path task_root = env("LAMBDA_TASK_ROOT").value_or("/var/task");
    const fs::path file = task_root / "function.toml";

    std::optional<std::string> text;
    std::string source;
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) {
        std::ifstream in(file, std::ios::binary);
        text.emplace(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (!in && !in.eof()) return config_error("cannot read '" + file.string() + "'");
        source = file.string();
    } else if (auto fc = env("FUNCTION_CONFIG")) {
        // TOML text always has '=' or '[' where base64 cannot, so the two cannot be confused.
        auto decoded = encoding::base64_decode(encoding::trim(*fc));
        text = decoded ? std::move(*decoded) : std::move(*fc);
        source = "FUNCTION_CONFIG";
    }
    const auto name = env("AWS_LAMBDA_FUNCTION_NAME");
    if (text) {
        // The init script may come in SCRIPT (Batch): its file is checked when it is needed.
        config::parse_options po;
        po.base_dir = task_root;
        po.check_scripts = false;
        auto defs = config::parse(*text, source, po);
        if (!defs) return defs.error();
        if (defs->functions.empty())
            return config_error(source + " defines no function; add a [[function]] table");
        const config::function_definition* chosen =
            defs->functions.size() == 1 ? &defs->functions.front() : nullptr;
        if (chosen == nullptr) {
            std::string names;
            for (const auto& f : defs->functions) {
                if (name && f.name == *name) chosen = &f;
                names += (names.empty() ? "" : ", ") + f.name;
            }
            if (chosen == nullptr) {
                return config_error(
                    source + " defines several functions (" + names + ") and none is '" + name.value_or("") +
                    "' (AWS_LAMBDA_FUNCTION_NAME); deploy one function's configuration, or set "
                    "AWS_LAMBDA_FUNCTION_NAME"
                );
            }
        }
        s.function = *chosen;
        s.storage = defs->storage;
        s.config_source = source;
    } else if (name) {
        s.function.name = *name;
    }
    if (auto script = env("SCRIPT")) {
        auto decoded = encoding::base64_decode(encoding::trim(*script));
        if (!decoded) return config_error("SCRIPT must be the init script in base64; it is not valid base64");
        s.init_script_text = std::move(*decoded);
    }
    if (auto level = env("LOG_LEVEL")) s.function.log_level = *level;
    if (auto threshold = env("TIMEOUT_THRESHOLD")) {
        int v = 0;
        const auto [end, e] = std::from_chars(threshold->data(), threshold->data() + threshold->size(), v);
        if (e != std::errc() || end != threshold->data() + threshold->size() || v < 0) {
            return config_error(
                "TIMEOUT_THRESHOLD must be a whole number of seconds, not '" + *threshold + "'"
            );
        }
        s.function.timeout_threshold_s = v;
    }
    s.temp_root = env("TMPDIR").value_or("/tmp");
    s.log_group = env("AWS_LAMBDA_LOG_GROUP_NAME").value_or("");
    s.log_stream = env("AWS_LAMBDA_LOG_STREAM_NAME").value_or("");
    if (!text) {
        log::warn(
            "no function configuration (",
            file.string(),
            " or FUNCTION_CONFIG): no input is downloaded and no output uploaded"
        );
    }
    return s;
}

int run(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    auto cl = parse_command_line(args);
    if (!cl) {
        std::cerr << "scar-supervisor: " << cl.error().message << '\n';
        return 2;
    }
    if (cl->help) {
        std::cout << usage;
        return 0;
    }
    if (cl->version) {
        std::cout << "scar-supervisor " << SCAR_SUPERVISOR_VERSION << '\n';
        return 0;
    }
    auto loaded = load_settings(process_env, *cl);
    if (loaded) {
        // Without a configuration or LOG_LEVEL, SCAR_LOG_LEVEL (read by the logger) decides.
        if (!loaded->config_source.empty() || process_env("LOG_LEVEL"))
            apply_log_level(loaded->function.log_level);
        for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
            const std::string_view var(*e);
            if (var.starts_with("FUNCTION_CONFIG=") || var.starts_with("SCRIPT=")) continue;
            loaded->base_env.emplace_back(var);
        }
    }
    if (auto api = process_env("AWS_LAMBDA_RUNTIME_API")) return lambda_loop(*api, std::move(loaded));
    return binary_mode(std::move(loaded));
}

}  // namespace scar::supervisor
