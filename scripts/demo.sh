#!/usr/bin/env bash
# The main job: SCAR's flagship example, grayify, end to end on the local emulator.
#
#   scripts/demo.sh [--no-build]
#
# 1. installs what is missing (scripts/setup.sh) and builds scar, scar-emulator and
#    scar-supervisor (scripts/build.sh; scripts/test.sh builds the rest);
# 2. starts the emulator (`scar local up`) with its own state in build/demo/home;
# 3. builds the ImageMagick image from Debian packages and imports it into the emulator's
#    ECR (scripts/examples.sh; cached in build/examples after the first run);
# 4. makes sample images, deploys grayify (conf/examples/grayify), uploads the images, and
#    waits until every grayscale copy is in scar-out/gray; then runs grayify once more over
#    the same inputs (`scar run`), which finds its containers warm;
# 5. checks the outputs are grayscale (ImageMagick's identify, in the image), downloads
#    them to build/demo/gray, and prints a summary of the invocations from the function's
#    log (cold and warm starts, durations) and what they would cost on AWS Lambda;
# 6. stops the emulator.
#
# --no-build skips step 1 (the programs must be in $SCAR_BUILD_DIR/bin already).
# SCAR_BUILD_DIR: where the programs are (default build/, where scripts/build.sh puts them).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${SCAR_BUILD_DIR:-$top/build}
no_build=0
for arg in "$@"; do
  case $arg in
    --no-build) no_build=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument '$arg'; see scripts/demo.sh --help" >&2; exit 1 ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }
die() {
  echo "demo: $*" >&2
  exit 1
}

if ((!no_build)); then
  step "setup and build"
  "$top/scripts/setup.sh"
  "$top/scripts/build.sh" --target scar scar-emulator scar-supervisor # what the demo runs
fi
scar="$build/bin/scar"
[ -x "$scar" ] || die "no scar program at $scar; build first (scripts/build.sh)"
command -v python3 >/dev/null || die "python3 is missing (scripts/setup.sh installs it)"
t_start=$SECONDS

work="$build/demo"
rm -rf "$work"
mkdir -p "$work/samples" "$work/gray"
export SCAR_HOME="$work/home"
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN

step "starting the local emulator"
"$scar" local up --port 0
pid=$(cat "$SCAR_HOME/emulator.pid")
endpoint=$(cat "$SCAR_HOME/emulator.endpoint")
stop_emulator() {
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do # up to 10 s for a clean stop, then SIGKILL
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
trap stop_emulator EXIT
trap 'exit 130' INT TERM # so that Ctrl-C also stops it (through the EXIT trap)
registry=${endpoint#http://}
image="$registry/scar-examples/imagemagick:1"

step "the ImageMagick image (Debian 12 packages, cached in $build/examples)"
SCAR="$scar" "$top/scripts/examples.sh" --out "$build/examples" --endpoint "$endpoint" --image imagemagick

# scar image pull/run reach the emulator's ECR as an ECR: through the AWS variables.
in_image() {
  AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    "$scar" image "$@"
}

step "sample images (made by ImageMagick in the image)"
in_image pull "$image" >/dev/null
in_image run -v "$top/conf/examples/grayify:/example:ro" -v "$work/samples:/out" "$image" -- \
  sh /example/make-samples.sh /out >/dev/null
samples=()
for f in "$work/samples"/*; do samples+=("${f##*/}"); done
echo "${#samples[@]} images in $work/samples: ${samples[*]}"

step "deploying grayify (conf/examples/grayify/grayify.toml)"
"$scar" init -f "$top/conf/examples/grayify/grayify.toml" --set "image=$image"

# Prints how many of the sample names are in the bucket folder's listing.
outputs_present() {
  "$scar" ls -b scar-out/gray --json | python3 -c '
import json, sys
keys = {o["key"].rsplit("/", 1)[-1] for o in json.load(sys.stdin) if not o["key"].endswith("/")}
print(sum(name in keys for name in sys.argv[1:]))' "${samples[@]}"
}
# Prints how many invocations of grayify have ended (REPORT lines in its log).
reports() {
  "$scar" log -n grayify --json | python3 -c '
import json, sys
print(sum(l["message"].startswith("REPORT ") for l in json.load(sys.stdin)))'
}
# Waits until `$1` prints at least `$2`, for at most `$3` seconds, polling.
wait_for() {
  local what=$1 want=$2 deadline=$((SECONDS + $3)) got=0
  while ((SECONDS < deadline)); do
    got=$($what)
    ((got >= want)) && return 0
    sleep 0.2 # polling the emulator's state: the condition itself is the event
  done
  die "timed out: $what reached $got of $want; see $SCAR_HOME/emulator.log and: SCAR_HOME=$SCAR_HOME $scar log -n grayify"
}

step "uploading the samples to s3://scar-in/images (one invocation each)"
t_upload=$SECONDS
"$scar" put -b scar-in/images -p "$work/samples"
wait_for outputs_present "${#samples[@]}" 120
wait_for reports "${#samples[@]}" 30
echo "all ${#samples[@]} grayscale copies are in s3://scar-out/gray ($((SECONDS - t_upload)) s after the upload)"

step "running grayify again over the same inputs (scar run): warm containers"
"$scar" run -n grayify
wait_for reports $((2 * ${#samples[@]})) 120

step "checking the outputs"
"$scar" get -b scar-out/gray -p "$work/gray" >/dev/null
in_image run -v "$work/gray:/in:ro" "$image" -- sh -c 'cd /in && identify -format "%f: %wx%h %[colorspace]\n" *' |
  tee "$work/identify.txt"
gray=$(grep -c ' Gray$' "$work/identify.txt" || true)
((gray == ${#samples[@]})) || die "only $gray of ${#samples[@]} outputs are grayscale; see $work/identify.txt"

step "summary"
"$scar" log -n grayify --json | python3 -c '
import json, re, sys
reports = [l["message"] for l in json.load(sys.stdin) if l["message"].startswith("REPORT ")]
def ms(field, line):
    m = re.search(field + r": ([0-9.]+) ms", line)
    return float(m.group(1)) if m else None
def p50(v):
    v = sorted(v)
    return v[(len(v) - 1) // 2] if v else 0
duration = [ms("Duration", r) for r in reports]
init = [ms("Init Duration", r) for r in reports if ms("Init Duration", r) is not None]
cold = [ms("Duration", r) for r in reports if ms("Init Duration", r) is not None]
warm = [ms("Duration", r) for r in reports if ms("Init Duration", r) is None]
print(f"invocations   {len(reports)}: {len(cold)} cold (a new container), {len(warm)} warm (a container reused)")
print(f"duration      p50 {p50(duration):.0f} ms, max {max(duration):.0f} ms, total {sum(duration):.0f} ms")
if cold: print(f"  cold        p50 {p50(cold):.0f} ms, plus init p50 {p50(init):.0f} ms")
if warm: print(f"  warm        p50 {p50(warm):.0f} ms")
'
echo "outputs       s3://scar-out/gray/ (scar ls -b scar-out/gray), downloaded to $work/gray/"
echo "inputs        s3://scar-in/images/, made in $work/samples/"
echo "demo time     $((SECONDS - t_start)) s"
echo
"$scar" cost -n grayify
echo
echo "The emulator stops now; its state stays in $SCAR_HOME. Next: docs/getting-started.md"
