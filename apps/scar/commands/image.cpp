// scar image pull | ls | inspect | rm | prune | import: container images without Docker.
// Images live in $SCAR_HOME/images (default ~/.scar/images).

#include <scar/core/aws_config.hpp>
#include <scar/core/clock.hpp>
#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>
#include <scar/image/build.hpp>
#include <scar/image/pull.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/store.hpp>
#include <scar/sandbox/container.hpp>
#include <scar/sigv4/signer.hpp>

#include <boost/json.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "../commands.hpp"

namespace scar::cli {
namespace {

namespace img = scar::image;
namespace json = boost::json;

struct image_options {
    std::string reference;
    std::string memory;
    std::string tmp_size = "512m";
    std::string timeout;
    std::vector<std::string> volumes;
    std::vector<std::string> env;
    std::string workdir;
    std::vector<std::string> command;
    std::string platform = "linux/amd64";
    std::vector<std::string> insecure;
    std::string directory;
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
};

[[noreturn]] void fail(const error& e) {
    throw aws_exception(e);
}

template <class T>
T need(result<T> r) {
    if (!r) fail(r.error());
    return std::move(*r);
}

void need(result<void> r) {
    if (!r) fail(r.error());
}

/// GetAuthorizationToken from the ECR endpoint scar is configured for (the emulator's, or
/// AWS's), for registries that need an ECR token.
result<std::string> ecr_token(std::string_view /*registry*/) {
    const auto src = aws::config_sources::from_process();
    auto creds = aws::load_credentials(src);
    if (!creds) return creds.error();
    auto region = aws::load_region(src);
    if (!region) return region.error();
    auto url = aws::endpoint_url(src, "ECR", *region);
    if (!url) return url.error();
    http::request req;
    req.method = "POST";
    req.url = *url + "/";
    req.headers = {
        {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"},
        {"Content-Type", "application/x-amz-json-1.1"}};
    req.body = "{}";
    auto p = sigv4::signing_params::make(*creds, *region, "ecr", clock::system().now());
    if (auto s = sigv4::sign(req, p); !s) return s.error();
    http::client c;
    auto r = c.send(req);
    if (!r) return r.error().wrap("ECR GetAuthorizationToken");
    if (r->status != 200)
        return make_error(
            "EcrAuthFailed",
            "ECR GetAuthorizationToken answered HTTP " + std::to_string(r->status) + ": " + r->body
        );
    boost::system::error_code ec;
    const auto doc = json::parse(r->body, ec);
    if (ec) return make_error("EcrAuthFailed", "ECR GetAuthorizationToken: the answer is not JSON");
    return std::string(doc.at("authorizationData").at(0).at("authorizationToken").as_string());
}

img::registry_options registry_opts(const image_options& o) {
    img::registry_options r;
    r.insecure_registries = o.insecure;
    r.auth.ecr_token = ecr_token;
    // The emulator's registry on AWS_ENDPOINT_URL is an ECR: it wants a token.
    if (const char* ep = std::getenv("AWS_ENDPOINT_URL"); ep != nullptr) {
        std::string host = ep;
        if (const auto s = host.find("://"); s != std::string::npos) host = host.substr(s + 3);
        if (const auto slash = host.find('/'); slash != std::string::npos) host.resize(slash);
        r.auth.ecr_registries.push_back(host);
    }
    return r;
}

img::platform parse_platform(const std::string& text) {
    img::platform p;
    const auto a = text.find('/');
    if (a == std::string::npos)
        fail(make_error(
            "InvalidPlatform",
            "--platform takes os/arch[/variant], e.g. linux/arm64, not '" + text + "'"
        ));
    p.os = text.substr(0, a);
    const auto b = text.find('/', a + 1);
    p.architecture = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    if (b != std::string::npos) p.variant = text.substr(b + 1);
    return p;
}

int pull(const image_options& o) {
    const auto ref = need(img::parse_reference(o.reference));
    img::store st;
    img::pull_options po;
    po.registry = registry_opts(o);
    po.platform = parse_platform(o.platform);
    const auto t0 = std::chrono::steady_clock::now();
    const auto pulled = need(img::pull(ref, st, po));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::cout << ref.str() << "\n  digest  " << pulled.image.manifest_digest << "\n  rootfs  "
              << pulled.rootfs.string() << (pulled.rootfs_was_cached ? " (already unpacked)" : "")
              << "\n  layers  " << pulled.image.manifest.layers.size() << "\n  time    "
              << static_cast<long>(ms) << " ms\n";
    return 0;
}

int list() {
    img::store st;
    auto refs = st.list_refs();
    std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) {
        return a.first.str() < b.first.str();
    });
    std::printf("%-60s %-19s %s\n", "REFERENCE", "DIGEST", "UNPACKED");
    for (const auto& [ref, digest] : refs) {
        const bool unpacked = std::filesystem::exists(st.rootfs_path(digest));
        std::printf(
            "%-60s %-19s %s\n",
            ref.str().c_str(),
            digest.substr(0, 19).c_str(),
            unpacked ? "yes" : "no"
        );
    }
    if (refs.empty()) std::printf("(no images; scar image pull REF fetches one)\n");
    return 0;
}

int inspect(const image_options& o) {
    const auto ref = need(img::parse_reference(o.reference));
    img::store st;
    const auto digest = st.get_ref(ref);
    if (!digest)
        fail(make_error(
            "ImageNotFound",
            ref.str() + " is not in the local store; scar image pull " + o.reference
        ));
    const auto doc = need(img::parse_manifest_document(need(st.read_blob(*digest))));
    const auto* m = std::get_if<img::manifest>(&doc);
    if (m == nullptr)
        fail(make_error("ImageNotFound", ref.str() + " names an index; pull it for a platform first"));
    const auto cfg = need(img::parse_image_config(need(st.read_blob(m->config.digest))));
    const auto strings = [](const std::vector<std::string>& v) {
        json::array a;
        for (const auto& s : v) a.emplace_back(s);
        return a;
    };
    json::array layers;
    for (const auto& l : m->layers)
        layers.push_back(json::object{{"digest", l.digest}, {"size", l.size}, {"mediaType", l.media_type}});
    const json::object out{
        {"reference", ref.str()},
        {"digest", *digest},
        {"platform", cfg.os + "/" + cfg.architecture + (cfg.variant.empty() ? "" : "/" + cfg.variant)},
        {"entrypoint", strings(cfg.config.entrypoint)},
        {"cmd", strings(cfg.config.cmd)},
        {"env", strings(cfg.config.env)},
        {"workingDir", cfg.config.working_dir},
        {"user", cfg.config.user},
        {"layers", layers},
        {"rootfs", std::filesystem::exists(st.rootfs_path(*digest)) ? st.rootfs_path(*digest).string() : ""}};
    std::cout << json::serialize(out) << "\n";
    return 0;
}

int remove(const image_options& o) {
    const auto ref = need(img::parse_reference(o.reference));
    img::store st;
    const auto digest = st.get_ref(ref);
    if (!digest)
        fail(make_error("ImageNotFound", ref.str() + " is not in the local store (scar image ls lists them)")
        );
    need(st.remove_ref(ref));
    bool still_used = false;
    for (const auto& [other, d] : st.list_refs()) still_used = still_used || d == *digest;
    if (!still_used) need(st.remove_rootfs(*digest));
    std::cout << "removed " << ref.str() << (still_used ? " (its image is still tagged otherwise)" : "")
              << "; scar image prune frees the blobs\n";
    return 0;
}

int prune() {
    img::store st;
    const auto stats = need(st.prune());
    std::cout << "removed " << stats.rootfs << " unpacked images and " << stats.blobs << " blobs ("
              << stats.bytes / (1024 * 1024) << " MiB)\n";
    return 0;
}

/// "512m", "1g", "64k", "1048576" → bytes (binary units, as docker run takes them).
std::uint64_t parse_size(const std::string& text, const char* flag) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string unit = text.substr(used);
    for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!unit.empty() && unit.back() == 'b') unit.pop_back();
    if (!unit.empty() && unit.back() == 'i') unit.pop_back();
    double mult = 1;
    if (unit == "k")
        mult = 1024;
    else if (unit == "m")
        mult = 1024.0 * 1024;
    else if (unit == "g")
        mult = 1024.0 * 1024 * 1024;
    else if (!unit.empty())
        used = 0;
    if (used == 0 || v <= 0) {
        fail(make_error(
            "InvalidArgument",
            std::string(flag) + " takes a size such as 512m or 1g, not '" + text + "'"
        ));
    }
    return static_cast<std::uint64_t>(v * mult);
}

