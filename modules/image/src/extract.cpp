#include "scar/image/extract.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "safe_open.hpp"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace scar::image {
namespace {

using detail::resolve_mode;
using detail::unique_fd;

struct archive_deleter {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};

struct dir_fixup {
    std::string path;
    mode_t mode = 0755;
    uid_t uid = 0;
    gid_t gid = 0;
    timespec mtime{};
};

/// Splits an entry name into clean components; an empty result is the root itself.
/// Returns false (with `why`) for absolute names and `..`.
bool clean_components(std::string_view name, std::vector<std::string_view>& out, std::string& why) {
    out.clear();
    if (name.starts_with('/')) {
        why = "it is an absolute path";
        return false;
    }
    std::size_t start = 0;
    while (start <= name.size()) {
        const auto slash = name.find('/', start);
        const auto c = name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
        if (c == "..") {
            why = "it has a '..' component";
            return false;
        }
        if (c.size() > 255) {
            why = "a component is longer than 255 bytes";
            return false;
        }
        if (!c.empty() && c != ".") out.push_back(c);
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return true;
}

std::string join(const std::vector<std::string_view>& parts, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        if (i != 0) out += '/';
        out += parts[i];
    }
    return out;
}

class extractor {
public:
    extractor(
        const std::filesystem::path& layer,
        const std::filesystem::path& rootfs,
        const extract_options& o
    )
        : layer_(layer),
          rootfs_(rootfs),
          how_(o.symlinks == symlink_policy::reject ? resolve_mode::beneath : resolve_mode::in_root),
          allow_openat2_(o.allow_openat2),
          root_user_(::geteuid() == 0),
          chown_(o.preserve_ownership.value_or(root_user_)),
          devices_(o.create_devices.value_or(root_user_)) {}

    result<extract_stats> run() {
        root_.reset(::open(rootfs_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root_) return io_error("cannot open the rootfs directory '" + rootfs_.string() + "'");
        std::unique_ptr<archive, archive_deleter> a(archive_read_new());
        if (!a) throw std::bad_alloc();
        archive_read_support_filter_gzip(a.get());
        archive_read_support_filter_zstd(a.get());
        archive_read_support_filter_none(a.get());
        archive_read_support_format_tar(a.get());
        archive_read_support_format_empty(a.get());
        if (archive_read_open_filename(a.get(), layer_.c_str(), 1 << 20) != ARCHIVE_OK)
            return invalid(a.get(), "cannot open the layer");
        for (;;) {
            archive_entry* e = nullptr;
            const int rc = archive_read_next_header(a.get(), &e);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN) return invalid(a.get(), "cannot read the next tar header");
            ++stats_.entries;
            if (auto r = entry(a.get(), e); !r) return r.error();
        }
        if (auto r = fix_directories(); !r) return r.error();
        return stats_;
    }

private:
    error escape(std::string_view name, std::string_view why) const {
        return make_error(
            "LayerEscape",
            "layer '" + layer_.filename().string() + "': entry '" + std::string(name) +
                "' is refused: " + std::string(why) +
                "; the layer tries to write outside the image root, so the image is unsafe and was not "
                "extracted"
        );
    }
    error invalid(archive* a, std::string_view what) const {
        const char* msg = archive_error_string(a);
        return make_error(
            "LayerInvalid",
            "layer '" + layer_.string() + "': " + std::string(what) + ": " +
                (msg != nullptr ? msg : "unknown error") +
                "; the blob is corrupt or truncated: remove it from the cache and pull again"
        );
    }
    error entry_invalid(std::string_view name, std::string_view why) const {
        return make_error(
            "LayerInvalid",
            "layer '" + layer_.filename().string() + "': entry '" + std::string(name) +
                "': " + std::string(why)
        );
    }
    static error io_error(const std::string& what, int err = errno) {
        return make_error(
            "LocalIOError",
            what + ": " + std::strerror(err) + "; check free space and permissions"
        );
    }
    error resolve_error(std::string_view name, std::string_view dir, int err) const {
        if (err == EXDEV || err == ELOOP)
            return escape(
                name,
                "its directory '" + std::string(dir) + "' leads outside the rootfs through a symbolic link"
            );
        if (err == ENOTDIR) return entry_invalid(name, "'" + std::string(dir) + "' is not a directory");
        return io_error(
            "layer '" + layer_.filename().string() + "': cannot open directory '" + std::string(dir) +
                "' for entry '" + std::string(name) + "'",
            err
        );
    }

