// Output files: listing (subfolders, links), SCAR's prefix/suffix filters, keys.

#include "scar/supervisor/output.hpp"

#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace {

namespace sv = scar::supervisor;
namespace fs = std::filesystem;

scar::config::storage_path out(
    std::string bucket,
    std::string folder,
    std::vector<std::string> prefixes = {},
    std::vector<std::string> suffixes = {}
) {
    scar::config::storage_path p;
    p.bucket = std::move(bucket);
    p.folder = std::move(folder);
    p.prefixes = std::move(prefixes);
    p.suffixes = std::move(suffixes);
    return p;
}

TEST(Output, ListsFilesRecursivelyWithRelativeNames) {
    scar::testing::temp_dir dir("scar-sv-out");
    fs::create_directories(dir.path() / "masks" / "deep");
    fs::create_directories(dir.path() / "empty");
    std::ofstream(dir.path() / "b.txt") << "bb";
    std::ofstream(dir.path() / "masks" / "a.png") << "a";
    std::ofstream(dir.path() / "masks" / "deep" / "c.json") << "{}";
    fs::create_symlink(dir.path() / "b.txt", dir.path() / "link.txt");
    fs::create_symlink(dir.path() / "masks", dir.path() / "dirlink");
    fs::create_symlink(dir.path() / "gone", dir.path() / "dangling");
    const auto files = sv::list_output_files(dir.path()).value();
    std::vector<std::string> names;
    for (const auto& f : files) names.push_back(f.name);
    EXPECT_EQ(names, (std::vector<std::string>{"b.txt", "link.txt", "masks/a.png", "masks/deep/c.json"}));
    EXPECT_EQ(files[0].size, 2U);
    EXPECT_TRUE(sv::list_output_files(dir.path() / "missing").value().empty());
}

TEST(Output, FiltersAndKeysAsScar) {
    EXPECT_TRUE(sv::output_matches(out("b", ""), "anything"));
    EXPECT_TRUE(sv::output_matches(out("b", "", {"masks/"}), "masks/a.png"));
    EXPECT_FALSE(sv::output_matches(out("b", "", {"masks/"}), "a.png"));
    EXPECT_TRUE(sv::output_matches(out("b", "", {}, {".png", ".jpg"}), "x/y.jpg"));
    EXPECT_FALSE(sv::output_matches(out("b", "", {}, {".png"}), "y.json"));
    EXPECT_FALSE(sv::output_matches(out("b", "", {"masks/"}, {".png"}), "masks/c.json"));
    EXPECT_TRUE(sv::output_matches(out("b", "", {"masks/"}, {".png"}), "masks/c.png"));
    EXPECT_EQ(sv::output_key(out("b", ""), "masks/a.png"), "masks/a.png");
    EXPECT_EQ(sv::output_key(out("b", "results/gray"), "a.png"), "results/gray/a.png");
    EXPECT_EQ(sv::output_key(out("b", "/results/"), "a.png"), "results/a.png");
}

TEST(Output, PlanPairsEveryFileWithEveryMatchingOutput) {
    std::vector<sv::output_file> files = {{"/o/a.png", "a.png", 1}, {"/o/b.txt", "b.txt", 1}};
    const std::vector<scar::config::storage_path> outs = {
        out("images", "out", {}, {".png"}),
        out("all", ""),
    };
    const auto plan = sv::plan_uploads(files, outs);
    ASSERT_EQ(plan.size(), 3U);
    EXPECT_EQ(plan[0].bucket + "/" + plan[0].key, "images/out/a.png");
    EXPECT_EQ(plan[1].bucket + "/" + plan[1].key, "all/a.png");
    EXPECT_EQ(plan[2].bucket + "/" + plan[2].key, "all/b.txt");
    EXPECT_EQ(plan[2].provider, "s3.default");
}

}  // namespace
