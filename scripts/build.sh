#!/usr/bin/env bash
# Configures and builds everything into build/ (binaries in build/bin/).
# CI=true turns warnings into errors. Extra arguments go to `cmake --build`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
preset=default
[ "${CI:-}" = true ] && preset=ci
if [ ! -f build/build.ninja ] || [ "$(cat build/.scar-preset 2>/dev/null)" != "$preset" ]; then
  cmake --preset "$preset" >/dev/null
  echo "$preset" > build/.scar-preset
fi
cmake --build --preset "$preset" "$@"
