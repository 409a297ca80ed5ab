#pragma once
// Blocking work (disk syncs) off the request threads.
//
// A request thread that waits in fdatasync serves nobody meanwhile, and with one thread per
// core at most two syncs are in flight. Run on this pool, many syncs wait together and the
// filesystem's journal commits them as a group, while the request threads keep serving.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <type_traits>

#include "exchange.hpp"

namespace scar::emulator {

class blocking_pool {
public:
    /// The threads are started at the first `run`, so an emulator that never syncs (or
    /// has not yet) pays nothing for them.
    explicit blocking_pool(std::size_t threads) : threads_(threads) {}
    ~blocking_pool() {
        if (pool_) pool_->join();
    }
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;

    /// Runs `f()` on the pool; the caller resumes on its own executor with the result.
    template <class F>
    net::awaitable<std::invoke_result_t<F&>> run(F f) {
        using R = std::invoke_result_t<F&>;
        std::call_once(started_, [this] { pool_.emplace(threads_); });
        co_return co_await net::co_spawn(
            *pool_,
            [&f]() -> net::awaitable<R> { co_return f(); },
            net::use_awaitable
        );
    }

private:
    std::size_t threads_;
    std::once_flag started_;
    std::optional<net::thread_pool> pool_;
};

}  // namespace scar::emulator
