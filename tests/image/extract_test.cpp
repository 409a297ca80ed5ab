#include "scar/image/extract.hpp"

#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "layer_builder.hpp"
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace img = scar::image;
using img::testing::dir;
using img::testing::file;
using img::testing::hardlink;
using img::testing::layer_compression;
using img::testing::layer_entry;
using img::testing::symlink;
using img::testing::write_layer;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Every path below `root`, relative, with a type mark: "a/", "a/f", "l@".
std::set<std::string> tree(const fs::path& root) {
    std::set<std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        auto rel = it->path().lexically_relative(root).string();
        if (it->is_symlink()) {
            rel += "@";
        } else if (it->is_directory()) {
            rel += "/";
        }
        out.insert(rel);
    }
    return out;
}

/// A work directory holding `root/` (the rootfs) and `outside/` (what no layer may touch),
/// parameterised by whether openat2 may be used, so every case runs through both the
/// kernel's resolution and the portable walk.
class Extract : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        root = work.path() / "root";
        outside = work.path() / "outside";
        fs::create_directories(root);
        fs::create_directories(outside);
        std::ofstream(outside / "secret") << "untouched";
        opts.allow_openat2 = GetParam();
    }

    scar::result<img::extract_stats> extract(
        const std::vector<layer_entry>& entries,
        layer_compression c = layer_compression::gzip
    ) {
        const auto layer = work.path() / ("layer" + std::to_string(++n) + ".tar");
        write_layer(layer, entries, c);
        return img::extract_layer(layer, root, opts);
    }

    void expect_refused(const std::vector<layer_entry>& entries, const std::string& entry_name) {
        auto r = extract(entries);
        ASSERT_FALSE(r) << "a malicious layer was extracted";
        EXPECT_EQ(r.error().code, "LayerEscape") << r.error().message;
        EXPECT_NE(r.error().message.find("'" + entry_name + "'"), std::string::npos) << r.error().message;
        expect_outside_untouched();
    }

    void expect_outside_untouched() {
        EXPECT_EQ(tree(outside), std::set<std::string>{"secret"});
        EXPECT_EQ(slurp(outside / "secret"), "untouched");
        std::set<std::string> top;
        for (const auto& e : fs::directory_iterator(work.path())) {
            if (e.path().extension() != ".tar") top.insert(e.path().filename().string());
        }
        EXPECT_EQ(top, (std::set<std::string>{"outside", "root"}));
    }

    scar::testing::temp_dir work{"scar-extract"};
    fs::path root;
    fs::path outside;
    img::extract_options opts;
    int n = 0;
};

