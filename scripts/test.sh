#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (CTest): unit,
# integration (real peers on loopback) and benchmark smoke tests; then every fuzz target
# for SCAR_FUZZ_SECONDS (default 10) each.
#   scripts/test.sh [ctest arguments…]   e.g. scripts/test.sh -L unit
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"
(cd "$top/build" && ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@")
# With no ctest arguments (the whole suite, as in CI): every fuzz target runs for a short
# while under ASan + UBSan (clang build in build-fuzz/, docs/fuzzing.md). SCAR_FUZZ_SECONDS=0
# skips it.
if (($# == 0)) && [ "${SCAR_FUZZ_SECONDS:-10}" != 0 ]; then
  "$top/scripts/fuzz.sh" -t "${SCAR_FUZZ_SECONDS:-10}"
fi
