#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (CTest): unit,
# integration (real peers on loopback) and benchmark smoke tests. Then, under clang's
# AddressSanitizer + UBSan (build-sanitize/, docs/reliability.md): the unit and integration
# tests again but those labelled `slow` (whole workflows, load), and every fuzz target for
# SCAR_FUZZ_SECONDS (default 10) each.
#   scripts/test.sh [ctest arguments…]   e.g. scripts/test.sh -L unit (release build only)
# SCAR_SANITIZE_TESTS=0 skips the sanitized tests, SCAR_FUZZ_SECONDS=0 the fuzzing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"
(cd "$top/build" && ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@")
# With no ctest arguments (the whole suite, as in CI). The `slow` tests take longer under
# the sanitizers than CI's budget allows: `scripts/sanitize.sh` (no arguments) runs them.
if (($# == 0)) && [ "${SCAR_SANITIZE_TESTS:-1}" != 0 ]; then
  "$top/scripts/sanitize.sh" --ci
fi
if (($# == 0)) && [ "${SCAR_FUZZ_SECONDS:-10}" != 0 ]; then
  "$top/scripts/fuzz.sh" -p sanitize -t "${SCAR_FUZZ_SECONDS:-10}"
fi