TEST_P(Extract, FilesDirsLinksModesTimes) {
    layer_entry exe = file("bin/tool", "#!/bin/sh\necho hi\n", 04755);
    exe.mtime = 1'234'567'890;
    auto r = extract({
        dir("bin", 0755),
        exe,
        symlink("bin/alias", "tool"),
        hardlink("bin/hard", "bin/tool"),
        dir("etc", 0700),
        file("etc/deep/nested/file", "no parent entries"),
        symlink("abs", "/etc/hostname"),
        file("empty", ""),
    });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->files, 3U);
    EXPECT_EQ(r->symlinks, 2U);
    EXPECT_EQ(r->hardlinks, 1U);
    EXPECT_EQ(slurp(root / "bin/tool"), "#!/bin/sh\necho hi\n");
    EXPECT_EQ(fs::read_symlink(root / "bin/alias"), "tool");
    EXPECT_EQ(fs::read_symlink(root / "abs"), "/etc/hostname");  // data, never followed
    EXPECT_EQ(slurp(root / "etc/deep/nested/file"), "no parent entries");
    struct stat a {
    }, b{};
    ASSERT_EQ(::stat((root / "bin/tool").c_str(), &a), 0);
    ASSERT_EQ(::stat((root / "bin/hard").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_mode & 07777, 04755U);
    EXPECT_EQ(a.st_mtim.tv_sec, 1'234'567'890);
    ASSERT_EQ(::stat((root / "etc").c_str(), &a), 0);
    EXPECT_EQ(a.st_mode & 07777, ::geteuid() == 0 ? 0700U : 0700U);
    EXPECT_EQ(a.st_mtim.tv_sec, 1'600'000'000);  // set after its children were created
    EXPECT_EQ(fs::file_size(root / "empty"), 0U);
}

TEST_P(Extract, OwnershipWhenRoot) {
    if (::geteuid() != 0) GTEST_SKIP() << "ownership is applied only when running as root";
    layer_entry owned = file("owned", "x");
    owned.uid = 1234;
    owned.gid = 4321;
    ASSERT_TRUE(extract({owned}));
    struct stat st {};
    ASSERT_EQ(::stat((root / "owned").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234U);
    EXPECT_EQ(st.st_gid, 4321U);
}

TEST_P(Extract, GzipZstdAndPlainLayers) {
    for (const auto c : {layer_compression::none, layer_compression::gzip, layer_compression::zstd}) {
        const std::string name = "f" + std::to_string(static_cast<int>(c));
        auto r = extract({file(name, std::string(100'000, 'z'))}, c);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(slurp(root / name), std::string(100'000, 'z'));
    }
}

TEST_P(Extract, WhiteoutsAndOpaqueDirectoriesAcrossThreeLayers) {
    ASSERT_TRUE(extract({
        dir("a"),
        file("a/x", "1"),
        file("a/y", "1"),
        dir("b"),
        file("b/z", "1"),
        dir("c"),
        file("c/old", "1"),
        dir("c/sub"),
        file("c/sub/deep", "1"),
        file("keep", "1"),
    }));
    // Layer 2: hide a/x and b entirely; make c opaque but add c/new and c/sub/mine in the
    // same layer, before and after the marker (both orders occur in the wild).
    auto r = extract({
        file("a/.wh.x", ""),
        file(".wh.b", ""),
        file("c/new", "2"),
        file("c/.wh..wh..opq", ""),
        file("c/sub/mine", "2"),
        file(".wh.never-existed", ""),
    });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->whiteouts, 4U);
    // Layer 3: b comes back as a file; a/y is replaced by a directory.
    ASSERT_TRUE(extract({file("b", "3"), dir("a/y"), file("a/y/in", "3")}));
    EXPECT_EQ(
        tree(root),
        (std::set<std::string>{"a/", "a/y/", "a/y/in", "b", "c/", "c/new", "c/sub/", "c/sub/mine", "keep"})
    );
    EXPECT_EQ(slurp(root / "b"), "3");
}

TEST_P(Extract, DuplicateEntriesLastOneWins) {
    ASSERT_TRUE(extract({file("f", "first"), file("f", "second"), symlink("l", "x"), file("l", "now a file")})
    );
    EXPECT_EQ(slurp(root / "f"), "second");
    EXPECT_FALSE(fs::is_symlink(root / "l"));
    EXPECT_EQ(slurp(root / "l"), "now a file");
}

// --- The malicious-layer suite: each layer fails, naming the entry, and nothing outside
// --- the rootfs changes.

TEST_P(Extract, RefusesDotDot) {
    expect_refused({file("../outside/x", "pwned")}, "../outside/x");
    expect_refused({file("a/../../outside/x", "pwned")}, "a/../../outside/x");
}

TEST_P(Extract, RefusesAbsolutePaths) {
    const std::string target = (outside / "abs").string();
    expect_refused({file(target, "pwned")}, target);
    expect_refused({file("/etc/scar-escape-test", "pwned")}, "/etc/scar-escape-test");
    EXPECT_FALSE(fs::exists("/etc/scar-escape-test"));
}

TEST_P(Extract, RefusesWritingThroughSymlinkToRoot) {
    expect_refused({symlink("a", "/"), file("a/etc/scar-escape-test", "pwned")}, "a/etc/scar-escape-test");
    EXPECT_FALSE(fs::exists("/etc/scar-escape-test"));
}

TEST_P(Extract, RefusesDotDotSymlinkChains) {
    expect_refused(
        {dir("d"),
         symlink("d/up", ".."),
         symlink("d/up2", "up/.."),
         symlink("d/up3", "up2/../outside"),
         file("d/up3/x", "pwned")},
        "d/up3/x"
    );
}

TEST_P(Extract, RefusesSymlinkedParentFromEarlierLayer) {
    ASSERT_TRUE(extract({symlink("evil", outside.string()), symlink("rel", "../outside")}));
    expect_refused({file("evil/pwned", "x")}, "evil/pwned");
    expect_refused({file("rel/pwned", "x")}, "rel/pwned");
    expect_refused({file("evil/.wh.secret", "")}, "evil/.wh.secret");  // a whiteout outside
}

TEST_P(Extract, RefusesHardlinksOutside) {
    expect_refused({hardlink("passwd", "/etc/passwd")}, "passwd");
    expect_refused({hardlink("secret", "../outside/secret")}, "secret");
    expect_refused({symlink("s", outside.string()), hardlink("h", "s/secret")}, "h");
    expect_refused({file(".wh..", "")}, ".wh..");
}

TEST_P(Extract, ReplacingASymlinkNeverWritesThroughIt) {
    ASSERT_TRUE(extract({symlink("f", (outside / "secret").string())}));
    ASSERT_TRUE(extract({file("f", "inside")}));
    EXPECT_EQ(slurp(root / "f"), "inside");
    expect_outside_untouched();
}

TEST_P(Extract, ContainPolicyResolvesInsideTheRoot) {
    opts.symlinks = img::symlink_policy::contain;
    auto r = extract(
        {dir("etc"),
         dir("run"),
         dir("var"),
         symlink("var/run", "/run"),
         file("var/run/pid", "1"),
         symlink("a", "/"),
         file("a/etc/x", "in")}
    );
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(slurp(root / "run/pid"), "1");
    EXPECT_EQ(slurp(root / "etc/x"), "in");
    expect_outside_untouched();
}

TEST_P(Extract, DeviceNodesSkippedWhenUnprivileged) {
    opts.create_devices = false;
    layer_entry dev{"dev/null", 'c', {}, 0666};
    auto r = extract({dir("dev"), dev, {"dev/fifo", 'p', {}, 0600}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->skipped_devices, 1U);
    EXPECT_FALSE(fs::exists(fs::symlink_status(root / "dev/null")));
    EXPECT_TRUE(fs::is_fifo(root / "dev/fifo"));
}

TEST_P(Extract, DeviceNodesCreatedWhenRoot) {
    if (::geteuid() != 0) GTEST_SKIP() << "creating device nodes needs root";
    opts.create_devices = true;
    auto r = extract({layer_entry{"null", 'c', {}, 0666}});
    if (!r && r.error().message.find("Operation not permitted") != std::string::npos)
        GTEST_SKIP() << "mknod is denied here (container without CAP_MKNOD)";
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(fs::is_character_file(root / "null"));
}

TEST_P(Extract, HugeNamesAreInvalid) {
    auto r = extract({file(std::string(300, 'n'), "x")});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "LayerEscape");  // a component over 255 bytes
    std::string deep;
    for (int i = 0; i < 50; ++i) deep += std::string(100, 'd') + "/";
    r = extract({file(deep + "f", "x")});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "LayerInvalid");
    EXPECT_NE(r.error().message.find("4096"), std::string::npos);
    expect_outside_untouched();
}

TEST_P(Extract, TruncatedGzipIsInvalid) {
    const auto layer = work.path() / "whole.tar";
    write_layer(layer, {file("big", std::string(1 << 20, 'q'))});
    const std::string bytes = slurp(layer);
    const auto cut = work.path() / "cut.tar";
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    auto r = img::extract_layer(cut, root, opts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "LayerInvalid") << r.error().message;
    std::ofstream(work.path() / "junk.tar", std::ios::binary)
        << "this is not a tar archive at all, just text";
    r = img::extract_layer(work.path() / "junk.tar", root, opts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "LayerInvalid");
}

INSTANTIATE_TEST_SUITE_P(
    Resolution,
    Extract,
    ::testing::Values(true, false),
    [](const ::testing::TestParamInfo<bool>& i) {
        return i.param ? std::string("openat2") : std::string("walk");
    }
);

}  // namespace