/// "30", "30s", "5m", "1h" → duration.
std::chrono::milliseconds parse_duration(const std::string& text) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    const std::string unit = text.substr(used);
    double secs = v;
    if (unit == "m")
        secs = v * 60;
    else if (unit == "h")
        secs = v * 3600;
    else if (unit == "ms")
        secs = v / 1000;
    else if (!unit.empty() && unit != "s")
        used = 0;
    if (used == 0 || v <= 0)
        fail(make_error("InvalidArgument", "--timeout takes a duration such as 30s or 5m, not '" + text + "'")
        );
    return std::chrono::milliseconds(static_cast<std::int64_t>(secs * 1000));
}

int run_image(const image_options& o) {
    if (auto ok = sandbox::check_available(); !ok) fail(ok.error());
    const auto ref = need(img::parse_reference(o.reference));
    img::store st;
    std::filesystem::path rootfs;
    img::image_config cfg;
    // Pull only what is missing: a tag already unpacked starts at once.
    if (const auto digest = st.get_ref(ref); digest && std::filesystem::exists(st.rootfs_path(*digest))) {
        rootfs = st.rootfs_path(*digest);
        const auto doc = need(img::parse_manifest_document(need(st.read_blob(*digest))));
        if (const auto* m = std::get_if<img::manifest>(&doc))
            cfg = need(img::parse_image_config(need(st.read_blob(m->config.digest))));
    }
    if (rootfs.empty()) {
        img::pull_options po;
        po.registry = registry_opts(o);
        po.platform = parse_platform(o.platform);
        const auto pulled = need(img::pull(ref, st, po));
        rootfs = pulled.rootfs;
        cfg = pulled.image.config;
    }
    sandbox::spec spec;
    spec.rootfs = rootfs;
    spec.argv = cfg.config.entrypoint;
    const auto& cmd = o.command.empty() ? cfg.config.cmd : o.command;
    spec.argv.insert(spec.argv.end(), cmd.begin(), cmd.end());
    if (spec.argv.empty())
        fail(make_error("InvalidArgument", ref.str() + " has no ENTRYPOINT or CMD: give a command after --"));
    std::map<std::string, std::string> env{
        {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}};
    for (const auto& list : {cfg.config.env, o.env}) {
        for (const auto& e : list) {
            const auto eq = e.find('=');
            if (eq == std::string::npos)
                fail(make_error("InvalidArgument", "-e takes NAME=value, not '" + e + "'"));
            env[e.substr(0, eq)] = e.substr(eq + 1);
        }
    }
    for (const auto& [k, v] : env) spec.env.push_back(k + "=" + v);
    spec.cwd =
        !o.workdir.empty() ? o.workdir : (cfg.config.working_dir.empty() ? "/" : cfg.config.working_dir);
    for (const auto& v : o.volumes) {
        const auto a = v.find(':');
        if (a == std::string::npos || a == 0)
            fail(make_error("InvalidArgument", "-v takes HOST:CONTAINER[:ro], not '" + v + "'"));
        const auto b = v.find(':', a + 1);
        sandbox::bind_mount m;
        m.host = std::filesystem::absolute(v.substr(0, a));
        m.container = v.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
        m.read_only = b != std::string::npos && v.substr(b + 1) == "ro";
        if (!std::filesystem::exists(m.host))
            fail(make_error("InvalidArgument", "-v: '" + m.host.string() + "' does not exist"));
        spec.mounts.push_back(std::move(m));
    }
    if (!o.memory.empty()) spec.memory_bytes = parse_size(o.memory, "--memory");
    spec.tmp_bytes = parse_size(o.tmp_size, "--tmp-size");
    if (!o.timeout.empty()) spec.timeout = parse_duration(o.timeout);
    spec.stdin_fd = 0;
    spec.stdout_sink.fd = 1;
    spec.stderr_sink.fd = 2;
    const auto out = need(sandbox::run(spec));
    switch (out.how) {
        case sandbox::outcome::ending::exited:
            return out.exit_code;
        case sandbox::outcome::ending::signaled:
            return 128 + out.signal;
        case sandbox::outcome::ending::timed_out:
            std::cerr << "scar: the container ran out of time (" << o.timeout << ") and was killed\n";
            return 124;
        case sandbox::outcome::ending::out_of_memory:
            std::cerr << "scar: the container ran out of memory (" << o.memory << ") and was killed\n";
            return 137;
    }
    return 1;
}

