// Pull + unpack of a busybox image (built offline from /usr/bin/busybox) from Debian's
// docker-registry on loopback, into an empty store each iteration; and raw extraction of
// its layer. Peers (skopeo + umoci) are compared in a later macro benchmark.

#include <scar/image.hpp>

#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "../../tests/image/registry_process.hpp"

namespace {

namespace fs = std::filesystem;
namespace img = scar::image;

struct fixture {
    scar::testing::temp_dir work{"scar-image-bench"};
    std::unique_ptr<img::testing::local_registry> registry;
    img::registry_options opts;
    img::reference ref;
    img::built_image built;
    std::string error;

    fixture() {
        if (::access(img::testing::docker_registry_bin, X_OK) != 0 ||
            ::access(img::testing::busybox_bin, R_OK) != 0) {
            error = "needs /usr/bin/docker-registry and /usr/bin/busybox";
            return;
        }
        registry = std::make_unique<img::testing::local_registry>(work.path());
        img::testing::make_busybox_rootfs(work.path() / "rootfs");
        opts.auth.use_docker_config = false;
        ref = img::parse_reference(registry->host() + "/bench/busybox:1").value();
        img::build_request req;
        req.layers = {work.path() / "rootfs"};
        req.target = ref;
        auto b = img::build_image(req, img::store(work.path() / "build-store"), opts);
        if (!b) {
            error = b.error().what();
            return;
        }
        built = *b;
    }
};

fixture& shared() {
    static fixture f;
    return f;
}

void BM_PullAndUnpackBusybox(benchmark::State& state) {
    auto& f = shared();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    int i = 0;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        const auto dir = f.work.path() / ("pull-" + std::to_string(i++));
        img::pull_options po;
        po.registry = f.opts;
        auto r = img::pull(f.ref, img::store(dir), po);
        if (!r) {
            state.SkipWithError(r.error().what().c_str());
            return;
        }
        bytes += r->image.manifest.layers[0].size;
        state.PauseTiming();
        fs::remove_all(dir);
        state.ResumeTiming();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_PullAndUnpackBusybox)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ExtractBusyboxLayer(benchmark::State& state) {
    auto& f = shared();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    const img::store st(f.work.path() / "build-store");
    const auto layer = st.blob_path(f.built.manifest.layers[0].digest);
    std::uint64_t bytes = 0;
    int i = 0;
    for (auto _ : state) {
        const auto dir = f.work.path() / ("x-" + std::to_string(i++));
        fs::create_directories(dir);
        auto r = img::extract_layer(layer, dir);
        if (!r) {
            state.SkipWithError(r.error().what().c_str());
            return;
        }
        bytes += r->bytes;
        state.PauseTiming();
        fs::remove_all(dir);
        state.ResumeTiming();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));  // uncompressed bytes written
}
BENCHMARK(BM_ExtractBusyboxLayer)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
