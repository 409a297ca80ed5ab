#include "scar/image/store.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

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
