#pragma once
// A test rootfs: busybox (static, from the host) with a few applet links, plus the static
// probe. Made in a temp dir per test and removed afterwards.

#include <scar/testing/process.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace scar::sandbox::testing {

/// Path of the probe binary, set by CMake.
inline std::filesystem::path probe_path() {
    return SCAR_PROBE_PATH;
}

/// True when /usr/bin/busybox (Debian busybox-static) is there.
inline bool have_busybox() {
    return std::filesystem::exists("/usr/bin/busybox");
}

class test_rootfs {
public:
    /// `with_mount_points`: also make /proc, /dev and /tmp (as real images have).
    explicit test_rootfs(bool with_mount_points = true) : dir_("scar-sandbox-rootfs") {
        namespace fs = std::filesystem;
        const auto root = path();
        fs::permissions(
            dir_.path(),
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                fs::perms::others_exec
        );
        fs::create_directories(root / "bin");
        fs::create_directories(root / "etc");
        fs::create_directories(root / "data");
        fs::copy_file(probe_path(), root / "bin" / "scar-probe");
        if (have_busybox()) {
            fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
            for (const char* applet : {"sh", "true", "false", "ls", "cat", "echo", "sleep", "id", "env"})
                fs::create_symlink("busybox", root / "bin" / applet);
        }
        if (with_mount_points) {
            for (const char* d : {"proc", "dev", "tmp"}) fs::create_directories(root / d);
        }
    }
    [[nodiscard]] std::filesystem::path path() const { return dir_.path() / "root"; }

    /// Every path under the root, for checking that nothing was written.
    [[nodiscard]] std::vector<std::string> listing() const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::recursive_directory_iterator(path()))
            out.push_back(e.path().string());
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    scar::testing::temp_dir dir_;
};

}  // namespace scar::sandbox::testing
