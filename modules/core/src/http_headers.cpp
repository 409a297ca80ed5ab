#include <scar/core/encoding.hpp>
#include <scar/core/http.hpp>

#include <algorithm>

namespace scar::http {

std::optional<std::string_view> find_header(const header_list& h, std::string_view name) noexcept {
    for (const auto& [n, v] : h) {
        if (encoding::iequals(n, name)) return std::string_view(v);
    }
    return std::nullopt;
}

void set_header(header_list& h, std::string_view name, std::string value) {
    auto it =
        std::find_if(h.begin(), h.end(), [&](const auto& e) { return encoding::iequals(e.first, name); });
    if (it == h.end()) {
        h.emplace_back(std::string(name), std::move(value));
        return;
    }
    it->second = std::move(value);
    h.erase(
        std::remove_if(
            std::next(it),
            h.end(),
            [&](const auto& e) { return encoding::iequals(e.first, name); }
        ),
        h.end()
    );
}

void remove_header(header_list& h, std::string_view name) {
    h.erase(
        std::remove_if(h.begin(), h.end(), [&](const auto& e) { return encoding::iequals(e.first, name); }),
        h.end()
    );
}

}  // namespace scar::http
