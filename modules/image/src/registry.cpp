#include "scar/image/registry.hpp"

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/log.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

namespace scar::image {
namespace json = boost::json;
namespace fs = std::filesystem;
namespace {

constexpr int max_redirects = 5;
constexpr int download_rounds = 3;

std::string url_host(std::string_view url) {
    const auto p = url.find("://");
    if (p == std::string_view::npos) return {};
    url.remove_prefix(p + 3);
    return std::string(url.substr(0, url.find('/')));
}

std::string url_origin(std::string_view url) {
    const auto p = url.find("://");
    if (p == std::string_view::npos) return {};
    const auto slash = url.find('/', p + 3);
    return std::string(url.substr(0, slash));
}

/// A Location header against the URL that answered it.
std::string resolve_location(std::string_view current, std::string_view loc) {
    if (loc.starts_with("http://") || loc.starts_with("https://")) return std::string(loc);
    if (loc.starts_with("/")) return url_origin(current) + std::string(loc);
    std::string base(current.substr(0, current.find('?')));
    return base.substr(0, base.rfind('/') + 1) + std::string(loc);
}

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// The registry's own error text: `{"errors":[{"code":"…","message":"…"}]}`.
std::pair<std::string, std::string> registry_error_of(const http::response& r) {
    boost::system::error_code ec;
    const auto doc = json::parse(r.body, ec);
    if (ec || !doc.is_object()) return {};
    const auto* errors = doc.get_object().if_contains("errors");
    if (errors == nullptr || !errors->is_array() || errors->get_array().empty()) return {};
    const auto& first = errors->get_array().front();
    if (!first.is_object()) return {};
    const auto str = [&](std::string_view k) {
        const auto* v = first.get_object().if_contains(k);
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    return {str("code"), str("message")};
}

error status_error(const http::response& r, const std::string& what, std::string_view not_found_code) {
    const auto [code, message] = registry_error_of(r);
    const std::string said =
        message.empty() ? std::string() : " (registry says: " + code + ": " + message + ")";
    const std::string status = " answered HTTP " + std::to_string(r.status);
    switch (r.status) {
        case 401:
            return make_error(
                "Unauthorized",
                what + status + said +
                    ": the registry wants credentials; put them in ~/.docker/config.json ('docker login') or "
                    "pass them "
                    "explicitly",
                401
            );
        case 403:
            return make_error("Denied", what + status + said + ": these credentials may not do this", 403);
        case 404: {
            std::string c(not_found_code);
            if (code == "NAME_UNKNOWN") c = "NameUnknown";
            if (code == "MANIFEST_UNKNOWN") c = "ManifestUnknown";
            if (code == "BLOB_UNKNOWN") c = "BlobUnknown";
            return make_error(c, what + status + said + ": check the repository name and tag", 404);
        }
        default:
            return make_error(
                "RegistryError",
                what + status + said,
                r.status,
                r.status == 429 || r.status >= 500
            );
    }
}

std::string basic_header(const credentials& c) {
    return "Basic " + encoding::base64_encode(c.username + ":" + c.password);
}

bool ok(int status) {
    return status >= 200 && status < 300;
}

}  // namespace

struct registry_client::impl {
    std::string registry;
    std::string base;
    registry_options opts;
    http::client client;
    std::map<std::string, std::string> auth_by_scope;
    std::string basic;  // set once the registry asked for Basic
    bool creds_resolved = false;
    std::optional<credentials> creds;

    impl(std::string reg, registry_options o)
        : registry(std::move(reg)), opts(std::move(o)), client(opts.http) {
        const std::string host =
            registry == default_registry ? std::string("registry-1.docker.io") : registry;
        const bool plain =
            is_loopback_host(host) ||
            std::find(opts.insecure_registries.begin(), opts.insecure_registries.end(), registry) !=
                opts.insecure_registries.end();
        base = (plain ? "http://" : "https://") + host;
    }

