// Against Debian's docker-registry on loopback: build an image from a busybox rootfs,
// push it (monolithic and chunked), pull it back and compare the trees; build on top of
// it (cross-repository mount, whiteouts); pull the same image from many threads at once.

#include <scar/image.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "layer_builder.hpp"
#include "registry_process.hpp"
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace img = scar::image;
using img::testing::local_registry;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::set<std::string> tree(const fs::path& root) {
    std::set<std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        auto rel = it->path().lexically_relative(root).string();
        if (it->is_symlink()) {
            rel += " -> " + fs::read_symlink(it->path()).string();
        } else if (it->is_directory()) {
            rel += "/";
        }
        out.insert(rel);
    }
    return out;
}

class DockerRegistry : public ::testing::Test {
protected:
    void SetUp() override {
        if (::access(img::testing::docker_registry_bin, X_OK) != 0)
            GTEST_SKIP() << "needs /usr/bin/docker-registry (apt-get install docker-registry)";
        if (::access(img::testing::busybox_bin, R_OK) != 0)
            GTEST_SKIP() << "needs /usr/bin/busybox (apt-get install busybox-static)";
        registry = std::make_unique<local_registry>(work.path());
        img::testing::make_busybox_rootfs(rootfs_src);
        opts.auth.use_docker_config = false;
    }
    img::reference ref(const std::string& repo_tag) const {
        return img::parse_reference(registry->host() + "/" + repo_tag).value();
    }

    img::built_image build_busybox(const std::string& repo_tag) {
        img::build_request req;
        req.layers = {rootfs_src};
        req.layer.mtime = 1'700'000'000;
        req.changes.entrypoint = std::vector<std::string>{"/bin/sh"};
        req.changes.cmd = std::vector<std::string>{"-c", "echo hello"};
        req.changes.env = {"PATH=/bin"};
        req.changes.working_dir = "/tmp";
        req.target = ref(repo_tag);
        auto built = img::build_image(req, build_store, opts);
        if (!built) ADD_FAILURE() << built.error().message;
        return built.value();
    }

    scar::testing::temp_dir work{"scar-image-it"};
    fs::path rootfs_src = work.path() / "busybox-rootfs";
    std::unique_ptr<local_registry> registry;
    img::registry_options opts;
    img::store build_store{work.path() / "build-store"};
    img::store pull_store{work.path() / "pull-store"};
};

TEST_F(DockerRegistry, BusyboxBuildPushPullRoundTrip) {
    const auto built = build_busybox("test/busybox:1");
    img::pull_options po;
    po.registry = opts;
    auto pulled = img::pull(ref("test/busybox:1"), pull_store, po);
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->image.manifest_digest, built.manifest_digest);
    EXPECT_EQ(tree(pulled->rootfs), tree(rootfs_src));
    EXPECT_EQ(slurp(pulled->rootfs / "bin/busybox"), slurp(img::testing::busybox_bin));
    struct stat st {};
    ASSERT_EQ(::stat((pulled->rootfs / "bin/busybox").c_str(), &st), 0);
    EXPECT_NE(st.st_mode & S_IXUSR, 0U);
    EXPECT_EQ(st.st_mtim.tv_sec, 1'700'000'000);
    ASSERT_EQ(::stat((pulled->rootfs / "tmp").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 01777U);
    const auto& cfg = pulled->image.config.config;
    EXPECT_EQ(cfg.entrypoint, std::vector<std::string>{"/bin/sh"});
    EXPECT_EQ(cfg.cmd, (std::vector<std::string>{"-c", "echo hello"}));
    EXPECT_EQ(cfg.env, std::vector<std::string>{"PATH=/bin"});
    EXPECT_EQ(cfg.working_dir, "/tmp");
    EXPECT_EQ(pulled->image.config.diff_ids.size(), 1U);
    // The extracted busybox runs.
    auto run =
        scar::testing::run({{(pulled->rootfs / "bin/busybox").string(), "echo", "ok"}, {}, {}, {}, {}});
    EXPECT_EQ(run.out, "ok\n");
}

TEST_F(DockerRegistry, ChunkedUploadAndBaseImageWithMountAndWhiteouts) {
    opts.chunk_size = 256 * 1024;  // busybox is ~2 MB: several PATCHes
    const auto base = build_busybox("test/base:1");
    // A layer that deletes /bin/cat and adds a file, as a tar with a whiteout.
    const auto layer = work.path() / "extra.tar";
    img::testing::write_layer(
        layer,
        {img::testing::file("bin/.wh.cat", ""),
         img::testing::dir("opt"),
         img::testing::file("opt/app.txt", "app\n")},
        img::testing::layer_compression::none
    );
    img::build_request req;
    req.base = ref("test/base:1");
    req.layers = {layer};
    req.layer.compression = img::compression::zstd;
    req.changes.cmd = std::vector<std::string>{"cat", "/opt/app.txt"};
    req.target = ref("test/app:2");
    auto built = img::build_image(req, build_store, opts);
    ASSERT_TRUE(built) << built.error().message;
    ASSERT_EQ(built->manifest.layers.size(), 2U);
    EXPECT_EQ(built->manifest.layers[0].digest, base.manifest.layers[0].digest);
    EXPECT_EQ(built->manifest.layers[1].media_type, img::media_type::oci_layer_zstd);

    img::registry_client client(registry->host(), opts);
    EXPECT_TRUE(client.blob_size("test/app", base.manifest.layers[0].digest).value().has_value());

    img::pull_options po;
    po.registry = opts;
    auto pulled = img::pull(ref("test/app:2"), pull_store, po);
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_FALSE(fs::exists(fs::symlink_status(pulled->rootfs / "bin/cat")));
    EXPECT_TRUE(fs::is_symlink(pulled->rootfs / "bin/ls"));
    EXPECT_EQ(slurp(pulled->rootfs / "opt/app.txt"), "app\n");
    EXPECT_EQ(pulled->image.config.config.entrypoint, std::vector<std::string>{"/bin/sh"});  // inherited
    EXPECT_EQ(pulled->image.config.config.cmd, (std::vector<std::string>{"cat", "/opt/app.txt"}));
    EXPECT_EQ(pulled->image.config.diff_ids.size(), 2U);
}

TEST_F(DockerRegistry, ConcurrentPullsOfTheSameImage) {
    build_busybox("test/busybox:c");
    constexpr int n = 4;
    std::vector<scar::result<img::pulled_image>> results(n, scar::make_error("NotRun", "thread did not run"));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            img::pull_options po;
            po.registry = opts;
            results[static_cast<std::size_t>(i)] = img::pull(ref("test/busybox:c"), pull_store, po);
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& r : results) {
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->rootfs, results[0]->rootfs);
    }
    EXPECT_EQ(tree(results[0]->rootfs), tree(rootfs_src));
    EXPECT_TRUE(fs::is_empty(pull_store.root() / "tmp"));  // the losers cleaned up
}

TEST_F(DockerRegistry, MissingImageAndPushWithoutBase) {
    img::pull_options po;
    po.registry = opts;
    auto r = img::pull(ref("test/none:1"), pull_store, po);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().code == "NameUnknown" || r.error().code == "ManifestUnknown") << r.error().what();
}

}  // namespace
