#pragma once
// Writes tar layers entry by entry for tests, including entries no honest tool would
// write (`../x`, absolute names, links out of the root): the malicious-layer suite is
// generated here rather than checked in, so each case reads next to its assertions.

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace scar::image::testing {

enum class layer_compression { none, gzip, zstd };

struct layer_entry {
    std::string name;
    char type = 'f';      // f file, d dir, l symlink, h hardlink, c char device, p fifo
    std::string content;  // file data, or link target
    unsigned mode = 0644;
    long uid = 0;
    long gid = 0;
    long mtime = 1'600'000'000;
};

inline layer_entry file(std::string name, std::string content, unsigned mode = 0644) {
    return {std::move(name), 'f', std::move(content), mode};
}
inline layer_entry dir(std::string name, unsigned mode = 0755) {
    return {std::move(name), 'd', {}, mode};
}
inline layer_entry symlink(std::string name, std::string target) {
    return {std::move(name), 'l', std::move(target), 0777};
}
inline layer_entry hardlink(std::string name, std::string target) {
    return {std::move(name), 'h', std::move(target), 0644};
}

inline void write_layer(
    const std::filesystem::path& out,
    const std::vector<layer_entry>& entries,
    layer_compression c = layer_compression::gzip
) {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (c == layer_compression::gzip) archive_write_add_filter_gzip(a);
    if (c == layer_compression::zstd) archive_write_add_filter_zstd(a);
    if (archive_write_open_filename(a, out.c_str()) != ARCHIVE_OK) {
        const std::string msg = archive_error_string(a);
        archive_write_free(a);
        throw std::runtime_error("cannot write " + out.string() + ": " + msg);
    }
    for (const auto& e : entries) {
        archive_entry* en = archive_entry_new();
        archive_entry_set_pathname(en, e.name.c_str());
        archive_entry_set_uid(en, e.uid);
        archive_entry_set_gid(en, e.gid);
        archive_entry_set_mtime(en, e.mtime, 0);
        archive_entry_set_perm(en, e.mode);
        switch (e.type) {
            case 'd':
                archive_entry_set_filetype(en, AE_IFDIR);
                break;
            case 'l':
                archive_entry_set_filetype(en, AE_IFLNK);
                archive_entry_set_symlink(en, e.content.c_str());
                break;
            case 'h':
                archive_entry_set_filetype(en, AE_IFREG);
                archive_entry_set_hardlink(en, e.content.c_str());
                break;
            case 'c':
                archive_entry_set_filetype(en, AE_IFCHR);
                archive_entry_set_rdev(en, makedev(1, 3));
                break;
            case 'p':
                archive_entry_set_filetype(en, AE_IFIFO);
                break;
            default:
                archive_entry_set_filetype(en, AE_IFREG);
                archive_entry_set_size(en, static_cast<la_int64_t>(e.content.size()));
        }
        archive_write_header(a, en);
        if (e.type == 'f' && !e.content.empty()) archive_write_data(a, e.content.data(), e.content.size());
        archive_entry_free(en);
    }
    archive_write_close(a);
    archive_write_free(a);
}

}  // namespace scar::image::testing