int import(const image_options& o) {
    if (!std::filesystem::is_directory(o.directory) && !std::filesystem::is_regular_file(o.directory)) {
        fail(make_error("InvalidArgument", "'" + o.directory + "' is neither a directory nor a tar file"));
    }
    img::build_request req;
    req.layers = {o.directory};
    if (!o.entrypoint.empty()) req.changes.entrypoint = o.entrypoint;
    if (!o.cmd.empty()) req.changes.cmd = o.cmd;
    req.target = need(img::parse_reference(o.reference));
    img::store st;
    const auto built = need(img::build_image(req, st, registry_opts(o)));
    std::cout << "pushed " << req.target.str() << " " << built.manifest_digest << "\n";
    return 0;
}

}  // namespace

void add_image(CLI::App& app) {
    auto* image = app.add_subcommand("image", "container images: pull, list, inspect, remove, prune, import");
    image->require_subcommand(1);
    auto o = std::make_shared<image_options>();
    const auto common = [o](CLI::App* c) {
        c->add_option("--insecure", o->insecure, "registries (host:port) to reach over plain HTTP");
    };
    auto* p = image->add_subcommand("pull", "download and unpack an image so a later run starts at once");
    p->add_option("reference", o->reference, "e.g. ubuntu:22.04, 127.0.0.1:4566/repo:tag")->required();
    p->add_option("--platform", o->platform, "os/arch[/variant] of a multi-platform image")
        ->capture_default_str();
    common(p);
    p->final_callback([o] { std::exit(pull(*o)); });
    image->add_subcommand("ls", "images in the local store")->final_callback([] { std::exit(list()); });
    auto* i = image->add_subcommand("inspect", "an image's configuration and layers, as JSON");
    i->add_option("reference", o->reference)->required();
    i->final_callback([o] { std::exit(inspect(*o)); });
    auto* r = image->add_subcommand("rm", "forget an image (its unpacked tree too)");
    r->add_option("reference", o->reference)->required();
    r->final_callback([o] { std::exit(remove(*o)); });
    image->add_subcommand("prune", "free what no image needs any more")->final_callback([] {
        std::exit(prune());
    });
    auto* run =
        image->add_subcommand("run", "run an image's command in a sandboxed container, like docker run");
    run->add_option("reference", o->reference, "the image (pulled when not yet unpacked)")->required();
    run->add_option("command", o->command, "command and arguments instead of the image's CMD (after --)");
    run->add_option("--memory", o->memory, "memory limit, e.g. 512m (where cgroups allow)");
    run->add_option("--tmp-size", o->tmp_size, "size of /tmp, e.g. 512m")->capture_default_str();
    run->add_option("--timeout", o->timeout, "kill the container after this long, e.g. 30s or 5m");
    run->add_option("-v,--volume", o->volumes, "HOST:CONTAINER[:ro] bind mount")->allow_extra_args(false);
    run->add_option("-e,--env", o->env, "NAME=value")->allow_extra_args(false);
    run->add_option("-w,--workdir", o->workdir, "working directory inside");
    run->add_option("--platform", o->platform, "os/arch[/variant] of a multi-platform image")
        ->capture_default_str();
    common(run);
    run->final_callback([o] { std::exit(run_image(*o)); });
    auto* im = image->add_subcommand("import", "push a directory or tar file as a one-layer image");
    im->add_option("source", o->directory, "directory or tar file")->required();
    im->add_option("reference", o->reference, "where to push it, e.g. 127.0.0.1:4566/repo:tag")->required();
    im->add_option("--entrypoint", o->entrypoint, "the image's ENTRYPOINT");
    im->add_option("--cmd", o->cmd, "the image's CMD");
    common(im);
    im->final_callback([o] { std::exit(import(*o)); });
}

}  // namespace scar::cli
