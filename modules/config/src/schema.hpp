#pragma once
// The keys of the configuration as data: the checker walks a document against it (unknown
// keys, types, ranges, enumerations), `known_keys()` flattens it for the reference.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "document.hpp"

namespace scar::config::detail {

enum class kind { string, integer, boolean, string_array, string_table, section, table_array, id_table };

struct spec {
    std::string name;
    detail::kind kind = kind::string;
    std::string scar;     ///< SCAR FDL equivalent, "—" for none
    std::string meaning;  ///< one sentence for the reference
    std::string valid;    ///< what is accepted, when min/max/one_of do not say it
    std::optional<std::int64_t> min;
    std::optional<std::int64_t> max;
    std::vector<std::string> one_of;
    std::string element_default;  ///< default of a key inside array elements (TOML text)
    std::vector<spec> children;   ///< table, table_array: its keys; id_table: one entry spec
    /// Keys that are not valid here but that someone coming from SCAR would write, and what
    /// to write instead.
    std::vector<std::pair<std::string, std::string>> hints;
    bool document_children = true;  ///< false: the reference describes them elsewhere
};

/// A whole file: `[[function]]`, `[defaults.*]`, `[deployment]`, `[storage.*.*]`.
[[nodiscard]] const spec& file_spec();
/// One `[[function]]` table (also what overrides are written against).
[[nodiscard]] const spec& function_spec();
/// The keys of `[storage.<type>.<id>]` ("s3" or "minio").
[[nodiscard]] const spec& provider_spec(std::string_view type);

/// The child of `s` named `name`, or nullptr.
[[nodiscard]] const spec* child(const spec& s, std::string_view name);
/// The spec of a dotted path under `s` (`container.environment.X`), or nullptr if it is not
/// a key; a key inside a table of strings gives that table's spec.
[[nodiscard]] const spec* spec_at(const spec& s, std::string_view dotted);

/// What is accepted, as the reference and the messages say it ("128–10240", "—").
[[nodiscard]] std::string valid_text(const spec& s);
/// "integer", "array of tables", …
[[nodiscard]] std::string_view type_name(kind k);

/// The closest of `candidates` to `word` if it is close enough to be a likely typo.
[[nodiscard]] std::optional<std::string> suggest(
    std::string_view word,
    const std::vector<std::string>& candidates
);

/// Checks `doc` against `s`; every problem goes to `diag` and the offending entry is removed,
/// so that what remains is well-typed for the layers above.
void check(table& doc, const spec& s, std::string_view schema_path, diagnostics& diag);

}  // namespace scar::config::detail
