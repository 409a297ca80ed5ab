#pragma once
// What every fuzz target shares. A target is one function of the input bytes:
//
//   SCAR_FUZZ_TARGET(data) { …parse data…; scar_fuzz_check(invariant); }
//
// Built with clang's -fsanitize=fuzzer it is a libFuzzer program (scripts/fuzz.sh); built
// with the tests it is linked with replay_main.cpp and replays the corpus under
// fuzz/corpus/<target>/ as a regression test. Parsers must never crash, hang or leak on
// any input; scar_fuzz_check states what else must hold.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define SCAR_FUZZ_TARGET(data)                                                           \
    static void scar_fuzz_one(std::string_view data);                                    \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) { \
        scar_fuzz_one(std::string_view(reinterpret_cast<const char*>(bytes), size));     \
        return 0;                                                                        \
    }                                                                                    \
    static void scar_fuzz_one(std::string_view data)

/// Aborts (a finding) when an invariant does not hold.
#define scar_fuzz_check(cond)                                                                 \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (false)