    int door(std::string_view path, int flags, mode_t mode = 0) const {
        return detail::safe_openat(root_.get(), path, flags, mode, how_, allow_openat2_);
    }

    /// The directory `dir` (relative), created with its missing parents when `create`.
    /// Returns an fd or -errno.
    int open_dir(const std::string& dir, bool create) {
        if (dir == cached_dir_ && cached_fd_) return cached_fd_.get();
        int fd = door(dir, O_PATH | O_DIRECTORY);
        if (fd == -ENOENT && create) {
            const auto slash = dir.rfind('/');
            const std::string parent = slash == std::string::npos ? std::string() : dir.substr(0, slash);
            const std::string leaf = slash == std::string::npos ? dir : dir.substr(slash + 1);
            const int pfd = open_dir(parent, true);
            if (pfd < 0) return pfd;
            if (::mkdirat(pfd, leaf.c_str(), 0755) != 0 && errno != EEXIST) return -errno;
            this_layer_.insert(dir);
            fd = door(dir, O_PATH | O_DIRECTORY);
        }
        if (fd < 0) return fd;
        cached_dir_ = dir;
        cached_fd_.reset(fd);
        return fd;
    }
    void forget_cache() {
        cached_dir_.clear();
        cached_fd_.reset();
    }

    /// Removes `dir_fd/name` (recursively), sparing what this layer created below `path`.
    /// Returns 0 or -errno; ENOENT is success.
    int remove_tree(int dir_fd, const char* name, const std::string& path, bool spare_this_layer) {
        struct stat st {};
        if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : -errno;
        if (spare_this_layer && this_layer_.contains(path) && !S_ISDIR(st.st_mode)) return 0;
        if (S_ISDIR(st.st_mode)) {
            const int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) return -errno;
            if (int r = clear_dir(fd, path, spare_this_layer); r != 0) return r;
            if (spare_this_layer && this_layer_.contains(path)) return 0;
            if (::unlinkat(dir_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) return -errno;
            return 0;
        }
        if (::unlinkat(dir_fd, name, 0) != 0 && errno != ENOENT) return -errno;
        return 0;
    }
    /// Empties the directory `fd` (which it takes ownership of).
    int clear_dir(int fd, const std::string& path, bool spare_this_layer) {
        DIR* d = ::fdopendir(fd);
        if (d == nullptr) {
            const int err = errno;
            ::close(fd);
            return -err;
        }
        std::vector<std::string> names;
        while (const dirent* ent = ::readdir(d)) {
            const std::string_view n = ent->d_name;
            if (n != "." && n != "..") names.emplace_back(n);
        }
        int result = 0;
        for (const auto& n : names) {
            const std::string child = path.empty() ? n : path + "/" + n;
            if (int r = remove_tree(::dirfd(d), n.c_str(), child, spare_this_layer); r != 0) {
                result = r;
                break;
            }
        }
        ::closedir(d);
        return result;
    }

    result<void> whiteout(std::string_view name, const std::vector<std::string_view>& parts) {
        ++stats_.whiteouts;
        const std::string dir = join(parts, parts.size() - 1);
        const std::string_view base = parts.back();
        forget_cache();
        const int pfd = door(dir, O_PATH | O_DIRECTORY);
        if (pfd == -ENOENT) return {};  // nothing below to hide
        if (pfd < 0) return resolve_error(name, dir, -pfd);
        unique_fd parent(pfd);
        if (base == ".wh..wh..opq") {
            const int fd = ::openat(parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0)
                return io_error(
                    "cannot open '" + dir + "' for the opaque whiteout '" + std::string(name) + "'"
                );
            if (int r = clear_dir(fd, dir, true); r != 0)
                return io_error("cannot apply the opaque whiteout '" + std::string(name) + "'", -r);
            return {};
        }
        const std::string target(base.substr(4));
        if (target.empty() || target == "." || target == "..")
            return escape(name, "the whiteout names no file below its directory");
        const std::string path = dir.empty() ? target : dir + "/" + target;
        if (int r = remove_tree(parent.get(), target.c_str(), path, true); r != 0)
            return io_error("cannot apply the whiteout '" + std::string(name) + "'", -r);
        return {};
    }

