#include "scar/supervisor/output.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

namespace scar::supervisor {
namespace {

namespace fs = std::filesystem;

error io_error(const fs::path& p, const std::error_code& ec, std::string_view what) {
    return make_error(
        "LocalIOError",
        std::string(what) + " '" + p.string() + "': " + ec.message() +
            "; the script may have changed the output directory's permissions"
    );
}

}  // namespace

result<std::vector<output_file>> list_output_files(const fs::path& dir) {
    std::vector<output_file> files;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return files;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) return io_error(dir, ec, "cannot list");
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) return io_error(dir, ec, "cannot list");
        const auto& entry = *it;
        const fs::file_status st = entry.status(ec);  // follows links
        if (ec) {
            ec.clear();
            continue;  // a dangling link: nothing to upload
        }
        if (!fs::is_regular_file(st)) continue;
        output_file f;
        f.path = entry.path();
        f.name = entry.path().lexically_relative(dir).generic_string();
        f.size = fs::file_size(entry.path(), ec);
        if (ec) return io_error(entry.path(), ec, "cannot read the size of");
        files.push_back(std::move(f));
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return files;
}

bool output_matches(const config::storage_path& out, std::string_view name) noexcept {
    const auto any = [](const std::vector<std::string>& list, auto&& test) {
        return list.empty() || std::any_of(list.begin(), list.end(), test);
    };
    return any(out.prefixes, [&](const std::string& p) { return name.starts_with(p); }) &&
           any(out.suffixes, [&](const std::string& s) { return name.ends_with(s); });
}

std::string output_key(const config::storage_path& out, std::string_view name) {
    std::string folder = out.folder;
    while (!folder.empty() && folder.back() == '/') folder.pop_back();
    while (!folder.empty() && folder.front() == '/') folder.erase(0, 1);
    return folder.empty() ? std::string(name) : folder + "/" + std::string(name);
}

std::vector<upload_task> plan_uploads(
    const std::vector<output_file>& files,
    const std::vector<config::storage_path>& outputs
) {
    std::vector<upload_task> tasks;
    for (const auto& f : files) {
        for (const auto& out : outputs) {
            if (!output_matches(out, f.name)) continue;
            tasks.push_back({&f, out.provider, out.bucket, output_key(out, f.name)});
        }
    }
    return tasks;
}

std::vector<upload_report> upload_all(
    const std::vector<upload_task>& tasks,
    const client_factory& make_client,
    std::size_t max_parallel
) {
    std::vector<upload_report> reports(tasks.size());
    std::atomic<std::size_t> next{0};
    const auto worker = [&] {
        std::map<std::string, result<s3::client>> clients;
        for (std::size_t i = next++; i < tasks.size(); i = next++) {
            const auto& t = tasks[i];
            auto& r = reports[i];
            r.file = t.file->name;
            r.provider = t.provider;
            r.bucket = t.bucket;
            r.key = t.key;
            auto found = clients.find(t.provider);
            if (found == clients.end()) found = clients.emplace(t.provider, make_client(t.provider)).first;
            const std::string what = "uploading '" + t.file->name + "' to s3://" + t.bucket + "/" + t.key;
            if (!found->second) {
                r.failure = found->second.error().wrap(what);
                continue;
            }
            auto put = found->second->upload_file(t.bucket, t.key, t.file->path);
            if (!put) r.failure = put.error().wrap(what);
        }
    };
    const std::size_t n = std::clamp<std::size_t>(max_parallel, 1, std::max<std::size_t>(tasks.size(), 1));
    if (n <= 1) {
        worker();
        return reports;
    }
    std::vector<std::jthread> threads;
    threads.reserve(n);
    for (std::size_t i = 0; i < n; ++i) threads.emplace_back(worker);
    threads.clear();
    return reports;
}

}  // namespace scar::supervisor
