#include "scar/core/clock.hpp"

namespace scar {
namespace {

class system_clock_source final : public clock {
public:
    [[nodiscard]] time_point now() const noexcept override { return std::chrono::system_clock::now(); }
};

}  // namespace

const clock& clock::system() noexcept {
    static const system_clock_source instance;
    return instance;
}

}  // namespace scar
