#!/usr/bin/env bash
# Installs what scar-cpp needs to build and test, and nothing that is already there.
# Idempotent and quick on a prepared machine: it only asks dpkg and npm what is missing.
#
#   scripts/setup.sh            build dependencies + test peers
#
# Needs root (or sudo) only when a Debian package is missing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

# Build: compiler, CMake, Ninja, libraries (DESIGN.md "Choices already made").
build_pkgs=(
  g++ cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcurl4-openssl-dev libssl-dev libarchive-dev
  libtomlplusplus-dev libpugixml-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Tests and benchmarks: independent peers that run on loopback.
test_pkgs=(
  python3 python3-botocore awscli curl
  docker-registry busybox-static crun
  musl musl-tools wrk
  clang-14 libclang-rt-14-dev
  nodejs npm
)
# Optional speed-ups and tools; installed when available, never required.
optional_pkgs=(ccache clang-format-16)

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}" "${optional_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # A tool installed outside dpkg counts (e.g. a newer node from another source).
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "setup: these packages are missing and you are not root: ${missing[*]}" >&2
      echo "setup: run this script as root, or install them with apt-get first" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm peers (s3rver) pinned by tests/peers/package-lock.json, installed beside the tests.
peers="$top/tests/peers"
if [ ! -x "$peers/node_modules/.bin/s3rver" ] || [ "$peers/package-lock.json" -nt "$peers/node_modules/.package-lock.json" ]; then
  echo "setup: installing npm test peers (s3rver)"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