    result<void> entry(archive* a, archive_entry* e) {
        const char* raw = archive_entry_pathname(e);
        if (raw == nullptr) raw = archive_entry_pathname_utf8(e);
        if (raw == nullptr) return entry_invalid("?", "the entry has no name");
        const std::string_view name = raw;
        if (name.size() > 4096)
            return entry_invalid(name.substr(0, 64), "the name is longer than 4096 bytes");
        std::string why;
        if (!clean_components(name, parts_, why)) return escape(name, why);
        if (parts_.empty()) return {};  // "./": the root itself keeps its mode
        const std::string_view base = parts_.back();
        if (base.starts_with(".wh.")) return whiteout(name, parts_);

        const std::string path = join(parts_, parts_.size());
        const std::string dir = join(parts_, parts_.size() - 1);
        const std::string leaf(base);
        const int pfd = open_dir(dir, true);
        if (pfd < 0) return resolve_error(name, dir, -pfd);

        const mode_t type = archive_entry_filetype(e);
        const char* hardlink = archive_entry_hardlink(e);
        const bool is_dir = hardlink == nullptr && type == AE_IFDIR;

        struct stat existing {};
        if (::fstatat(pfd, leaf.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
            // Whatever is there goes, unless a directory meets a directory. The cached fd
            // is `dir` itself, never inside what is removed.
            if (!(is_dir && S_ISDIR(existing.st_mode))) {
                if (int r = remove_tree(pfd, leaf.c_str(), path, false); r != 0)
                    return io_error("cannot replace '" + path + "'", -r);
            }
        } else if (errno != ENOENT) {
            return io_error("cannot inspect '" + path + "'");
        }
        return create(a, e, name, path, leaf, pfd, type, hardlink);
    }

    result<void> create(
        archive* a,
        archive_entry* e,
        std::string_view name,
        const std::string& path,
        const std::string& leaf,
        int pfd,
        mode_t type,
        const char* hardlink
    ) {
        this_layer_.insert(path);
        const auto uid = static_cast<uid_t>(archive_entry_uid(e));
        const auto gid = static_cast<gid_t>(archive_entry_gid(e));
        const mode_t perm = archive_entry_perm(e);
        timespec times[2] = {};
        times[0].tv_nsec = UTIME_OMIT;
        times[1].tv_sec = archive_entry_mtime(e);
        times[1].tv_nsec = archive_entry_mtime_nsec(e);

        if (hardlink != nullptr) {
            std::vector<std::string_view> target_parts;
            std::string why;
            if (!clean_components(hardlink, target_parts, why) || target_parts.empty())
                return escape(
                    name,
                    "its hardlink target '" + std::string(hardlink) + "' " +
                        (why.empty() ? "is the root" : why)
                );
            const std::string tdir = join(target_parts, target_parts.size() - 1);
            const std::string tleaf(target_parts.back());
            const int tfd = door(tdir, O_PATH | O_DIRECTORY);
            if (tfd < 0) {
                if (tfd == -ENOENT)
                    return entry_invalid(
                        name,
                        "its hardlink target '" + std::string(hardlink) + "' does not exist in the image"
                    );
                return resolve_error(name, tdir, -tfd);
            }
            unique_fd target_dir(tfd);
            if (::linkat(target_dir.get(), tleaf.c_str(), pfd, leaf.c_str(), 0) != 0) {
                if (errno == ENOENT)
                    return entry_invalid(
                        name,
                        "its hardlink target '" + std::string(hardlink) + "' does not exist in the image"
                    );
                if (errno == EPERM)
                    return entry_invalid(
                        name,
                        "its hardlink target '" + std::string(hardlink) + "' is a directory"
                    );
                return io_error("cannot link '" + path + "' to '" + hardlink + "'");
            }
            ++stats_.hardlinks;
            return {};
        }

        switch (type) {
            case AE_IFDIR: {
                if (::mkdirat(pfd, leaf.c_str(), 0700) != 0 && errno != EEXIST)
                    return io_error("cannot create directory '" + path + "'");
                dirs_.push_back({path, perm, uid, gid, times[1]});
                ++stats_.directories;
                return {};
            }
            case AE_IFREG: {
                const int fd =
                    ::openat(pfd, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0) return io_error("cannot create '" + path + "'");
                unique_fd file(fd);
                const void* buf = nullptr;
                std::size_t size = 0;
                la_int64_t offset = 0;
                for (;;) {
                    const int rc = archive_read_data_block(a, &buf, &size, &offset);
                    if (rc == ARCHIVE_EOF) break;
                    if (rc < ARCHIVE_WARN)
                        return invalid(a, "cannot read the content of '" + std::string(name) + "'");
                    const char* p = static_cast<const char*>(buf);
                    while (size > 0) {
                        const auto n = ::pwrite(fd, p, size, offset);
                        if (n < 0) {
                            if (errno == EINTR) continue;
                            return io_error("cannot write '" + path + "'");
                        }
                        p += n;
                        size -= static_cast<std::size_t>(n);
                        offset += n;
                        stats_.bytes += static_cast<std::uint64_t>(n);
                    }
                }
                if (::ftruncate(fd, archive_entry_size(e)) != 0)
                    return io_error("cannot size '" + path + "'");
                if (chown_ && ::fchown(fd, uid, gid) != 0) return io_error("cannot chown '" + path + "'");
                // After chown, which clears set-uid/set-gid bits.
                if (::fchmod(fd, perm) != 0) return io_error("cannot chmod '" + path + "'");
                if (::futimens(fd, times) != 0) return io_error("cannot set the times of '" + path + "'");
                ++stats_.files;
                return {};
            }
            case AE_IFLNK: {
                const char* target = archive_entry_symlink(e);
                if (target == nullptr) target = archive_entry_symlink_utf8(e);
                if (target == nullptr) return entry_invalid(name, "the symbolic link has no target");
                if (::symlinkat(target, pfd, leaf.c_str()) != 0)
                    return io_error("cannot create symlink '" + path + "'");
                if (chown_ && ::fchownat(pfd, leaf.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
                    return io_error("cannot chown '" + path + "'");
                if (::utimensat(pfd, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
                    return io_error("cannot set the times of '" + path + "'");
                ++stats_.symlinks;
                return {};
            }
            case AE_IFCHR:
            case AE_IFBLK: {
                if (!devices_) {
                    ++stats_.skipped_devices;
                    this_layer_.erase(path);
                    return {};
                }
                const dev_t dev = makedev(
                    static_cast<unsigned>(archive_entry_rdevmajor(e)),
                    static_cast<unsigned>(archive_entry_rdevminor(e))
                );
                if (::mknodat(pfd, leaf.c_str(), (type == AE_IFCHR ? S_IFCHR : S_IFBLK) | perm, dev) != 0)
                    return io_error("cannot create device '" + path + "'");
                break;
            }
            case AE_IFIFO:
                if (::mknodat(pfd, leaf.c_str(), S_IFIFO | perm, 0) != 0)
                    return io_error("cannot create fifo '" + path + "'");
                break;
            default:  // sockets and unknown types mean nothing in an image
                this_layer_.erase(path);
                return {};
        }
        if (chown_ && ::fchownat(pfd, leaf.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
            return io_error("cannot chown '" + path + "'");
        if (::utimensat(pfd, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            return io_error("cannot set the times of '" + path + "'");
        return {};
    }

    /// Directory modes and mtimes last: creating children changes both, and a read-only
    /// directory would refuse its children.
    result<void> fix_directories() {
        forget_cache();
        std::stable_sort(dirs_.begin(), dirs_.end(), [](const dir_fixup& x, const dir_fixup& y) {
            return std::count(x.path.begin(), x.path.end(), '/') >
                   std::count(y.path.begin(), y.path.end(), '/');
        });
        for (const auto& d : dirs_) {
            const int fd = door(d.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP) continue;  // replaced later in the layer
            if (fd < 0) return resolve_error(d.path, d.path, -fd);
            unique_fd dir(fd);
            if (chown_ && ::fchown(fd, d.uid, d.gid) != 0) return io_error("cannot chown '" + d.path + "'");
            const mode_t mode = root_user_ ? d.mode : (d.mode | S_IRWXU);
            if (::fchmod(fd, mode) != 0) return io_error("cannot chmod '" + d.path + "'");
            const timespec times[2] = {{0, UTIME_OMIT}, d.mtime};
            if (::futimens(fd, times) != 0) return io_error("cannot set the times of '" + d.path + "'");
        }
        return {};
    }

    std::filesystem::path layer_;
    std::filesystem::path rootfs_;
    resolve_mode how_;
    bool allow_openat2_;
    bool root_user_;
    bool chown_;
    bool devices_;
    unique_fd root_;
    std::string cached_dir_;
    unique_fd cached_fd_;
    std::vector<std::string_view> parts_;
    std::unordered_set<std::string> this_layer_;
    std::vector<dir_fixup> dirs_;
    extract_stats stats_;
};

}  // namespace

result<extract_stats> extract_layer(
    const std::filesystem::path& layer,
    const std::filesystem::path& rootfs,
    const extract_options& opts
) {
    extractor x(layer, rootfs, opts);
    return x.run();
}

}  // namespace scar::image
