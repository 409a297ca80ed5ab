#pragma once
/// @file
/// An S3 client: buckets, objects (from memory or files, ranged and streamed reads),
/// listing, batch delete, copy, multipart uploads with parallel parts, presigned URLs and
/// bucket notification configurations. Requests are signed with SigV4 (`scar::sigv4`) and
/// sent by the core HTTP client (`scar::http`, libcurl stays behind it).
///
/// @code
/// auto s3 = s3::client::from_environment().value();          // AWS_* variables, ~/.aws
/// s3.create_bucket("in").value();
/// s3.put_object("in", "photos/a b.jpg", bytes).value();
/// auto got = s3.get_object("in", "photos/a b.jpg").value();  // got.body, got.info.etag
/// for (const auto& o : s3.list_all("in", "photos/").value()) …
/// s3.upload_file("in", "big.tar", "/tmp/big.tar").value();    // multipart above 16 MiB
/// @endcode
///
/// Keys are any UTF-8 (spaces, `+`, `%`, `?`, `#`, `//`, unicode): every path segment is
/// percent-encoded, so keys round-trip byte-exact.
///
/// Errors: S3's own codes, verbatim (`NoSuchKey`, `NoSuchBucket`, `AccessDenied`,
/// `SignatureDoesNotMatch`, `BucketNotEmpty`, `InvalidRange`, `NoSuchUpload`, …, see
/// `errors.hpp`), each message naming the operation and object ("GET s3://b/k: …") and
/// saying what to do; the core HTTP client's `NetworkError`, `RequestTimeout`,
/// `LocalIOError` and `Aborted` (a progress callback returned false); and
/// `InvalidParameterValue` for arguments refused before anything is sent.
///
/// Retries: 5xx, `SlowDown` (503), 429 and connection resets are retried with exponential
/// backoff and full jitter (`client_options::http.retry`); every attempt is signed afresh.
///
/// @par Thread safety
/// A `client` must not be used by two threads at once: make one per thread (they are
/// cheap and share nothing but the SigV4 key cache). Multipart uploads run their parts in
/// parallel inside one call.

#include <scar/core/aws_config.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/error.hpp>
#include <scar/core/http.hpp>
#include <scar/s3/notification.hpp>
#include <scar/s3/xml.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scar::s3 {

/// How bucket names appear in request URLs.
enum class addressing {
    /// Virtual-hosted for AWS's own endpoints when the bucket name is DNS-compatible
    /// without dots; path-style for custom endpoints (the emulator, s3rver, MinIO), as the
    /// aws CLI does.
    automatic,
    path,            ///< `http://host/bucket/key`
    virtual_hosted,  ///< `http://bucket.host/key`
};

/// Bytes done and total (0 while unknown) of one transfer; return false to abort it.
using progress_callback = std::function<bool(std::uint64_t done, std::uint64_t total)>;

/// How a client is made.
struct client_options {
    /// Scheme, host and port, no path: "http://127.0.0.1:4566". Empty: AWS's public
    /// endpoint for the region, "https://s3.<region>.amazonaws.com".
    std::string endpoint;
    std::string region = "us-east-1";
    aws::credentials credentials;
    addressing style = addressing::automatic;
    /// Host that virtual-hosted requests prefix bucket names to. Empty: the endpoint's host,
    /// or "s3.<region>.amazonaws.com" when the endpoint is an IP address. The connection
    /// still goes to the endpoint (curl's CONNECT_TO), so no DNS or /etc/hosts entry is needed.
    std::string virtual_host_domain;
    /// Timeouts and the retry policy of the HTTP client. The client sets its own
    /// `before_send` (signing), `retry.retry_on`, `on_progress` and `connect_to`.
    http::options http;
    /// Clock for signatures and presigned URLs.
    const clock* time = &clock::system();
    /// Files at least this big are uploaded in parts by `upload_file`.
    std::uint64_t multipart_threshold = 16ULL << 20U;
    /// Size of each part but the last (S3: 5 MiB to 5 GiB; at most 10,000 parts, so the part
    /// size grows for files above 10,000 × part_size).
    std::uint64_t part_size = 8ULL << 20U;
    /// Parts in flight at once.
    std::size_t max_parallel = 4;
};

/// What a PUT sends besides the body.
struct put_options {
    std::string content_type;  ///< empty: S3 stores binary/octet-stream
    /// User metadata, sent as `x-amz-meta-<name>` (names are lower-cased by S3).
    std::map<std::string, std::string> metadata;
    /// Send `Content-MD5` so that S3 refuses a body damaged in transit (`BadDigest`). Costs
    /// one MD5 pass over the data; the SigV4 payload hash (always sent) already protects it
    /// as well.
    bool content_md5 = true;
    /// Further headers: `Cache-Control`, `Content-Disposition`, `x-amz-storage-class`,
    /// `x-amz-tagging`…
    http::header_list headers;
    progress_callback on_progress;
};