    static std::string pull_scope(std::string_view repo) {
        return "repository:" + std::string(repo) + ":pull";
    }
    static std::string push_scope(std::string_view repo) {
        return "repository:" + std::string(repo) + ":pull,push";
    }

    std::string authorization(const std::string& scope) const {
        if (!basic.empty()) return basic;
        const auto it = auth_by_scope.find(scope);
        return it == auth_by_scope.end() ? std::string() : it->second;
    }

    result<void> load_credentials() {
        if (creds_resolved) return {};
        auto c = resolve_credentials(registry, opts.auth);
        if (!c) return c.error();
        creds = std::move(*c);
        creds_resolved = true;
        return {};
    }

    /// Answers a 401: Basic credentials, or a Bearer token from the challenge's realm.
    result<void> authenticate(
        const http::response& unauthorized,
        const std::string& scope,
        const std::string& what
    ) {
        const auto header = unauthorized.header("WWW-Authenticate");
        const auto ch = header ? parse_challenge(*header) : std::nullopt;
        if (!ch) return status_error(unauthorized, what, "NotFound");
        if (auto r = load_credentials(); !r) return r.error();
        if (ch->scheme == "basic") {
            if (!creds || creds->username.empty()) return status_error(unauthorized, what, "NotFound");
            basic = basic_header(*creds);
            return {};
        }
        if (ch->scheme != "bearer") {
            return make_error(
                "Unauthorized",
                what + ": the registry asks for '" + ch->scheme +
                    "' authentication, which scar does not speak (only Basic and Bearer)"
            );
        }
        const auto realm_it = ch->params.find("realm");
        if (realm_it == ch->params.end() || realm_it->second.empty())
            return make_error(
                "Unauthorized",
                what + ": the registry's Bearer challenge has no realm to get a token from"
            );
        const std::string& realm = realm_it->second;
        std::string query;
        const auto add = [&](std::string_view k, std::string_view v) {
            query += query.empty() ? "" : "&";
            query += std::string(k) + "=" + encoding::uri_encode(v);
        };
        if (const auto s = ch->params.find("service"); s != ch->params.end()) add("service", s->second);
        std::size_t start = 0;
        const std::string scopes =
            scope.empty() && ch->params.contains("scope") ? ch->params.at("scope") : scope;
        while (start < scopes.size()) {
            const auto sp = scopes.find(' ', start);
            add("scope",
                std::string_view(scopes)
                    .substr(start, sp == std::string::npos ? std::string::npos : sp - start));
            if (sp == std::string::npos) break;
            start = sp + 1;
        }
        http::request tr;
        if (creds && !creds->identity_token.empty()) {
            // OAuth2 refresh-token grant, as `docker login` tokens are used.
            tr.method = "POST";
            tr.url = realm;
            add("grant_type", "refresh_token");
            add("refresh_token", creds->identity_token);
            add("client_id", "scar");
            tr.body = query;
            tr.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        } else {
            tr.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + query;
            if (creds && !creds->username.empty())
                tr.headers.emplace_back("Authorization", basic_header(*creds));
        }
        auto resp = client.send(tr);
        if (!resp) return resp.error().wrap("getting a registry token from " + realm);
        if (!ok(resp->status)) {
            return make_error(
                "Unauthorized",
                "the token server " + realm + " answered HTTP " + std::to_string(resp->status) +
                    " for scope '" + scopes + "'" +
                    (creds ? std::string(": the credentials were refused; check them")
                           : std::string(": log in first (~/.docker/config.json)")),
                resp->status
            );
        }
        boost::system::error_code ec;
        const auto doc = json::parse(resp->body, ec);
        const json::value* tok = nullptr;
        if (!ec && doc.is_object()) {
            tok = doc.get_object().if_contains("token");
            if (tok == nullptr || !tok->is_string() || tok->get_string().empty())
                tok = doc.get_object().if_contains("access_token");
        }
        if (tok == nullptr || !tok->is_string() || tok->get_string().empty())
            return make_error(
                "Unauthorized",
                "the token server " + realm + " sent no token; is the realm URL right?"
            );
        auth_by_scope[scope] = "Bearer " + std::string(tok->get_string());
        return {};
    }

