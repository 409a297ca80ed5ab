#include "cgroup.hpp"

#include <scar/core/log.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace scar::sandbox::detail {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

bool write_text(const fs::path& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const auto n = ::write(fd, text.data(), text.size());
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return n == static_cast<ssize_t>(text.size());
}

/// The value after `key ` in a "key value" per line file (memory.events, memory.oom_control).
std::uint64_t keyed_value(const std::string& text, std::string_view key) {
    std::istringstream in(text);
    std::string k;
    std::uint64_t v = 0;
    while (in >> k >> v) {
        if (k == key) return v;
    }
    return 0;
}

bool has_word(std::string_view list, std::string_view word, char sep) {
    while (!list.empty()) {
        const auto end = list.find(sep);
        if (list.substr(0, end) == word) return true;
        if (end == std::string_view::npos) break;
        list.remove_prefix(end + 1);
    }
    return false;
}

bool has_token(const std::string& text, std::string_view word) {
    std::istringstream in(text);
    std::string w;
    while (in >> w) {
        if (w == word) return true;
    }
    return false;
}

std::vector<pid_t> procs_of(const fs::path& dir) {
    std::vector<pid_t> out;
    std::ifstream in(dir / "cgroup.procs");
    pid_t p = 0;
    while (in >> p) out.push_back(p);
    return out;
}

void kill_group(cgroup_version v, const fs::path& dir) {
    if (v == cgroup_version::v2 && write_text(dir / "cgroup.kill", "1")) return;
    // v1 (or v2 before 5.14): kill what is listed until nothing is left; forks racing with
    // us end up in the list of the next round.
    for (int round = 0; round < 100; ++round) {
        const auto pids = procs_of(dir);
        if (pids.empty()) return;
        for (const pid_t p : pids) ::kill(p, SIGKILL);
    }
}

bool remove_group(cgroup_version v, const fs::path& dir) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
        if (errno != EBUSY) return false;
        // Killed processes leave the group once the kernel has reaped them.
        kill_group(v, dir);
        ::usleep(1000);
    }
    return false;
}

struct location {
    cgroup_version version = cgroup_version::none;
    fs::path dir;        // the cgroup we are in
    std::string reason;  // why none is usable
};

/// Where our own cgroup is, for the v2 hierarchy and for the v1 memory controller.
location find_location() {
    std::string v1_path;
    std::string v2_path;
    bool have_v1 = false;
    bool have_v2 = false;
    {
        std::ifstream in("/proc/self/cgroup");
        std::string line;
        while (std::getline(in, line)) {
            const auto a = line.find(':');
            const auto b = line.find(':', a + 1);
            if (a == std::string::npos || b == std::string::npos) continue;
            const std::string_view controllers = std::string_view(line).substr(a + 1, b - a - 1);
            if (line.compare(0, a, "0") == 0 && controllers.empty()) {
                v2_path = line.substr(b + 1);
                have_v2 = true;
            } else if (has_word(controllers, "memory", ',')) {
                v1_path = line.substr(b + 1);
                have_v1 = true;
            }
        }
    }
    fs::path v1_mount;
    std::string v1_root;
    fs::path v2_mount;
    std::string v2_root;
    {
        std::ifstream in("/proc/self/mountinfo");
        std::string line;
        while (std::getline(in, line)) {
            // id parent major:minor root mount-point options [optional...] - type source super-options
            std::istringstream fields(line);
            std::string id, parent, dev, root, point;
            fields >> id >> parent >> dev >> root >> point;
            std::string word;
            while (fields >> word && word != "-") {
            }
            std::string type, source, super;
            fields >> type >> source >> super;
            if (type == "cgroup2" && v2_mount.empty()) {
                v2_mount = point;
                v2_root = root;
            } else if (type == "cgroup" && has_word(super, "memory", ',') && v1_mount.empty()) {
                v1_mount = point;
                v1_root = root;
            }
        }
    }
    const auto join = [](const fs::path& mount, const std::string& root, std::string path) {
        if (root != "/" && path.compare(0, root.size(), root) == 0) path.erase(0, root.size());
        return mount / fs::path(path).relative_path();
    };
    location out;
    if (have_v2 && !v2_mount.empty()) {
        const fs::path dir = join(v2_mount, v2_root, v2_path);
        if (has_token(read_text(dir / "cgroup.controllers"), "memory")) {
            if (has_token(read_text(dir / "cgroup.subtree_control"), "memory") ||
                write_text(dir / "cgroup.subtree_control", "+memory")) {
                out.version = cgroup_version::v2;
                out.dir = dir;
                return out;
            }
            out.reason = "cannot enable the memory controller in '" +
                         (dir / "cgroup.subtree_control").string() + "': " + std::strerror(errno) +
                         " (a cgroup with processes cannot delegate controllers; run scar in its own "
                         "delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes)";
        }
    }
    if (have_v1 && !v1_mount.empty()) {
        const fs::path dir = join(v1_mount, v1_root, v1_path);
        if (::access(dir.c_str(), W_OK) == 0) {
            out.version = cgroup_version::v1;
            out.dir = dir;
            return out;
        }
        out.reason = "cannot write to the memory cgroup '" + dir.string() + "': " + std::strerror(errno);
    }
    if (out.reason.empty())
        out.reason = "no cgroup v2 with the memory controller and no v1 memory controller";
    return out;
}

