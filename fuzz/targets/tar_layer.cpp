// Image layers through the safe extractor: any bytes (tar, gzip or zstd) are extracted
// into a fresh rootfs inside a scratch directory that also holds a sentinel file. Whatever
// the layer says, the sentinel is untouched and nothing appears next to the rootfs.

#include <scar/image/extract.hpp>

#include <filesystem>
#include <fstream>

#include "fuzz.hpp"
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

/// Removes a tree whose directories a layer may have made unreadable (mode 000): each is
/// given back to its owner before it is entered.
void remove_tree(const fs::path& p) {
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(p, ec))) {
        fs::permissions(p, fs::perms::owner_all, fs::perm_options::add, ec);
        for (const auto& e : fs::directory_iterator(p, ec)) remove_tree(e.path());
    }
    fs::remove(p, ec);
}

struct scratch {
    fs::path dir;
    scratch() {
        dir = fs::temp_directory_path() / ("scar-fuzz-layer-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        std::ofstream(dir / "sentinel") << "untouched";
    }
    ~scratch() { remove_tree(dir); }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
};

}  // namespace

SCAR_FUZZ_TARGET(data) {
    static const scratch s;
    const fs::path layer = s.dir / "layer";
    const fs::path rootfs = s.dir / "rootfs";
    {
        std::ofstream out(layer, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    fs::create_directory(rootfs);
    scar::image::extract_options o;
    o.create_devices = false;
    (void)scar::image::extract_layer(layer, rootfs, o);
    o.symlinks = scar::image::symlink_policy::contain;
    o.allow_openat2 = false;  // the portable walk must be as safe as openat2
    (void)scar::image::extract_layer(layer, rootfs, o);

    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(s.dir)) {
        ++entries;
        const auto name = e.path().filename();
        scar_fuzz_check(name == "sentinel" || name == "layer" || name == "rootfs");
    }
    scar_fuzz_check(entries == 3);
    std::ifstream sentinel(s.dir / "sentinel");
    std::string text;
    std::getline(sentinel, text);
    scar_fuzz_check(text == "untouched");
    remove_tree(rootfs);
    scar_fuzz_check(!fs::exists(rootfs));
}