    /// Sends with the scope's credentials, answers one 401 challenge, and follows
    /// redirects of GET/HEAD without credentials to other hosts.
    result<http::response> send(http::request req, const std::string& scope, const std::string& what) {
        for (int attempt = 0;; ++attempt) {
            http::request r = req;
            if (const auto a = authorization(scope); !a.empty())
                http::set_header(r.headers, "Authorization", a);
            auto resp = client.send(r);
            if (!resp) return resp.error().wrap(what);
            for (int hops = 0; is_redirect(resp->status) && (r.method == "GET" || r.method == "HEAD") &&
                               hops < max_redirects;
                 ++hops) {
                const auto loc = resp->header("Location");
                if (!loc) break;
                const std::string next = resolve_location(r.url, *loc);
                if (url_host(next) != url_host(r.url)) http::remove_header(r.headers, "Authorization");
                r.url = next;
                resp = client.send(r);
                if (!resp) return resp.error().wrap(what);
            }
            if (resp->status == 401 && attempt == 0) {
                if (auto a = authenticate(*resp, scope, what); !a) return a.error();
                continue;
            }
            return resp;
        }
    }

    std::string blob_url(std::string_view repo, std::string_view digest) const {
        return base + "/v2/" + std::string(repo) + "/blobs/" + std::string(digest);
    }

    /// One blob being downloaded: where it goes and what it must hash to.
    struct download {
        const descriptor* blob = nullptr;
        std::string url;
        bool send_auth = true;
        fs::path temp;
        std::FILE* file = nullptr;
        crypto::sha256 hash;
        std::uint64_t received = 0;
        bool too_big = false;
        bool write_failed = false;
        void close() {
            if (file != nullptr) std::fclose(file);
            file = nullptr;
        }
    };

