#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the current end-to-end example.
#
# Today that is a real S3 round trip on the local emulator: scar-emulator on loopback, and
# scar's SigV4 signer and HTTP client against it: create a bucket, upload, stat, download,
# list, presigned download, refusals, delete. It becomes the full workflow demo (images,
# supervisor, S3 events, Lambda) when Lambda lands.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"

data=$(mktemp -d /tmp/scar-demo.XXXXXX)
log="$data.log"
"$top/build/bin/scar-emulator" --port 0 --data-dir "$data" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data" "$log"' EXIT

# Wait for the emulator to print where it listens (or to die), at most 20 s.
endpoint=""
for _ in $(seq 200); do
  endpoint=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log")
  [ -n "$endpoint" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "demo: scar-emulator failed to start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "demo: scar-emulator did not report its address within 20 s" >&2; exit 1; }
echo "demo: $(head -1 "$log")"

AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
  "$top/build/bin/scar-s3-roundtrip" --endpoint "$endpoint" "$@"