/// Removes scar-<pid>-<n> groups left by processes that are gone.
void remove_stale(const location& loc) {
    DIR* d = ::opendir(loc.dir.c_str());
    if (d == nullptr) return;
    std::vector<std::string> stale;
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name(e->d_name);
        if (name.substr(0, 5) != "scar-") continue;
        const auto dash = name.find('-', 5);
        if (dash == std::string_view::npos) continue;
        const pid_t owner =
            static_cast<pid_t>(std::strtol(std::string(name.substr(5, dash - 5)).c_str(), nullptr, 10));
        // Our own pid can only be on a group of an earlier process that had the same pid.
        if (owner == ::getpid() || (::kill(owner, 0) != 0 && errno == ESRCH)) stale.emplace_back(name);
    }
    ::closedir(d);
    for (const auto& name : stale) {
        if (!remove_group(loc.version, loc.dir / name))
            log::warn(
                "sandbox: cannot remove the stale cgroup '",
                (loc.dir / name).string(),
                "': ",
                std::strerror(errno)
            );
    }
}

const location& where() {
    static const location loc = [] {
        auto l = find_location();
        if (l.version == cgroup_version::none) {
            log::warn(
                "sandbox: no usable memory cgroup (",
                l.reason,
                "); containers run without a memory limit"
            );
        } else {
            remove_stale(l);
        }
        return l;
    }();
    return loc;
}

std::atomic<unsigned> counter{0};

}  // namespace

cgroup::~cgroup() {
    remove();
}

void cgroup::close_procs_fd() noexcept {
    if (procs_fd_ >= 0) ::close(procs_fd_);
    procs_fd_ = -1;
}

std::uint64_t cgroup::oom_kills() const noexcept {
    try {
        if (version_ == cgroup_version::v2) return keyed_value(read_text(dir_ / "memory.events"), "oom_kill");
        return keyed_value(read_text(dir_ / "memory.oom_control"), "oom_kill");
    } catch (...) {
        return 0;
    }
}

std::uint64_t cgroup::peak_bytes() const noexcept {
    try {
        const auto text =
            read_text(dir_ / (version_ == cgroup_version::v2 ? "memory.peak" : "memory.max_usage_in_bytes"));
        return text.empty() ? 0 : std::stoull(text);
    } catch (...) {
        return 0;
    }
}

void cgroup::kill_all() const noexcept {
    try {
        kill_group(version_, dir_);
    } catch (...) {
    }
}

void cgroup::remove() noexcept {
    close_procs_fd();
    if (removed_) return;
    removed_ = true;
    try {
        if (!remove_group(version_, dir_))
            log::warn(
                "sandbox: cannot remove the cgroup '",
                dir_.string(),
                "': ",
                std::strerror(errno),
                "; it is removed when the next scar process starts"
            );
    } catch (...) {
    }
}

void remove_stale_groups() {
    if (where().version != cgroup_version::none) remove_stale(where());
}

std::filesystem::path memory_cgroup_parent() {
    return where().dir;
}

cgroup_version memory_cgroup_version() {
    return where().version;
}

result<std::unique_ptr<cgroup>> make_memory_cgroup(std::uint64_t limit_bytes) {
    const location& loc = where();
    if (loc.version == cgroup_version::none) return std::unique_ptr<cgroup>{};
    const fs::path dir =
        loc.dir / ("scar-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1) + 1));
    if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno == EACCES || errno == EPERM || errno == EROFS) {
            // Not ours to use (e.g. after a setuid): the same as having no cgroup.
            static std::once_flag warned;
            const int err = errno;
            std::call_once(warned, [&] {
                log::warn(
                    "sandbox: cannot create the cgroup '",
                    dir.string(),
                    "': ",
                    std::strerror(err),
                    "; containers run without a memory limit"
                );
            });
            return std::unique_ptr<cgroup>{};
        }
        return make_error(
            "SandboxError",
            "cannot create the cgroup '" + dir.string() + "': " + std::strerror(errno) +
                "; check that the cgroup filesystem is writable or run without a memory limit"
        );
    }
    const std::string limit = std::to_string(limit_bytes);
    bool ok = false;
    if (loc.version == cgroup_version::v2) {
        ok = write_text(dir / "memory.max", limit);
        write_text(dir / "memory.swap.max", "0");  // absent without swap accounting
    } else {
        ok = write_text(dir / "memory.limit_in_bytes", limit);
        write_text(dir / "memory.memsw.limit_in_bytes", limit);  // absent without swap accounting
    }
    const int saved = errno;
    const int procs = ok ? ::open((dir / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC) : -1;
    if (procs < 0) {
        const int err = ok ? errno : saved;
        ::rmdir(dir.c_str());
        return make_error(
            "SandboxError",
            "cannot set up the memory limit in '" + dir.string() + "': " + std::strerror(err) +
                "; check that the cgroup is writable or run without a memory limit"
        );
    }
    return std::make_unique<cgroup>(loc.version, dir, procs);
}

}  // namespace scar::sandbox::detail