    result<void> download_blobs(std::string_view repo, std::span<const descriptor> blobs, const store& dest) {
        const std::string scope = pull_scope(repo);
        std::vector<std::unique_ptr<download>> pending;
        for (const auto& b : blobs) {
            if (dest.has_blob(b.digest, b.size)) continue;
            if (std::any_of(pending.begin(), pending.end(), [&](const auto& p) {
                    return p->blob->digest == b.digest;
                }))
                continue;
            auto d = std::make_unique<download>();
            d->blob = &b;
            d->url = blob_url(repo, b.digest);
            pending.push_back(std::move(d));
        }
        if (pending.empty()) return {};
        if (authorization(scope).empty()) {
            // Authenticate once up front, so the parallel round starts with a token.
            http::request head{"HEAD", pending.front()->url, {}, {}, {}};
            auto r = send(head, scope, "HEAD " + head.url);
            if (!r) return r.error();
        }
        std::optional<error> last_error;
        for (int round = 0; round < download_rounds + max_redirects && !pending.empty(); ++round) {
            std::vector<http::transfer> batch;
            for (auto& d : pending) {
                auto temp = dest.temp_path(d->blob->digest);
                if (!temp) return temp.error();
                d->temp = *temp;
                d->file = std::fopen(d->temp.c_str(), "wb");
                if (d->file == nullptr)
                    return make_error(
                        "LocalIOError",
                        "cannot create '" + d->temp.string() + "'; check the image store's permissions"
                    );
                d->hash = crypto::sha256();
                d->received = 0;
                d->too_big = false;
                http::transfer t;
                t.req.url = d->url;
                if (d->send_auth) {
                    if (const auto a = authorization(scope); !a.empty())
                        t.req.headers.emplace_back("Authorization", a);
                }
                download* st = d.get();
                const auto& progress = opts.on_progress;
                t.to_sink = [st, &progress](std::string_view chunk) {
                    if (st->received + chunk.size() > st->blob->size) {
                        st->too_big = true;
                        return false;
                    }
                    if (std::fwrite(chunk.data(), 1, chunk.size(), st->file) != chunk.size()) {
                        st->write_failed = true;
                        return false;
                    }
                    st->hash.update(chunk);
                    st->received += chunk.size();
                    if (progress) progress({st->blob->digest, st->received, st->blob->size});
                    return true;
                };
                batch.push_back(std::move(t));
            }
            auto results = client.send_all(batch, opts.parallel_downloads);
            std::vector<std::unique_ptr<download>> again;
            bool reauth = false;
            for (std::size_t i = 0; i < pending.size(); ++i) {
                auto& d = *pending[i];
                const bool flushed = d.file != nullptr && std::fflush(d.file) == 0;
                d.close();
                const std::string what = "GET " + d.url + " (blob " + d.blob->digest + " of " + registry +
                                         "/" + std::string(repo) + ")";
                const auto discard = [&] {
                    std::error_code ec;
                    fs::remove(d.temp, ec);
                };
                auto& r = results[i];
                if (d.too_big) {
                    discard();
                    return make_error(
                        "BlobSizeMismatch",
                        what + ": the registry sent more than the " + std::to_string(d.blob->size) +
                            " bytes the manifest promises; the registry or the image is corrupt, nothing was "
                            "stored"
                    );
                }
                if (d.write_failed || (!flushed && r)) {
                    discard();
                    return make_error(
                        "LocalIOError",
                        "cannot write '" + d.temp.string() + "'; check free space of the image store"
                    );
                }
                if (!r) {
                    discard();
                    if (!r.error().retryable) return r.error().wrap(what);
                    last_error = r.error().wrap(what);
                    again.push_back(std::move(pending[i]));
                    continue;
                }
                if (is_redirect(r->status)) {
                    discard();
                    const auto loc = r->header("Location");
                    if (!loc) return status_error(*r, what, "BlobUnknown");
                    const std::string next = resolve_location(d.url, *loc);
                    if (url_host(next) != url_host(d.url)) d.send_auth = false;
                    d.url = next;
                    again.push_back(std::move(pending[i]));
                    continue;
                }
                if (r->status == 401 && !reauth) {
                    discard();
                    if (auto a = authenticate(*r, scope, what); !a) return a.error();
                    reauth = true;
                    again.push_back(std::move(pending[i]));
                    continue;
                }
                if (!ok(r->status)) {
                    discard();
                    auto e = status_error(*r, what, "BlobUnknown");
                    if (!e.retryable) return e;
                    last_error = e;
                    again.push_back(std::move(pending[i]));
                    continue;
                }
                const std::string got = "sha256:" + encoding::to_hex(d.hash.finish());
                if (d.received != d.blob->size) {
                    discard();
                    return make_error(
                        "BlobSizeMismatch",
                        what + ": received " + std::to_string(d.received) + " bytes, the manifest promises " +
                            std::to_string(d.blob->size) + "; nothing was stored"
                    );
                }
                if (got != d.blob->digest) {
                    discard();
                    return make_error(
                        "BlobDigestMismatch",
                        what + ": the content hashes to " + got +
                            "; the registry or the image is corrupt, nothing was stored"
                    );
                }
                if (auto c = dest.commit_blob(d.temp, d.blob->digest); !c) return c.error();
            }
            pending = std::move(again);
        }
        if (!pending.empty()) {
            return last_error ? *last_error
                              : make_error(
                                    "RegistryError",
                                    "GET " + pending.front()->url + ": too many redirects or retries"
                                );
        }
        return {};
    }
};

registry_client::registry_client(std::string registry, registry_options opts)
    : impl_(std::make_unique<impl>(std::move(registry), std::move(opts))) {}
registry_client::~registry_client() = default;
registry_client::registry_client(registry_client&&) noexcept = default;
registry_client& registry_client::operator=(registry_client&&) noexcept = default;

const std::string& registry_client::base_url() const noexcept {
    return impl_->base;
}

result<fetched_manifest> registry_client::get_manifest(std::string_view repository, std::string_view ref) {
    http::request req;
    req.url = impl_->base + "/v2/" + std::string(repository) + "/manifests/" + std::string(ref);
    req.headers.emplace_back("Accept", std::string(media_type::accept_all));
    const std::string what = "GET " + req.url;
    auto resp = impl_->send(req, impl::pull_scope(repository), what);
    if (!resp) return resp.error();
    if (!ok(resp->status)) return status_error(*resp, what, "ManifestUnknown");
    fetched_manifest out;
    out.digest = sha256_digest_of(resp->body).str();
    if (ref.starts_with("sha256:") && out.digest != ref) {
        return make_error(
            "BlobDigestMismatch",
            what + ": the manifest hashes to " + out.digest +
                ", not the digest asked for; the registry is corrupt or lying"
        );
    }
    out.media_type =
        std::string(encoding::trim(resp->header("Content-Type")
                                       .value_or("")
                                       .substr(0, resp->header("Content-Type").value_or("").find(';'))));
    out.body = std::move(resp->body);
    return out;
}

result<std::string> registry_client::get_blob(std::string_view repository, const descriptor& blob) {
    http::request req;
    req.url = impl_->blob_url(repository, blob.digest);
    const std::string what = "GET " + req.url;
    auto resp = impl_->send(req, impl::pull_scope(repository), what);
    if (!resp) return resp.error();
    if (!ok(resp->status)) return status_error(*resp, what, "BlobUnknown");
    if (resp->body.size() != blob.size)
        return make_error(
            "BlobSizeMismatch",
            what + ": received " + std::to_string(resp->body.size()) + " bytes, expected " +
                std::to_string(blob.size)
        );
    if (sha256_digest_of(resp->body).str() != blob.digest)
        return make_error(
            "BlobDigestMismatch",
            what + ": the content does not match its digest; the registry is corrupt or lying"
        );
    return std::move(resp->body);
}

result<void> registry_client::download_blobs(
    std::string_view repository,
    std::span<const descriptor> blobs,
    const store& dest
) {
    return impl_->download_blobs(repository, blobs, dest);
}

result<std::optional<std::uint64_t>> registry_client::blob_size(
    std::string_view repository,
    std::string_view digest
) {
    http::request req{"HEAD", impl_->blob_url(repository, digest), {}, {}, {}};
    auto resp = impl_->send(req, impl::push_scope(repository), "HEAD " + req.url);
    if (!resp) return resp.error();
    if (resp->status == 404) return std::optional<std::uint64_t>{};
    if (!ok(resp->status)) return status_error(*resp, "HEAD " + req.url, "BlobUnknown");
    std::uint64_t size = 0;
    if (const auto len = resp->header("Content-Length"))
        size = std::strtoull(std::string(*len).c_str(), nullptr, 10);
    return std::optional<std::uint64_t>{size};
}

result<bool> registry_client::mount_blob(
    std::string_view repository,
    std::string_view digest,
    std::string_view from
) {
    auto& m = *impl_;
    if (from == repository) {
        auto present = blob_size(repository, digest);
        if (!present) return present.error();
        return present->has_value();
    }
    const std::string scope = impl::push_scope(repository) + " " + impl::pull_scope(from);
    http::request req;
    req.method = "POST";
    req.url = m.base + "/v2/" + std::string(repository) +
              "/blobs/uploads/?mount=" + encoding::uri_encode(digest) +
              "&from=" + encoding::uri_encode(from, true);
    const std::string what = "mounting blob " + std::string(digest) + " from " + std::string(from) +
                             " into " + m.registry + "/" + std::string(repository);
    auto resp = m.send(req, scope, what);
    if (!resp) return resp.error();
    if (resp->status == 201) return true;
    if (resp->status != 202) return status_error(*resp, what, "NameUnknown");
    // Declined: the registry opened an ordinary upload instead; cancel it.
    if (const auto loc = resp->header("Location")) {
        http::request cancel{"DELETE", resolve_location(req.url, *loc), {}, {}, {}};
        (void)m.send(cancel, scope, what);
    }
    return false;
}

result<bool> registry_client::upload_blob(
    std::string_view repository,
    std::string_view digest,
    const fs::path& path,
    std::uint64_t size
) {
    auto& m = *impl_;
    const std::string scope = impl::push_scope(repository);
    auto present = blob_size(repository, digest);
    if (!present) return present.error();
    if (*present) return false;

    http::request start;
    start.method = "POST";
    start.url = m.base + "/v2/" + std::string(repository) + "/blobs/uploads/";
    const std::string what =
        "uploading blob " + std::string(digest) + " to " + m.registry + "/" + std::string(repository);
    auto resp = m.send(start, scope, what);
    if (!resp) return resp.error();
    if (resp->status != 202) return status_error(*resp, what + " (POST " + start.url + ")", "NameUnknown");
    auto loc = resp->header("Location");
    if (!loc)
        return make_error("RegistryError", what + ": the registry started an upload without a Location");
    std::string location = resolve_location(start.url, *loc);

    const auto with_query = [](const std::string& url, const std::string& q) {
        return url + (url.find('?') == std::string::npos ? "?" : "&") + q;
    };
    std::uint64_t offset = 0;
    if (m.opts.chunk_size > 0 && size > m.opts.chunk_size) {
        while (offset < size) {
            const std::uint64_t n = std::min(m.opts.chunk_size, size - offset);
            http::request patch;
            patch.method = "PATCH";
            patch.url = location;
            patch.body_file = http::file_body{path, offset, n};
            patch.headers.emplace_back("Content-Type", "application/octet-stream");
            patch.headers.emplace_back(
                "Content-Range",
                std::to_string(offset) + "-" + std::to_string(offset + n - 1)
            );
            auto pr = m.send(patch, scope, what);
            if (!pr) return pr.error();
            if (pr->status != 202)
                return status_error(
                    *pr,
                    what + " (PATCH at byte " + std::to_string(offset) + ")",
                    "BlobUnknown"
                );
            if (const auto l = pr->header("Location")) location = resolve_location(location, *l);
            offset += n;
            if (m.opts.on_progress) m.opts.on_progress({std::string(digest), offset, size});
        }
    }
    http::request put;
    put.method = "PUT";
    put.url = with_query(location, "digest=" + encoding::uri_encode(digest));
    put.headers.emplace_back("Content-Type", "application/octet-stream");
    if (offset == 0) put.body_file = http::file_body{path, 0, size};
    auto pr = m.send(put, scope, what);
    if (!pr) return pr.error();
    if (!ok(pr->status)) return status_error(*pr, what + " (PUT)", "BlobUnknown");
    if (m.opts.on_progress) m.opts.on_progress({std::string(digest), size, size});
    return true;
}

result<std::string> registry_client::put_manifest(
    std::string_view repository,
    std::string_view ref,
    std::string_view body,
    std::string_view media_type
) {
    http::request req;
    req.method = "PUT";
    req.url = impl_->base + "/v2/" + std::string(repository) + "/manifests/" + std::string(ref);
    req.body = std::string(body);
    req.headers.emplace_back("Content-Type", std::string(media_type));
    const std::string what = "PUT " + req.url;
    auto resp = impl_->send(req, impl::push_scope(repository), what);
    if (!resp) return resp.error();
    if (!ok(resp->status)) return status_error(*resp, what, "NameUnknown");
    return sha256_digest_of(body).str();
}

}  // namespace scar::image
