#include "scar/config/keys.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace cfg = scar::config;
namespace fs = std::filesystem;

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string code(const std::string& s) {
    return s == "—" ? s : "`" + s + "`";
}

/// The row docs/configuration.md must have for a key.
std::string row(const cfg::key_info& k) {
    return "| " + code(k.key) + " | " + k.type + " | " + code(k.default_value) + " | " + code(k.valid) +
           " | " + code(k.scar_fdl) + " | " + k.meaning + " |";
}

TEST(Keys, EveryKeyIsDescribedOnce) {
    std::set<std::string> seen;
    for (const auto& k : cfg::known_keys()) {
        EXPECT_TRUE(seen.insert(k.key).second) << k.key << " is listed twice";
        EXPECT_FALSE(k.meaning.empty()) << k.key;
        EXPECT_FALSE(k.type.empty()) << k.key;
        for (const auto* cell : {&k.key, &k.type, &k.default_value, &k.valid, &k.scar_fdl, &k.meaning}) {
            EXPECT_EQ(cell->find('|'), std::string::npos) << k.key << ": a '|' would break the table";
        }
    }
    for (const char* key :
         {"function.memory",
          "function.container.environment",
          "function.output.suffix",
          "storage.minio.<id>.endpoint",
          "deployment.target",
          "defaults.function"}) {
        EXPECT_TRUE(seen.contains(key)) << key;
    }
}

TEST(Keys, DefaultsComeFromDefaultsToml) {
    const auto& keys = cfg::known_keys();
    auto find = [&](std::string_view key) {
        for (const auto& k : keys) {
            if (k.key == key) return k;
        }
        ADD_FAILURE() << key;
        return cfg::key_info{};
    };
    EXPECT_EQ(find("function.memory").default_value, "512");
    EXPECT_EQ(find("function.execution_mode").default_value, "\"lambda\"");
    EXPECT_EQ(find("function.api_gateway.binary_media_types").default_value, "[\"*/*\"]");
    EXPECT_EQ(find("function.environment").default_value, "{}");
    EXPECT_EQ(find("function.deployment.target").default_value, "\"local\"");
    EXPECT_EQ(find("function.input.storage").default_value, "\"s3\"");
    EXPECT_EQ(find("storage.minio.<id>.path_style").default_value, "true");
    EXPECT_EQ(find("storage.s3.<id>.path_style").default_value, "false");
    EXPECT_EQ(find("function.name").default_value, "—");
    EXPECT_EQ(find("function.memory").valid, "128–10240");
}

TEST(Keys, BuiltinDefaultsAreConfDefaultsToml) {
    EXPECT_EQ(cfg::builtin_defaults(), read(fs::path(SCAR_SOURCE_DIR) / "conf" / "defaults.toml"));
}

// docs/configuration.md lists exactly the keys the parser knows, with the code's type,
// default, valid values, SCAR equivalent and meaning: the reference cannot drift.
TEST(Keys, ReferenceTableMatchesTheCode) {
    const std::string doc = read(fs::path(SCAR_SOURCE_DIR) / "docs" / "configuration.md");
    const auto begin = doc.find("<!-- keys:begin -->");
    const auto end = doc.find("<!-- keys:end -->");
    ASSERT_NE(begin, std::string::npos) << "docs/configuration.md has no <!-- keys:begin --> marker";
    ASSERT_NE(end, std::string::npos) << "docs/configuration.md has no <!-- keys:end --> marker";

    std::vector<std::string> rows;
    std::istringstream lines(doc.substr(begin, end - begin));
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("| ") && !line.starts_with("| key ")) rows.push_back(line);
    }
    std::vector<std::string> expected;
    for (const auto& k : cfg::known_keys()) expected.push_back(row(k));

    std::string table;
    for (const auto& r : expected) table += r + "\n";
    EXPECT_EQ(rows, expected) << "docs/configuration.md is out of date; its key table should read:\n"
                              << table;
}

}  // namespace
