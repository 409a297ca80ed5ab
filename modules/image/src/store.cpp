#include "scar/image/store.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/image/manifest.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <variant>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

namespace scar::image {
namespace fs = std::filesystem;
namespace {

error io(const std::string& what, const std::error_code& ec) {
    return make_error(
        "LocalIOError",
        what + ": " + ec.message() + "; check free space and permissions of the image store"
    );
}

/// "sha256:abc" -> "sha256/abc"; anything odd (a digest that was never validated) is
/// refused rather than turned into a path.
std::string digest_rel(std::string_view d) {
    auto parsed = parse_digest(d);
    if (!parsed) return "invalid/invalid";
    return parsed->algorithm + "/" + parsed->hex;
}

std::string random_suffix() {
    return encoding::to_hex(crypto::bytes(crypto::random_bytes(8)));
}

}  // namespace

fs::path default_store_root() {
    if (const char* h = std::getenv("SCAR_HOME"); h != nullptr && *h != '\0') return fs::path(h) / "images";
    const char* home = std::getenv("HOME");
    return fs::path(home != nullptr ? home : "/") / ".scar" / "images";
}

store::store(fs::path root) : root_(std::move(root)) {}

fs::path store::blob_path(std::string_view digest) const {
    return root_ / "blobs" / digest_rel(digest);
}

bool store::has_blob(std::string_view digest, std::optional<std::uint64_t> size) const {
    std::error_code ec;
    const auto s = fs::file_size(blob_path(digest), ec);
    return !ec && (!size || s == *size);
}

result<std::string> store::read_blob(std::string_view digest) const {
    const auto p = blob_path(digest);
    std::ifstream in(p, std::ios::binary);
    if (!in)
        return make_error(
            "BlobUnknown",
            "the blob " + std::string(digest) + " is not in the image store '" + root_.string() +
                "'; pull the image again"
        );
    std::ostringstream s;
    s << in.rdbuf();
    std::string data = std::move(s).str();
    if (sha256_digest_of(data).str() != digest) {
        return make_error(
            "BlobDigestMismatch",
            "the stored blob '" + p.string() + "' does not match its digest; delete it and pull again"
        );
    }
    return data;
}

result<fs::path> store::temp_path(std::string_view hint) const {
    std::error_code ec;
    fs::create_directories(root_ / "tmp", ec);
    if (ec) return io("cannot create '" + (root_ / "tmp").string() + "'", ec);
    std::string h(hint.substr(0, 40));
    for (auto& c : h)
        if (c == '/' || c == ':') c = '-';
    return root_ / "tmp" / (h + "." + random_suffix());
}

result<std::string> store::write_blob(std::string_view data) const {
    const std::string d = sha256_digest_of(data).str();
    if (has_blob(d, data.size())) return d;
    auto tmp = temp_path(d);
    if (!tmp) return tmp.error();
    {
        std::ofstream out(*tmp, std::ios::binary);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!out.flush())
            return io("cannot write '" + tmp->string() + "'", std::make_error_code(std::errc::io_error));
    }
    if (auto r = commit_blob(*tmp, d); !r) return r.error();
    return d;
}

result<void> store::commit_blob(const fs::path& temp, std::string_view digest) const {
    const auto dest = blob_path(digest);
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return io("cannot create '" + dest.parent_path().string() + "'", ec);
    fs::rename(temp, dest, ec);
    if (ec) {
        fs::remove(temp, ec);
        return io("cannot move a blob into '" + dest.string() + "'", ec);
    }
    return {};
}

fs::path store::rootfs_path(std::string_view manifest_digest) const {
    return root_ / "rootfs" / digest_rel(manifest_digest);
}

result<fs::path> store::commit_rootfs(const fs::path& temp, std::string_view manifest_digest) const {
    const auto dest = rootfs_path(manifest_digest);
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return io("cannot create '" + dest.parent_path().string() + "'", ec);
    // rename(2) of a directory onto an existing non-empty one fails: the first one wins.
    if (::rename(temp.c_str(), dest.c_str()) != 0) {
        const int err = errno;
        if (err == ENOTEMPTY || err == EEXIST) {
            fs::remove_all(temp, ec);
            return dest;
        }
        fs::remove_all(temp, ec);
        return io(
            "cannot move the rootfs into '" + dest.string() + "'",
            std::error_code(err, std::generic_category())
        );
    }
    return dest;
}