/// An inclusive byte range: bytes `first`…`last`; `last` empty means to the end.
/// `suffix_length` instead asks for the last N bytes.
struct byte_range {
    std::uint64_t first = 0;
    std::optional<std::uint64_t> last;
    std::optional<std::uint64_t> suffix_length;
};

struct get_options {
    std::optional<byte_range> range;
    std::string if_match;       ///< ETag the object must have (`PreconditionFailed` otherwise)
    std::string if_none_match;  ///< `NotModified` when the object has this ETag
    progress_callback on_progress;
};

/// What HEAD and GET tell about an object.
struct object_info {
    std::string key;
    std::uint64_t size = 0;  ///< of the object (for a ranged GET: the bytes returned)
    std::string etag;        ///< with its quotes, as S3 sends it
    clock::time_point last_modified{};
    std::string content_type;
    std::string version_id;
    std::string storage_class;
    std::map<std::string, std::string> metadata;  ///< `x-amz-meta-*`, names without the prefix
    std::string content_range;                    ///< for ranged reads: "bytes 0-9/100"
};

struct get_result {
    object_info info;
    std::string body;
};

struct put_result {
    std::string etag;  ///< with quotes
    std::string version_id;
};

struct list_options {
    std::string prefix;
    std::string delimiter;  ///< "/" lists one directory level
    int max_keys = 0;       ///< per page; 0: S3's default (1000)
    std::string continuation_token;
    std::string start_after;
};

struct object_summary {
    std::string key;
    std::uint64_t size = 0;
    std::string etag;
    clock::time_point last_modified{};
    std::string storage_class;
};

/// One page of ListObjectsV2.
struct list_page {
    std::vector<object_summary> objects;
    std::vector<std::string> common_prefixes;
    bool truncated = false;
    std::string next_continuation_token;
};

/// Everything under a prefix (`list_all`).
struct listing {
    std::vector<object_summary> objects;
    std::vector<std::string> common_prefixes;
};

struct bucket_summary {
    std::string name;
    clock::time_point creation_date{};
};

/// The outcome of DeleteObjects: which keys went, and which could not with why.
struct delete_result {
    struct failure {
        std::string key;
        std::string code;  ///< "AccessDenied", …
        std::string message;
    };
    std::vector<std::string> deleted;  ///< empty in quiet mode
    std::vector<failure> errors;
};

struct copy_options {
    /// Replace the metadata and content type with these instead of copying the source's.
    std::optional<put_options> replace_metadata;
};

/// The S3 client. Movable, not copyable.
class client {
public:
    explicit client(client_options opts);
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// A client configured as the aws CLI would be: credentials, region and endpoint from
    /// `AWS_*` variables and `~/.aws` (see `aws_config.hpp`); a configured endpoint gets
    /// path-style addressing. Errors: `MissingCredentials`, `MissingRegion`, `ConfigInvalid`.
    [[nodiscard]] static result<client> from_environment(
        const aws::config_sources& src = aws::config_sources::from_process()
    );

    [[nodiscard]] const client_options& options() const noexcept;

    // Buckets ------------------------------------------------------------------------

    /// CreateBucket (with a `LocationConstraint` outside us-east-1). Errors:
    /// `BucketAlreadyExists`, `BucketAlreadyOwnedByYou`, `InvalidBucketName`.
    [[nodiscard]] result<void> create_bucket(std::string_view bucket);
    /// DeleteBucket. Errors: `NoSuchBucket`, `BucketNotEmpty`.
    [[nodiscard]] result<void> delete_bucket(std::string_view bucket);
    /// HeadBucket. Errors: `NoSuchBucket` (404), `AccessDenied` (403), `PermanentRedirect`.
    [[nodiscard]] result<void> head_bucket(std::string_view bucket);
    /// ListBuckets.
    [[nodiscard]] result<std::vector<bucket_summary>> list_buckets();

    // Objects ------------------------------------------------------------------------

    /// PutObject from memory.
    [[nodiscard]] result<put_result> put_object(
        std::string_view bucket,
        std::string_view key,
        std::string_view body,
        const put_options& opts = {}
    );
    /// PutObject of a whole file, in one request whatever its size (see `upload_file`).
    /// Errors also: `LocalIOError` (unreadable file).
    [[nodiscard]] result<put_result> put_object_from_file(
        std::string_view bucket,
        std::string_view key,
        const std::filesystem::path& file,
        const put_options& opts = {}
    );
    /// A file in one PutObject below `multipart_threshold`, else as a multipart upload whose
    /// parts are sent `max_parallel` at a time; on any failure the upload is aborted (no
    /// parts left behind) and the first error returned.
    [[nodiscard]] result<put_result> upload_file(
        std::string_view bucket,
        std::string_view key,
        const std::filesystem::path& file,
        const put_options& opts = {}
    );

