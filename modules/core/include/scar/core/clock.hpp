#pragma once
/// @file
/// An injectable wall clock, so that time-dependent code (SigV4 dates and skew, presign
/// expiry, Lambda timeouts, retry backoff) is tested by advancing a manual clock rather
/// than by sleeping.

#include <atomic>
#include <chrono>

namespace scar {

/// Source of wall-clock time.
class clock {
public:
    using time_point = std::chrono::system_clock::time_point;
    virtual ~clock() = default;
    [[nodiscard]] virtual time_point now() const noexcept = 0;

    /// The process-wide real clock.
    [[nodiscard]] static const clock& system() noexcept;
};

/// A clock that only moves when told to. @par Thread safety Safe to read while advanced.
class manual_clock final : public clock {
public:
    explicit manual_clock(time_point start) noexcept : now_(start.time_since_epoch().count()) {}
    [[nodiscard]] time_point now() const noexcept override {
        return time_point(time_point::duration(now_.load(std::memory_order_relaxed)));
    }
    void set(time_point t) noexcept { now_.store(t.time_since_epoch().count(), std::memory_order_relaxed); }
    void advance(std::chrono::system_clock::duration d) noexcept {
        now_.fetch_add(d.count(), std::memory_order_relaxed);
    }

private:
    std::atomic<time_point::duration::rep> now_;
};

}  // namespace scar
