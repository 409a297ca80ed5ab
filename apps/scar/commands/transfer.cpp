// scar put / scar get: files and folders to and from buckets, folder structure kept.

#include <scar/s3/client.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "../commands.hpp"
#include "../support.hpp"
#include <unistd.h>

namespace scar::cli {
namespace {

namespace fs = std::filesystem;

struct transfer_flags {
    std::string bucket;  ///< bucket[/folder]
    std::string path;    ///< local file or folder
    target_flags where;
};

/// A progress line on a terminal for transfers above 8 MiB; nothing otherwise.
s3::progress_callback progress_for(const std::string& what) {
    if (::isatty(2) == 0) return {};
    return [what, last = -1](std::uint64_t done, std::uint64_t total) mutable {
        if (total < (8ULL << 20U)) return true;
        const int pct = static_cast<int>(done * 100 / total);
        if (pct != last) {
            last = pct;
            std::cerr << "\r  " << what << " " << pct << "%" << (done == total ? "\n" : "") << std::flush;
        }
        return true;
    };
}

std::string join_key(const std::string& folder, const std::string& rel) {
    return folder.empty() ? rel : folder + "/" + rel;
}

int run_put(const transfer_flags& f) {
    auto [bucket, folder] = split_bucket_path(f.bucket);
    const fs::path src(f.path);
    std::error_code ec;
    if (!fs::exists(src, ec))
        fail(make_error(
            "InvalidArgument",
            "'" + f.path + "' does not exist; give a file or a folder to upload"
        ));
    auto s3 = s3_client(resolve(f.where));
    std::vector<std::pair<fs::path, std::string>> files;  // local file, key
    if (fs::is_directory(src)) {
        for (const auto& e : fs::recursive_directory_iterator(src))
            if (e.is_regular_file())
                files.emplace_back(e.path(), join_key(folder, fs::relative(e.path(), src).generic_string()));
    } else {
        files.emplace_back(src, join_key(folder, src.filename().string()));
    }
    for (const auto& [file, key] : files) {
        s3::put_options po;
        po.on_progress = progress_for(key);
        need(s3.upload_file(bucket, key, file, po));
        std::cout << "uploaded " << file.string() << " to s3://" << bucket << "/" << key << "\n";
    }
    return 0;
}

int run_get(const transfer_flags& f) {
    auto [bucket, folder] = split_bucket_path(f.bucket);
    auto s3 = s3_client(resolve(f.where));
    const fs::path dest = f.path.empty() ? fs::path(".") : fs::path(f.path);
    // One object when the path names one; otherwise everything under the folder.
    if (!folder.empty()) {
        if (auto one = s3.head_object(bucket, folder); one) {
            const fs::path out = fs::is_directory(dest) ? dest / fs::path(folder).filename() : dest;
            s3::get_options go;
            go.on_progress = progress_for(folder);
            need(s3.get_object_to_file(bucket, folder, out, go));
            std::cout << "downloaded s3://" << bucket << "/" << folder << " to " << out.string() << "\n";
            return 0;
        }
    }
    const auto prefix = folder.empty() ? std::string() : folder + "/";
    const auto all = need(s3.list_all(bucket, prefix));
    int n = 0;
    for (const auto& o : all.objects) {
        if (o.key.ends_with('/')) continue;
        const fs::path rel = fs::path(o.key.substr(prefix.size())).lexically_normal();
        if (rel.empty() || rel.is_absolute() || *rel.begin() == "..") {
            std::cerr << "scar: skipping s3://" << bucket << "/" << o.key << ": its name would leave "
                      << dest.string() << "\n";
            continue;
        }
        const fs::path out = dest / rel;
        fs::create_directories(out.parent_path());
        s3::get_options go;
        go.on_progress = progress_for(o.key);
        need(s3.get_object_to_file(bucket, o.key, out, go));
        std::cout << "downloaded s3://" << bucket << "/" << o.key << " to " << out.string() << "\n";
        ++n;
    }
    if (n == 0) std::cerr << "scar: nothing under s3://" << bucket << "/" << prefix << "\n";
    return 0;
}

}  // namespace

void add_put_get(CLI::App& app) {
    auto f = std::make_shared<transfer_flags>();
    auto* put = app.add_subcommand("put", "upload a file or a folder (structure kept) to bucket[/folder]");
    put->add_option("-b,--bucket", f->bucket, "destination bucket[/folder]")->required();
    put->add_option("-p,--path", f->path, "local file or folder")->required();
    add_target_flags(put, f->where);
    put->final_callback([f] { std::exit(run_put(*f)); });
    auto* get = app.add_subcommand("get", "download an object, or every object under bucket/folder");
    get->add_option("-b,--bucket", f->bucket, "bucket/key or bucket[/folder]")->required();
    get->add_option("-p,--path", f->path, "local destination (default: the current folder)");
    add_target_flags(get, f->where);
    get->final_callback([f] { std::exit(run_get(*f)); });
}

}  // namespace scar::cli
