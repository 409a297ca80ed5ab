#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (CTest): unit,
# integration (real peers on loopback) and benchmark smoke tests.
#   scripts/test.sh [ctest arguments…]   e.g. scripts/test.sh -L unit
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"
cd "$top/build"
exec ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