    /// GetObject into memory. Errors: `NoSuchKey`, `NoSuchBucket`, `InvalidRange`,
    /// `PreconditionFailed`, `NotModified`.
    [[nodiscard]] result<get_result> get_object(
        std::string_view bucket,
        std::string_view key,
        const get_options& opts = {}
    );
    /// GetObject streamed to `path`: written to a temporary file beside it and renamed into
    /// place once complete, so `path` never holds a partial object.
    [[nodiscard]] result<object_info> get_object_to_file(
        std::string_view bucket,
        std::string_view key,
        const std::filesystem::path& path,
        const get_options& opts = {}
    );
    /// HeadObject. Errors: `NoSuchKey` (also when the bucket is missing: HEAD has no body
    /// to tell them apart).
    [[nodiscard]] result<object_info> head_object(std::string_view bucket, std::string_view key);
    /// DeleteObject; deleting a missing key succeeds, as in S3.
    [[nodiscard]] result<void> delete_object(std::string_view bucket, std::string_view key);
    /// DeleteObjects, 1000 keys per request (more are split). `quiet` asks S3 to list only
    /// failures. Per-key failures are in the result, not an error.
    [[nodiscard]] result<delete_result> delete_objects(
        std::string_view bucket,
        std::span<const std::string> keys,
        bool quiet = false
    );
    /// CopyObject (single request, objects up to 5 GiB).
    [[nodiscard]] result<put_result> copy_object(
        std::string_view src_bucket,
        std::string_view src_key,
        std::string_view dst_bucket,
        std::string_view dst_key,
        const copy_options& opts = {}
    );

    // Listing ------------------------------------------------------------------------

    /// One page of ListObjectsV2.
    [[nodiscard]] result<list_page> list_objects_v2(std::string_view bucket, const list_options& opts = {});
    /// Every object (and common prefix, with a delimiter) under `prefix`, paging through.
    [[nodiscard]] result<listing> list_all(
        std::string_view bucket,
        std::string_view prefix = {},
        std::string_view delimiter = {}
    );

    // Multipart uploads ----------------------------------------------------------------

    /// CreateMultipartUpload; returns the upload id.
    [[nodiscard]] result<std::string> create_multipart_upload(
        std::string_view bucket,
        std::string_view key,
        const put_options& opts = {}
    );
    /// UploadPart from memory; returns the part's ETag.
    [[nodiscard]] result<std::string> upload_part(
        std::string_view bucket,
        std::string_view key,
        std::string_view upload_id,
        int part_number,
        std::string_view body
    );
    /// CompleteMultipartUpload. Errors: `InvalidPart`, `InvalidPartOrder`, `EntityTooSmall`,
    /// `NoSuchUpload` (also when S3 answers 200 with an error body).
    [[nodiscard]] result<put_result> complete_multipart_upload(
        std::string_view bucket,
        std::string_view key,
        std::string_view upload_id,
        std::span<const completed_part> parts
    );
    /// AbortMultipartUpload.
    [[nodiscard]] result<void> abort_multipart_upload(
        std::string_view bucket,
        std::string_view key,
        std::string_view upload_id
    );

    // Presigned URLs -----------------------------------------------------------------

    /// A URL anyone may GET the object with until `expires` (1 s … 7 days) from now.
    [[nodiscard]] result<std::string> presign_get(
        std::string_view bucket,
        std::string_view key,
        std::chrono::seconds expires
    );
    /// A URL anyone may PUT the object with; a non-empty `content_type` is signed, and the
    /// uploader must send exactly that `Content-Type`.
    [[nodiscard]] result<std::string> presign_put(
        std::string_view bucket,
        std::string_view key,
        std::chrono::seconds expires,
        std::string_view content_type = {}
    );

    // Notifications ------------------------------------------------------------------

    /// GetBucketNotificationConfiguration (empty configuration: notifications off).
    [[nodiscard]] result<notification_config> get_bucket_notification(std::string_view bucket);
    /// PutBucketNotificationConfiguration; checked with `validate` before sending.
    [[nodiscard]] result<void> put_bucket_notification(std::string_view bucket, const notification_config& c);

    // Addressing (public for tests and the CLI's `--dry-run`) -------------------------

    /// The URL of `key` in `bucket` (key empty: the bucket), with `query` ("list-type=2&…",
    /// already encoded) appended: path-style or virtual-hosted per the options.
    [[nodiscard]] std::string url_for(
        std::string_view bucket,
        std::string_view key,
        std::string_view query = {}
    ) const;
    /// Whether requests for `bucket` use virtual-hosted addressing.
    [[nodiscard]] bool uses_virtual_host(std::string_view bucket) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The path of `key` as sent on the wire: each `/`-separated segment percent-encoded with
/// AWS's rules, so `//`, a trailing `/` and `.` / `..` segments stay as they are (the HTTP
/// client sends paths as-is).
[[nodiscard]] std::string encode_key_path(std::string_view key);

/// True when `bucket` can be a DNS label of a virtual-hosted URL: 3-63 characters of
/// lower-case letters, digits and '-', starting and ending with a letter or digit (dots
/// are refused: they break TLS wildcard certificates).
[[nodiscard]] bool is_virtual_hostable(std::string_view bucket) noexcept;

}  // namespace scar::s3
