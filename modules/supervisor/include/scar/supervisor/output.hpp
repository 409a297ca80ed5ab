#pragma once
/// @file
/// Outputs: every file the script left under `$TMP_OUTPUT_DIR` (subfolders kept) goes to
/// every configured output whose filters match it, in parallel, big files in parts.
///
/// A file's *name* is its path relative to the output directory with '/' separators
/// ("masks/a.png"). An output matches a name when it has no prefixes or the name starts
/// with one of them, and it has no suffixes or the name ends with one of them (SCAR's
/// rule). The object key is `<folder of the output path>/<name>`, or just the name when
/// the path is a bucket alone.
///
/// @code
/// auto files = scar::supervisor::list_output_files("/tmp/scar-1/output").value();
/// auto plan = scar::supervisor::plan_uploads(files, fn.outputs);
/// auto done = scar::supervisor::upload_all(plan, make_client, 4);
/// @endcode

#include <scar/config/function.hpp>
#include <scar/core/error.hpp>
#include <scar/s3/client.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scar::supervisor {

/// A file found under the output directory.
struct output_file {
    std::filesystem::path path;  ///< absolute
    std::string name;            ///< relative, '/'-separated
    std::uint64_t size = 0;
};

/// Every regular file under `dir`, recursively, sorted by name. Symbolic links to regular
/// files are followed (the script may link its input there); links to directories are not
/// (no loops). Errors: `LocalIOError` naming the directory or entry that cannot be read.
[[nodiscard]] result<std::vector<output_file>> list_output_files(const std::filesystem::path& dir);

/// Whether `out`'s prefix and suffix filters let `name` through.
[[nodiscard]] bool output_matches(const config::storage_path& out, std::string_view name) noexcept;

/// The key `name` gets under `out`: "folder/name", or "name" for a bucket alone.
[[nodiscard]] std::string output_key(const config::storage_path& out, std::string_view name);

/// One upload to do.
struct upload_task {
    const output_file* file = nullptr;
    std::string provider;  ///< "type.id" of the output
    std::string bucket;
    std::string key;
};

/// Every (file, output) pair that matches, files in name order, outputs in configured order.
[[nodiscard]] std::vector<upload_task> plan_uploads(
    const std::vector<output_file>& files,
    const std::vector<config::storage_path>& outputs
);

/// What became of one upload.
struct upload_report {
    std::string file;  ///< the file's name
    std::string provider;
    std::string bucket;
    std::string key;
    std::optional<error> failure;  ///< empty: uploaded
};

/// Makes an S3 client for a provider ("type.id"); called once per provider and worker.
using client_factory = std::function<result<s3::client>(const std::string& provider)>;

/// Runs every task, `max_parallel` at a time (one client per worker and provider), big
/// files as multipart uploads (`s3::client::upload_file`). Reports are in task order; a
/// failed upload does not stop the others.
[[nodiscard]] std::vector<upload_report> upload_all(
    const std::vector<upload_task>& tasks,
    const client_factory& make_client,
    std::size_t max_parallel = 4
);

}  // namespace scar::supervisor
