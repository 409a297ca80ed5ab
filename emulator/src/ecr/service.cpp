#include "service.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "../json_fields.hpp"
#include "../util.hpp"
#include <fcntl.h>
#include <unistd.h>

namespace scar::emulator::ecr {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view target_prefix = "AmazonEC2ContainerRegistry_V20150921.";
constexpr std::uint64_t max_blob = 10ull << 30;
constexpr std::int64_t token_lifetime_ms = 12LL * 3600 * 1000;

error repo_not_found(const std::string& name, const std::string& account) {
    return make_error(
        "RepositoryNotFoundException",
        "The repository with name '" + name + "' does not exist in the registry with id '" + account +
            "'; create it with: aws ecr create-repository --repository-name " + name,
        400
    );
}

bool valid_digest(std::string_view d) {
    if (!d.starts_with("sha256:") || d.size() != 71) return false;
    return std::all_of(d.begin() + 7, d.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

/// sha256 of a file, as "sha256:<hex>".
std::string file_digest(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    crypto::sha256 h;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto n = static_cast<std::size_t>(in.gcount());
        if (n == 0) break;
        h.update(std::string_view(buf.data(), n));
    }
    return "sha256:" + encoding::to_hex(h.finish());
}

std::string media_type_of(std::string_view manifest) {
    boost::system::error_code ec;
    const auto doc = json::parse(manifest, ec);
    if (!ec && doc.is_object()) {
        if (auto t = json_string(doc.as_object(), "mediaType"); !t.empty()) return t;
        if (doc.as_object().contains("manifests")) return "application/vnd.oci.image.index.v1+json";
    }
    return "application/vnd.oci.image.manifest.v1+json";
}

}  // namespace

service::service(
    fs::path root,
    std::string region,
    std::string account,
    std::string access_key,
    std::string secret_key
)
    : root_(std::move(root)),
      region_(std::move(region)),
      account_(std::move(account)),
      access_key_(std::move(access_key)),
      secret_key_(std::move(secret_key)) {}

result<std::shared_ptr<service>> service::open(
    fs::path root,
    std::string region,
    std::string account,
    std::string access_key,
    std::string secret_key
) {
    auto s = std::make_shared<service>(
        std::move(root),
        std::move(region),
        std::move(account),
        std::move(access_key),
        std::move(secret_key)
    );
    if (auto ok = s->load(); !ok) return ok.error();
    return s;
}

fs::path service::blob_path(std::string_view digest) const {
    return root_ / "blobs" / "sha256" / std::string(digest.substr(7));
}

result<void> service::load() {
    std::error_code ec;
    for (const char* d : {"blobs/sha256", "uploads"}) fs::create_directories(root_ / d, ec);
    if (ec)
        return make_error("ServerException", "cannot create '" + root_.string() + "': " + ec.message(), 500);
    for (const auto& e : fs::directory_iterator(root_ / "uploads", ec)) fs::remove(e.path(), ec);
    std::ifstream in(root_ / "repositories.json");
    if (!in) return {};
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code jec;
    const auto doc = json::parse(ss.str(), jec);
    if (jec || !doc.is_array()) return {};
    for (const auto& r : doc.as_array()) {
        if (!r.is_object()) continue;
        const auto& o = r.as_object();
        repository repo;
        repo.name = json_string(o, "name");
        repo.created_ms = json_int(o, "created_ms").value_or(0);
        if (const auto* t = o.if_contains("tags"); t != nullptr && t->is_object())
            for (const auto& [k, v] : t->as_object())
                if (v.is_string()) repo.tags[std::string(k)] = std::string(v.as_string());
        if (const auto* m = o.if_contains("manifests"); m != nullptr && m->is_object()) {
            for (const auto& [k, v] : m->as_object()) {
                if (!v.is_object()) continue;
                repo.manifests[std::string(k)] = {
                    json_string(v.as_object(), "media_type"),
                    static_cast<std::uint64_t>(json_int(v.as_object(), "size").value_or(0)),
                    json_int(v.as_object(), "pushed_ms").value_or(0)};
            }
        }
        if (const auto* b = o.if_contains("blobs"); b != nullptr && b->is_array())
            for (const auto& d : b->as_array())
                if (d.is_string()) repo.blobs.insert(std::string(d.as_string()));
        repos_.emplace(repo.name, std::move(repo));
    }
    return {};
}

result<void> service::save() const {
    json::array a;
    for (const auto& [name, r] : repos_) {
        json::object tags;
        for (const auto& [t, d] : r.tags) tags[t] = d;
        json::object manifests;
        for (const auto& [d, m] : r.manifests) {
            manifests[d] = {{"media_type", m.media_type}, {"size", m.size}, {"pushed_ms", m.pushed_ms}};
        }
        json::array blobs;
        for (const auto& b : r.blobs) blobs.emplace_back(b);
        a.push_back(json::object{
            {"name", name},
            {"created_ms", r.created_ms},
            {"tags", tags},
            {"manifests", manifests},
            {"blobs", blobs}});
    }
    return replace_file(root_ / "repositories.json", json::serialize(a), "ServerException");
}

std::string service::repository_json(const repository& r) const {
    return json::serialize(json::object{
        {"repositoryArn", "arn:aws:ecr:" + region_ + ":" + account_ + ":repository/" + r.name},
        {"registryId", account_},
        {"repositoryName", r.name},
        {"repositoryUri", registry_host_ + "/" + r.name},
        {"createdAt", static_cast<double>(r.created_ms) / 1000.0},
        {"imageTagMutability", "MUTABLE"},
        {"imageScanningConfiguration", {{"scanOnPush", false}}},
        {"encryptionConfiguration", {{"encryptionType", "AES256"}}}});
}

void service::write_error(exchange& ex, const error& e) const {
    ex.status = e.http_status != 0 ? e.http_status : 500;
    ex.set_header("Content-Type", "application/x-amz-json-1.1");
    ex.set_header("x-amzn-RequestId", ex.request_id);
    ex.response_body = json::serialize(json::object{{"__type", e.code}, {"message", e.message}});
}

net::awaitable<void> service::handle(exchange& ex, const sigv4::verified_request&) {
    const auto target = ex.header("x-amz-target").value_or("");
    if (ex.method != "POST" || !target.starts_with(target_prefix)) {
        write_error(
            ex,
            make_error(
                "UnknownOperationException",
                "expected a POST with X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>",
                400
            )
        );
        co_return;
    }
    auto out = dispatch(target.substr(target_prefix.size()), ex.body.value_or("{}"));
    if (!out) {
        write_error(ex, out.error());
        co_return;
    }
    ex.set_header("Content-Type", "application/x-amz-json-1.1");
    ex.response_body = std::move(*out);
}

result<std::string> service::dispatch(std::string_view op, const std::string& body) {
    boost::system::error_code jec;
    const auto doc = json::parse(body.empty() ? "{}" : body, jec);
    if (jec || !doc.is_object())
        return make_error("InvalidParameterException", "the request body is not a JSON object", 400);
    const auto& in = doc.as_object();
    const std::lock_guard lock(mutex_);
    const std::string name = json_string(in, "repositoryName");

    if (op == "GetAuthorizationToken") {
        const std::string password = random_hex(24, false);
        const auto expires = now_ms() + token_lifetime_ms;
        tokens_[password] = expires;
        return json::serialize(json::object{
            {"authorizationData",
             json::array{json::object{
                 {"authorizationToken", encoding::base64_encode("AWS:" + password)},
                 {"expiresAt", static_cast<double>(expires) / 1000.0},
                 {"proxyEndpoint", "http://" + registry_host_}}}}});
    }
    if (op == "CreateRepository") {
        static const std::string allowed = "abcdefghijklmnopqrstuvwxyz0123456789._-/";
        if (name.size() < 2 || name.size() > 256 || name.find_first_not_of(allowed) != std::string::npos) {
            return make_error(
                "InvalidParameterException",
                "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular "
                "expression "
                "'(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''",
                400
            );
        }
        if (repos_.contains(name)) {
            return make_error(
                "RepositoryAlreadyExistsException",
                "The repository with name '" + name + "' already exists in the registry with id '" +
                    account_ + "'",
                400
            );
        }
        auto& r = repos_[name];
        r.name = name;
        r.created_ms = now_ms();
        if (auto ok = save(); !ok) return ok.error();
        return "{\"repository\":" + repository_json(r) + "}";
    }
    if (op == "DescribeRepositories") {
        std::string out = "{\"repositories\":[";
        bool first = true;
        const auto* names = in.if_contains("repositoryNames");
        if (names != nullptr && names->is_array()) {
            for (const auto& n : names->as_array()) {
                const std::string wanted = n.is_string() ? std::string(n.as_string()) : std::string();
                const auto it = repos_.find(wanted);
                if (it == repos_.end()) return repo_not_found(wanted, account_);
                out += (first ? "" : ",") + repository_json(it->second);
                first = false;
            }
        } else {
            for (const auto& [n, r] : repos_) {
                out += (first ? "" : ",") + repository_json(r);
                first = false;
            }
        }
        return out + "]}";
    }
    const auto it = repos_.find(name);
    if (it == repos_.end()) return repo_not_found(name, account_);
    auto& repo = it->second;
    if (op == "DeleteRepository") {
        const auto* force = in.if_contains("force");
        if (!repo.manifests.empty() && !(force != nullptr && force->is_bool() && force->as_bool())) {
            return make_error(
                "RepositoryNotEmptyException",
                "The repository with name '" + name + "' in registry with id '" + account_ +
                    "' cannot be deleted because it still contains images; delete them or pass --force",
                400
            );
        }
        const auto out = "{\"repository\":" + repository_json(repo) + "}";
        repos_.erase(it);
        if (auto ok = save(); !ok) return ok.error();
        return out;
    }
    if (op == "DescribeImages" || op == "ListImages") {
        json::array details;
        json::array ids;
        for (const auto& [digest, m] : repo.manifests) {
            json::array tags;
            for (const auto& [t, d] : repo.tags) {
                if (d != digest) continue;
                tags.emplace_back(t);
                ids.push_back(json::object{{"imageDigest", digest}, {"imageTag", t}});
            }
            if (tags.empty()) ids.push_back(json::object{{"imageDigest", digest}});
            json::object d{
                {"registryId", account_},
                {"repositoryName", name},
                {"imageDigest", digest},
                {"imageSizeInBytes", m.size},
                {"imagePushedAt", static_cast<double>(m.pushed_ms) / 1000.0},
                {"imageManifestMediaType", m.media_type}};
            if (!tags.empty()) d["imageTags"] = tags;
            details.push_back(std::move(d));
        }
        return op == "ListImages" ? json::serialize(json::object{{"imageIds", ids}})
                                  : json::serialize(json::object{{"imageDetails", details}});
    }
    if (op == "BatchDeleteImage") {
        json::array deleted;
        json::array failures;
        if (const auto* idsv = in.if_contains("imageIds"); idsv != nullptr && idsv->is_array()) {
            for (const auto& idv : idsv->as_array()) {
                if (!idv.is_object()) continue;
                const auto tag = json_string(idv.as_object(), "imageTag");
                std::string digest = json_string(idv.as_object(), "imageDigest");
                if (!tag.empty()) {
                    const auto t = repo.tags.find(tag);
                    if (t == repo.tags.end()) {
                        failures.push_back(json::object{
                            {"imageId", idv},
                            {"failureCode", "ImageNotFound"},
                            {"failureReason", "Requested image not found"}});
                        continue;
                    }
                    digest = t->second;
                    repo.tags.erase(t);
                    // The manifest goes when its last tag does (ECR deletes untagged images by tag).
                    if (std::none_of(repo.tags.begin(), repo.tags.end(), [&](const auto& p) {
                            return p.second == digest;
                        })) {
                        repo.manifests.erase(digest);
                    }
                } else if (repo.manifests.erase(digest) != 0) {
                    std::erase_if(repo.tags, [&](const auto& p) { return p.second == digest; });
                } else {
                    failures.push_back(json::object{
                        {"imageId", idv},
                        {"failureCode", "ImageNotFound"},
                        {"failureReason", "Requested image not found"}});
                    continue;
                }
                json::object id{{"imageDigest", digest}};
                if (!tag.empty()) id["imageTag"] = tag;
                deleted.push_back(std::move(id));
            }
        }
        if (auto ok = save(); !ok) return ok.error();
        return json::serialize(json::object{{"imageIds", deleted}, {"failures", failures}});
    }
    return make_error(
        "UnknownOperationException",
        "the emulator's ECR does not implement '" + std::string(op) +
            "'; it serves CreateRepository, DescribeRepositories, DeleteRepository, GetAuthorizationToken, "
            "DescribeImages, ListImages, BatchDeleteImage",
        400
    );
}

bool service::authorized(const exchange& ex) const {
    const auto auth = ex.header("authorization");
    if (!auth || !auth->starts_with("Basic ")) return false;
    const auto decoded = encoding::base64_decode(auth->substr(6));
    if (!decoded) return false;
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) return false;
    const std::string user = decoded->substr(0, colon);
    const std::string pass = decoded->substr(colon + 1);
    if (user == access_key_ && crypto::constant_time_equal(pass, secret_key_)) return true;
    if (user != "AWS") return false;
    const std::lock_guard lock(mutex_);
    const auto t = tokens_.find(pass);
    return t != tokens_.end() && t->second > now_ms();
}

