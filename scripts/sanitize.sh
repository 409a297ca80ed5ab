#!/usr/bin/env bash
# Builds the tests under clang's AddressSanitizer + UndefinedBehaviorSanitizer (preset
# `sanitize` → build-sanitize/, shared with the fuzz targets) and runs them with CTest.
# Any sanitizer report fails the test that caused it, including reports from the programs
# a test starts (the emulator, the CLI): they inherit the options below.
#
#   scripts/sanitize.sh                      the unit and integration tests
#   scripts/sanitize.sh --unit               only what the unit tests need, and those (CI)
#   scripts/sanitize.sh -R 'S3Auth|Lambda'   some tests (any ctest arguments)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
cd "$top"
if [ ! -f build-sanitize/CMakeCache.txt ]; then cmake --preset sanitize >/dev/null; fi
if [ "${1:-}" = --unit ]; then
  shift
  cmake --build --preset sanitize --target scar_unit_tests
  set -- -L unit "$@"
else
  cmake --build --preset sanitize
  (($# == 0)) && set -- -L 'unit|integration'
fi
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1
export LSAN_OPTIONS=suppressions=$top/fuzz/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --test-dir build-sanitize --output-on-failure --timeout 900 -j "$(nproc)" "$@"
