#!/usr/bin/env bash
# Builds the tests under clang's AddressSanitizer + UndefinedBehaviorSanitizer (preset
# `sanitize` → build-sanitize/, shared with the fuzz targets) and runs them with CTest.
# Any sanitizer report fails the test that caused it, including reports from the programs
# a test starts (the emulator, the CLI): they inherit the options below.
#
# The build is unoptimised (-O0): it compiles about 2.5x faster than -O2 under the
# sanitizers, which is what CI's budget needs.
#
#   scripts/sanitize.sh                      every unit and integration test
#   scripts/sanitize.sh --ci                 all but those labelled `slow` (whole workflows
#                                            through the aws CLI, load): what CI runs
#   scripts/sanitize.sh --unit               only what the unit tests need, and those
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
elif [ "${1:-}" = --ci ]; then
  shift
  cmake --build --preset sanitize --target scar_sanitize_tests
  set -- -L 'unit|integration' -LE slow "$@"
else
  cmake --build --preset sanitize
  (($# == 0)) && set -- -L 'unit|integration'
fi
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1
export LSAN_OPTIONS=suppressions=$top/fuzz/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --test-dir build-sanitize --output-on-failure --timeout 900 -j "$(nproc)" "$@"