void service::registry_error(exchange& ex, int status, std::string_view code, std::string_view message)
    const {
    ex.status = status;
    ex.set_header("Content-Type", "application/json");
    ex.set_header("Docker-Distribution-API-Version", "registry/2.0");
    ex.response_body = json::serialize(json::object{
        {"errors", json::array{json::object{{"code", code}, {"message", message}}}}});
}

net::awaitable<void> service::handle_registry(exchange& ex) {
    ex.set_header("Docker-Distribution-API-Version", "registry/2.0");
    if (!authorized(ex)) {
        ex.set_header(
            "WWW-Authenticate",
            "Basic realm=\"http://" + registry_host_ + "/\",service=\"ecr.amazonaws.com\""
        );
        registry_error(
            ex,
            401,
            "DENIED",
            "Not Authorized: log in with the token of aws ecr get-authorization-token (or the emulator's "
            "access key and secret)"
        );
        co_return;
    }
    std::string_view path = ex.path;
    path.remove_prefix(3);  // "/v2"
    if (path.empty() || path == "/") {
        ex.set_header("Content-Type", "application/json");
        ex.response_body = "{}";
        co_return;
    }
    path.remove_prefix(1);
    // The repository name may contain slashes: find the operation from the right.
    const auto at = [&](std::string_view marker) { return path.rfind(marker); };
    std::string repo_name;
    std::string kind;
    std::string arg;
    for (const std::string_view marker : {"/blobs/uploads", "/manifests/", "/blobs/", "/tags/list"}) {
        if (const auto p = at(marker); p != std::string_view::npos) {
            repo_name = std::string(path.substr(0, p));
            kind = std::string(marker);
            arg = std::string(path.substr(p + marker.size()));
            if (kind == "/blobs/uploads" && arg.starts_with('/')) arg.erase(0, 1);
            break;
        }
    }
    {
        const std::lock_guard lock(mutex_);
        if (kind.empty() || !repos_.contains(repo_name)) {
            registry_error(
                ex,
                404,
                "NAME_UNKNOWN",
                "repository '" + repo_name + "' does not exist; create it with aws ecr create-repository"
            );
            co_return;
        }
    }
    const bool head = ex.method == "HEAD";

    if (kind == "/tags/list" && ex.method == "GET") {
        const std::lock_guard lock(mutex_);
        json::array tags;
        for (const auto& [t, d] : repos_.at(repo_name).tags) tags.emplace_back(t);
        ex.set_header("Content-Type", "application/json");
        ex.response_body = json::serialize(json::object{{"name", repo_name}, {"tags", tags}});
        co_return;
    }
    if (kind == "/blobs/" && (head || ex.method == "GET")) {
        if (!valid_digest(arg) || !fs::exists(blob_path(arg))) {
            registry_error(ex, 404, "BLOB_UNKNOWN", "blob unknown to registry: " + arg);
            co_return;
        }
        const auto size = fs::file_size(blob_path(arg));
        ex.set_header("Docker-Content-Digest", arg);
        ex.set_header("Content-Type", "application/octet-stream");
        if (head) {
            ex.head_length = size;
            co_return;
        }
        const int fd = ::open(blob_path(arg).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            registry_error(ex, 404, "BLOB_UNKNOWN", "blob unknown to registry: " + arg);
            co_return;
        }
        auto holder = std::shared_ptr<const int>(new int(fd), [](const int* f) {
            ::close(*f);
            delete f;
        });
        ex.response_file = file_range{std::move(holder), 0, size};
        co_return;
    }
    if (kind == "/blobs/uploads") {
        const std::string location_base = "/v2/" + repo_name + "/blobs/uploads/";
        if (ex.method == "POST") {
            if (const auto* mount = ex.param("mount")) {
                if (valid_digest(*mount) && fs::exists(blob_path(*mount))) {
                    const std::lock_guard lock(mutex_);
                    repos_.at(repo_name).blobs.insert(*mount);
                    (void)save();
                    ex.status = 201;
                    ex.set_header("Location", "/v2/" + repo_name + "/blobs/" + *mount);
                    ex.set_header("Docker-Content-Digest", *mount);
                    co_return;
                }
            }
            const std::string id = random_hex(16, false);
            std::ofstream(root_ / "uploads" / id, std::ios::binary | std::ios::trunc);
            if (const auto* digest = ex.param("digest")) {
                arg = id;  // monolithic upload: fall through to the PUT path
                ex.method = "PUT";
                (void)digest;
            } else {
                ex.status = 202;
                ex.set_header("Location", location_base + id);
                ex.set_header("Docker-Upload-UUID", id);
                ex.set_header("Range", "0-0");
                co_return;
            }
        }
        const fs::path upload = root_ / "uploads" / arg;
        // Upload ids are ours (32 hex digits): "..", "." or anything else never names a file.
        if (arg.size() != 32 || arg.find_first_not_of("0123456789abcdef") != std::string::npos ||
            !fs::is_regular_file(upload)) {
            registry_error(ex, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry: " + arg);
            co_return;
        }
        if (ex.method == "PATCH" || ex.method == "PUT") {
            std::ofstream out(upload, std::ios::binary | std::ios::app);
            auto ok = co_await ex.read_body(
                [&out](std::string_view piece) -> result<void> {
                    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
                    if (!out)
                        return make_error("BLOB_UPLOAD_INVALID", "cannot store the upload (disk full?)", 500);
                    return {};
                },
                max_blob
            );
            out.close();
            if (!ok) {
                registry_error(ex, 400, "BLOB_UPLOAD_INVALID", ok.error().message);
                co_return;
            }
            const auto size = fs::file_size(upload);
            if (ex.method == "PATCH") {
                ex.status = 202;
                ex.set_header("Location", location_base + arg);
                ex.set_header("Docker-Upload-UUID", arg);
                ex.set_header("Range", "0-" + std::to_string(size == 0 ? 0 : size - 1));
                co_return;
            }
            const auto* want = ex.param("digest");
            if (want == nullptr || !valid_digest(*want)) {
                registry_error(ex, 400, "DIGEST_INVALID", "provided digest did not match uploaded content");
                co_return;
            }
            if (file_digest(upload) != *want) {
                std::error_code ec;
                fs::remove(upload, ec);
                registry_error(ex, 400, "DIGEST_INVALID", "provided digest did not match uploaded content");
                co_return;
            }
            std::error_code ec;
            fs::rename(upload, blob_path(*want), ec);
            if (ec) {
                registry_error(ex, 500, "UNKNOWN", "cannot store the blob: " + ec.message());
                co_return;
            }
            const std::lock_guard lock(mutex_);
            repos_.at(repo_name).blobs.insert(*want);
            (void)save();
            ex.status = 201;
            ex.set_header("Location", "/v2/" + repo_name + "/blobs/" + *want);
            ex.set_header("Docker-Content-Digest", *want);
            co_return;
        }
        if (ex.method == "DELETE") {
            std::error_code ec;
            fs::remove(upload, ec);
            ex.status = 204;
            co_return;
        }
        if (ex.method == "GET") {
            ex.status = 204;
            ex.set_header(
                "Range",
                "0-" + std::to_string(std::max<std::uintmax_t>(fs::file_size(upload), 1) - 1)
            );
            ex.set_header("Docker-Upload-UUID", arg);
            co_return;
        }
    }
    if (kind == "/manifests/") {
        if (ex.method == "PUT") {
            auto body = co_await ex.read_body(4 << 20);
            if (!body) {
                registry_error(ex, 400, "MANIFEST_INVALID", body.error().message);
                co_return;
            }
            boost::system::error_code jec;
            const auto doc = json::parse(*body, jec);
            if (jec || !doc.is_object()) {
                registry_error(ex, 400, "MANIFEST_INVALID", "manifest invalid: not JSON");
                co_return;
            }
            // Every blob it references must be in the registry.
            std::vector<std::string> refs;
            if (const auto* c = doc.as_object().if_contains("config"); c != nullptr && c->is_object())
                refs.push_back(json_string(c->as_object(), "digest"));
            if (const auto* ls = doc.as_object().if_contains("layers"); ls != nullptr && ls->is_array())
                for (const auto& l : ls->as_array())
                    if (l.is_object()) refs.push_back(json_string(l.as_object(), "digest"));
            for (const auto& d : refs) {
                if (!valid_digest(d) || !fs::exists(blob_path(d))) {
                    registry_error(ex, 400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry: " + d);
                    co_return;
                }
            }
            const std::string digest = "sha256:" + encoding::to_hex(crypto::sha256_of(*body));
            if (valid_digest(arg) && arg != digest) {
                registry_error(
                    ex,
                    400,
                    "DIGEST_INVALID",
                    "the manifest's digest is " + digest + ", not " + arg
                );
                co_return;
            }
            {
                std::ofstream out(blob_path(digest), std::ios::binary | std::ios::trunc);
                out << *body;
            }
            const std::lock_guard lock(mutex_);
            auto& repo = repos_.at(repo_name);
            const auto ct = ex.header("content-type");
            repo.manifests[digest] = {
                ct && !ct->empty() ? std::string(*ct) : media_type_of(*body),
                body->size(),
                now_ms()};
            if (!valid_digest(arg)) repo.tags[arg] = digest;
            (void)save();
            ex.status = 201;
            ex.set_header("Location", "/v2/" + repo_name + "/manifests/" + digest);
            ex.set_header("Docker-Content-Digest", digest);
            co_return;
        }
        std::string digest = arg;
        manifest_info info;
        {
            const std::lock_guard lock(mutex_);
            auto& repo = repos_.at(repo_name);
            if (!valid_digest(arg)) {
                const auto t = repo.tags.find(arg);
                digest = t == repo.tags.end() ? "" : t->second;
            }
            const auto m = repo.manifests.find(digest);
            if (digest.empty() || m == repo.manifests.end()) {
                registry_error(ex, 404, "MANIFEST_UNKNOWN", "manifest unknown: " + repo_name + ":" + arg);
                co_return;
            }
            info = m->second;
            if (ex.method == "DELETE") {
                repo.manifests.erase(m);
                std::erase_if(repo.tags, [&](const auto& p) { return p.second == digest; });
                (void)save();
                ex.status = 202;
                co_return;
            }
        }
        ex.set_header("Content-Type", info.media_type);
        ex.set_header("Docker-Content-Digest", digest);
        if (head) {
            ex.head_length = info.size;
            co_return;
        }
        std::ifstream in(blob_path(digest), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        ex.response_body = ss.str();
        co_return;
    }
    registry_error(ex, 405, "UNSUPPORTED", "the operation is unsupported: " + ex.method + " " + ex.path);
}

}  // namespace scar::emulator::ecr
