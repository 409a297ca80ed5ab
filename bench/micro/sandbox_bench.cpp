// Container start-to-exit costs (Google Benchmark). The peer comparison with crun is
// bench/macro/sandbox_vs_crun.cpp.

#include <scar/sandbox/container.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

namespace {

namespace fs = std::filesystem;

/// A busybox rootfs for the whole run; `with_mount_points` false makes the overlay path.
class bench_rootfs {
public:
    explicit bench_rootfs(bool with_mount_points) {
        char tmpl[] = "/tmp/scar-sandbox-bench-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) return;
        dir_ = tmpl;
        fs::create_directories(dir_ / "bin");
        if (with_mount_points) {
            for (const char* d : {"proc", "dev", "tmp"}) fs::create_directories(dir_ / d);
        }
        fs::copy_file("/usr/bin/busybox", dir_ / "bin" / "busybox");
        fs::create_symlink("busybox", dir_ / "bin" / "true");
    }
    ~bench_rootfs() {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }
    bench_rootfs(const bench_rootfs&) = delete;
    bench_rootfs& operator=(const bench_rootfs&) = delete;
    [[nodiscard]] const fs::path& path() const { return dir_; }

private:
    fs::path dir_;
};

void run_true(benchmark::State& state, bool with_mount_points, std::uint64_t memory, bool callback) {
    if (!fs::exists("/usr/bin/busybox")) {
        state.SkipWithError("needs /usr/bin/busybox (busybox-static)");
        return;
    }
    const bench_rootfs root(with_mount_points);
    scar::sandbox::spec s;
    s.rootfs = root.path();
    s.argv = {"/bin/true"};
    s.memory_bytes = memory;
    if (callback) s.stdout_sink.callback = [](std::string_view) {};
    for (auto _ : state) {
        const auto r = scar::sandbox::run(s);
        if (!r || !r->ok()) {
            state.SkipWithError(r ? "/bin/true failed" : r.error().what().c_str());
            return;
        }
    }
}

void BM_RunTrue(benchmark::State& state) {
    run_true(state, true, 0, false);
}
void BM_RunTrueOverlayRoot(benchmark::State& state) {
    run_true(state, false, 0, false);
}
void BM_RunTrueMemoryLimit(benchmark::State& state) {
    run_true(state, true, 128 << 20, false);
}
void BM_RunTrueOutputCallback(benchmark::State& state) {
    run_true(state, true, 0, true);
}
void BM_CheckAvailable(benchmark::State& state) {
    for (auto _ : state) {
        if (!scar::sandbox::check_available()) {
            state.SkipWithError("namespaces not available");
            return;
        }
    }
}

BENCHMARK(BM_RunTrue)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RunTrueOverlayRoot)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RunTrueMemoryLimit)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RunTrueOutputCallback)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckAvailable)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
