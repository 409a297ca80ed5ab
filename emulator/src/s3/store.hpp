#pragma once
// The emulator's durable object store.
//
// Layout under the root directory:
//   buckets/<bucket>/bucket.json                  name, creation time, region, notification XML
//   buckets/<bucket>/objects/<h2>/<sha256(key)>.json  one object's metadata (key inside)
//   data/<id[0:2]>/<id>                           object bodies, referenced by metadata
//   uploads/<upload id>/upload.json, part-<n>     multipart uploads in progress
//   tmp/                                          files being written
// Keys never become paths: a key's metadata file is named by the SHA-256 of its bytes.
// A write is committed by one rename of the metadata file, after the body it references
// was written (and fsynced) under a fresh name: a crash leaves the old object or the new
// one, never a mix. Bodies no metadata references are removed at the next start.

#include <scar/core/error.hpp>
#include <scar/core/http.hpp>
#include <scar/s3/xml.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../util.hpp"

namespace scar::emulator::s3 {

struct object_meta {
    std::string key;
    std::uint64_t size = 0;
    std::string etag;  ///< without quotes: md5 hex, or "hex-N" for multipart
    std::int64_t last_modified_ms = 0;
    std::string content_type = "binary/octet-stream";
    /// Stored representation headers (cache-control, content-disposition, content-encoding,
    /// content-language, expires, x-amz-checksum-*, x-amz-storage-class), original names.
    http::header_list headers;
    /// x-amz-meta-* names (lower-cased, without the prefix) and values.
    http::header_list user_meta;
    http::header_list tags;  ///< object tags (key, value)
    std::string data;        ///< body file name under data/
    std::uint32_t parts = 0;
    std::string sequencer;
};

struct bucket_info {
    std::string name;
    std::int64_t created_ms = 0;
    std::string region;
    std::string notification_xml;  ///< empty: none
};

/// A body being written; removed unless committed.
class staged_file {
public:
    staged_file() = default;
    staged_file(unique_fd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
    staged_file(staged_file&&) noexcept = default;
    staged_file& operator=(staged_file&&) noexcept = default;
    ~staged_file();
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    /// Writes all of `data` at the current position.
    [[nodiscard]] result<void> write(std::string_view data);
    void release() noexcept { path_.clear(); }

private:
    unique_fd fd_;
    std::filesystem::path path_;
};

struct list_page {
    std::vector<object_meta> objects;
    std::vector<std::string> common_prefixes;
    bool truncated = false;
    std::string last;  ///< last key or prefix returned, for the next marker
};

struct part_info {
    std::uint32_t number = 0;
    std::uint64_t size = 0;
    std::string etag;  ///< md5 hex
    std::int64_t last_modified_ms = 0;
};

struct upload_info {
    std::string id;
    std::string bucket;
    std::string key;
    std::int64_t initiated_ms = 0;
    object_meta meta;  ///< headers and metadata given at creation
    std::map<std::uint32_t, part_info> parts;
};

class store {
public:
    /// Opens (creating) the store at `root`, loading the index and removing leftovers.
    [[nodiscard]] static result<std::shared_ptr<store>> open(std::filesystem::path root, bool fsync);

    store(std::filesystem::path root, bool fsync) : root_(std::move(root)), fsync_(fsync) {}

    // Buckets. Errors: InvalidBucketName, BucketAlreadyOwnedByYou, NoSuchBucket, BucketNotEmpty.
    [[nodiscard]] result<void> create_bucket(const std::string& name, const std::string& region);
    [[nodiscard]] result<void> delete_bucket(const std::string& name);
    [[nodiscard]] std::optional<bucket_info> bucket(const std::string& name) const;
    [[nodiscard]] std::vector<bucket_info> buckets() const;
    [[nodiscard]] result<void> set_notification(const std::string& bucket, std::string xml);

    // Objects.
    /// A fresh file to write a body into.
    [[nodiscard]] result<staged_file> stage();
    /// Makes `body` the object `meta.key` of `bucket` (fills data, sequencer).
    [[nodiscard]] result<object_meta> commit(const std::string& bucket, object_meta meta, staged_file body);
    [[nodiscard]] result<object_meta> head(const std::string& bucket, const std::string& key) const;
    /// Changes an object's metadata (not its body) in place, atomically.
    [[nodiscard]] result<object_meta> update(
        const std::string& bucket,
        const std::string& key,
        const std::function<void(object_meta&)>& change
    );
    /// The object and its body opened for reading, consistent with each other.
    [[nodiscard]] result<std::pair<object_meta, std::shared_ptr<const int>>> open_object(
        const std::string& bucket,
        const std::string& key
    ) const;
    /// Removes the object; the removed object's metadata, or nullopt if there was none.
    [[nodiscard]] result<std::optional<object_meta>> remove(
        const std::string& bucket,
        const std::string& key
    );
    /// One page of keys after `after`, grouped by `delimiter`.
    [[nodiscard]] result<list_page> list(
        const std::string& bucket,
        const std::string& prefix,
        const std::string& delimiter,
        const std::string& after,
        std::size_t max_keys
    ) const;

    // Multipart uploads. Errors: NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall.
    [[nodiscard]] result<upload_info> create_upload(const std::string& bucket, object_meta meta);
    [[nodiscard]] result<part_info> put_part(
        const std::string& bucket,
        const std::string& upload_id,
        std::uint32_t number,
        staged_file body,
        std::string md5_hex
    );
    [[nodiscard]] result<upload_info> upload(const std::string& bucket, const std::string& upload_id) const;
    [[nodiscard]] result<std::vector<upload_info>> uploads(const std::string& bucket) const;
    /// Assembles the listed parts (number, etag) into the object.
    [[nodiscard]] result<object_meta> complete_upload(
        const std::string& bucket,
        const std::string& upload_id,
        const std::vector<scar::s3::completed_part>& parts
    );
    [[nodiscard]] result<void> abort_upload(const std::string& bucket, const std::string& upload_id);

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

private:
    struct bucket_state {
        bucket_info info;
        std::map<std::string, object_meta, std::less<>> objects;
    };

    [[nodiscard]] result<void> load();
    /// A synced temp file holding `content`, to be published by `install`.
    [[nodiscard]] result<std::filesystem::path> write_temp(
        std::string_view content,
        const std::filesystem::path& near
    ) const;
    /// Renames `tmp` over `path` (creating its directory on first use).
    [[nodiscard]] result<void> install(const std::filesystem::path& tmp, const std::filesystem::path& path)
        const;
    [[nodiscard]] result<void> write_atomically(const std::filesystem::path& path, std::string_view content)
        const;
    [[nodiscard]] std::filesystem::path meta_path(const std::string& bucket, const std::string& key) const;
    [[nodiscard]] std::string next_sequencer();
    [[nodiscard]] result<void> save_bucket(const bucket_info& b) const;
    /// Removes an upload's directory (parts and metadata) as one step.
    void remove_upload_dir(const std::string& upload_id) const;

    std::filesystem::path root_;
    bool fsync_;
    mutable std::mutex mutex_;
    std::map<std::string, bucket_state, std::less<>> buckets_;
    std::map<std::string, upload_info, std::less<>> uploads_;
    std::atomic<std::uint64_t> sequencer_{0};
};

/// S3's bucket naming rules; an error naming the rule broken.
[[nodiscard]] result<void> validate_bucket_name(std::string_view name);

}  // namespace scar::emulator::s3
