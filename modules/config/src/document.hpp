#pragma once
// A TOML document as the config module works on it: ordered tables whose every value
// remembers where it was written (file, line, column, key as written there), so that the
// layers can be merged and still every error points at the line that caused it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace scar::config::detail {

/// Which layer a source is; later layers override earlier ones.
enum class layer { defaults, user, definition, override };

/// A file (or an override, or a text given to `parse`) that values come from.
struct source {
    std::string name;                ///< as printed in errors
    std::filesystem::path base_dir;  ///< relative script paths resolve against it
    detail::layer layer = layer::definition;
    bool positions = true;  ///< false for overrides: one line, no point in line:col
};

/// Where a value (or a key) was written.
struct origin {
    std::shared_ptr<const source> file;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::string key;  ///< as written in that file: `function[0].memory`, `defaults.function.memory`

    /// "file:line:col" (or "file" for overrides).
    [[nodiscard]] std::string where() const;
};

struct value;
struct entry;
using array = std::vector<value>;
using table = std::vector<entry>;

/// Dates and times: TOML has them, scar has no key that takes one.
struct datetime {
    std::string text;
};

struct value {
    std::variant<std::string, std::int64_t, double, bool, datetime, array, table> data;
    origin where;

    [[nodiscard]] const std::string* as_string() const { return std::get_if<std::string>(&data); }
    [[nodiscard]] const std::int64_t* as_integer() const { return std::get_if<std::int64_t>(&data); }
    [[nodiscard]] const bool* as_bool() const { return std::get_if<bool>(&data); }
    [[nodiscard]] const array* as_array() const { return std::get_if<array>(&data); }
    [[nodiscard]] const table* as_table() const { return std::get_if<table>(&data); }
    [[nodiscard]] table* as_table() { return std::get_if<table>(&data); }
    [[nodiscard]] array* as_array() { return std::get_if<array>(&data); }
};

struct entry {
    std::string key;
    value val;
    std::uint32_t key_line = 0;  ///< where the key itself was written
    std::uint32_t key_column = 0;

    /// The value's origin moved to the key (for "unknown key" errors).
    [[nodiscard]] origin key_origin() const {
        origin o = val.where;
        o.line = key_line;
        o.column = key_column;
        return o;
    }
};

/// The entry named `key` in `t`, or nullptr.
[[nodiscard]] const value* find(const table& t, std::string_view key);
[[nodiscard]] value* find(table& t, std::string_view key);

/// Follows a dotted path of table keys (`batch.vcpus`); nullptr if any part is missing.
[[nodiscard]] const value* find_path(const table& t, std::string_view dotted);

/// Merges `over` into `base`: tables merge key by key (recursively) and take the origin of
/// `over`; everything else — arrays included — is replaced.
void merge_into(table& base, const table& over);

/// What a value is, for messages: "a string (\"x\")", "an integer (5)", "a table".
[[nodiscard]] std::string describe(const value& v);

/// `key` as TOML writes it: bare when it can be, quoted otherwise.
[[nodiscard]] std::string toml_key(std::string_view key);

/// `s` as a TOML basic string, quotes included.
[[nodiscard]] std::string toml_string(std::string_view s);

/// Every problem found, in the order found, without repeats (a default that is wrong is
/// wrong for every function that inherits it, and is said once).
class diagnostics {
public:
    /// Adds "where: key: message" for the value's origin.
    void add(const origin& at, std::string_view message);
    /// Adds a line as is (I/O errors, which have no position).
    void add_line(std::string line);

    [[nodiscard]] bool empty() const noexcept { return lines_.empty(); }
    [[nodiscard]] const std::vector<std::string>& lines() const noexcept { return lines_; }
    /// All lines joined with '\n'.
    [[nodiscard]] std::string text() const;

private:
    std::vector<std::string> lines_;
};

/// Parses TOML text into a document whose tables keep the order of the text. Syntax errors
/// go to `diag` (with toml++'s position) and give nullopt. This is the one translation
/// unit that includes toml++.
[[nodiscard]] std::optional<table> read_toml(
    std::string_view text,
    const std::shared_ptr<const source>& src,
    diagnostics& diag
);

}  // namespace scar::config::detail