result<void> store::set_ref(const reference& ref, std::string_view manifest_digest) const {
    if (ref.tag.empty()) return {};
    const auto p = root_ / "refs" / ref.registry / ref.repository / ref.tag;
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return io("cannot create '" + p.parent_path().string() + "'", ec);
    auto tmp = temp_path("ref");
    if (!tmp) return tmp.error();
    {
        std::ofstream out(*tmp, std::ios::binary);
        out << manifest_digest << '\n';
        if (!out.flush())
            return io("cannot write '" + tmp->string() + "'", std::make_error_code(std::errc::io_error));
    }
    fs::rename(*tmp, p, ec);
    if (ec) return io("cannot write '" + p.string() + "'", ec);
    return {};
}

std::optional<std::string> store::get_ref(const reference& ref) const {
    std::ifstream in(root_ / "refs" / ref.registry / ref.repository / ref.tag);
    std::string d;
    if (!(in >> d) || !parse_digest(d)) return std::nullopt;
    return d;
}

std::vector<std::pair<reference, std::string>> store::list_refs() const {
    std::vector<std::pair<reference, std::string>> out;
    std::error_code ec;
    const auto base = root_ / "refs";
    for (auto it = fs::recursive_directory_iterator(base, ec);
         !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const auto rel = it->path().lexically_relative(base).string();
        const auto first = rel.find('/');
        const auto last = rel.rfind('/');
        if (first == std::string::npos || last == first) continue;
        auto ref = parse_reference(rel.substr(0, last) + ":" + rel.substr(last + 1));
        std::ifstream in(it->path());
        std::string d;
        if (ref && (in >> d)) out.emplace_back(std::move(*ref), d);
    }
    return out;
}

result<void> store::remove_ref(const reference& ref) const {
    std::error_code ec;
    fs::remove(root_ / "refs" / ref.registry / ref.repository / ref.tag, ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
        return io("cannot remove the tag of " + ref.str(), ec);
    return {};
}

result<store::prune_stats> store::prune() const {
    std::set<std::string> keep_blobs;
    std::set<std::string> keep_rootfs;
    for (const auto& [ref, digest] : list_refs()) {
        keep_blobs.insert(digest);
        keep_rootfs.insert(rootfs_path(digest).filename().string());
        auto body = read_blob(digest);
        if (!body) continue;
        auto doc = parse_manifest_document(*body);
        if (!doc) continue;
        if (const auto* m = std::get_if<manifest>(&*doc)) {
            keep_blobs.insert(m->config.digest);
            for (const auto& l : m->layers) keep_blobs.insert(l.digest);
        } else if (const auto* idx = std::get_if<index>(&*doc)) {
            for (const auto& d : idx->manifests) {
                keep_blobs.insert(d.digest);
                keep_rootfs.insert(rootfs_path(d.digest).filename().string());
                if (auto sub = read_blob(d.digest)) {
                    if (auto sd = parse_manifest_document(*sub);
                        sd && std::holds_alternative<manifest>(*sd)) {
                        const auto& sm = std::get<manifest>(*sd);
                        keep_blobs.insert(sm.config.digest);
                        for (const auto& l : sm.layers) keep_blobs.insert(l.digest);
                    }
                }
            }
        }
    }
    prune_stats stats;
    std::error_code ec;
    const auto rootfs_dir =
        rootfs_path("sha256:0000000000000000000000000000000000000000000000000000000000000000").parent_path();
    for (const auto& e : fs::directory_iterator(rootfs_dir, ec)) {
        if (keep_rootfs.contains(e.path().filename().string())) continue;
        std::error_code rm;
        fs::remove_all(e.path(), rm);
        if (!rm) ++stats.rootfs;
    }
    const auto blob_dir =
        blob_path("sha256:0000000000000000000000000000000000000000000000000000000000000000").parent_path();
    for (const auto& e : fs::directory_iterator(blob_dir, ec)) {
        const std::string digest = "sha256:" + e.path().filename().string();
        if (keep_blobs.contains(digest)) continue;
        std::error_code rm;
        const auto size = fs::file_size(e.path(), rm);
        if (fs::remove(e.path(), rm) && !rm) {
            ++stats.blobs;
            stats.bytes += size;
        }
    }
    for (const auto& e : fs::directory_iterator(root_ / "tmp", ec)) {
        std::error_code rm;
        fs::remove_all(e.path(), rm);
    }
    return stats;
}

result<void> store::remove_rootfs(std::string_view manifest_digest) const {
    const auto p = rootfs_path(manifest_digest);
    // Renamed away first so that nobody sees a half-removed rootfs.
    auto tmp = temp_path("rm");
    if (!tmp) return tmp.error();
    std::error_code ec;
    fs::rename(p, *tmp, ec);
    if (ec)
        return ec == std::errc::no_such_file_or_directory
                   ? result<void>{}
                   : result<void>{io("cannot remove '" + p.string() + "'", ec)};
    fs::remove_all(*tmp, ec);
    if (ec) return io("cannot remove '" + tmp->string() + "'", ec);
    return {};
}

}  // namespace scar::image
