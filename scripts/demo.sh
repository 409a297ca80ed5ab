#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the current end-to-end example.
#
# Today that is a real S3 round trip: scar's SigV4 signer and HTTP client against s3rver
# (an S3-compatible server from npm) on loopback: create a bucket, upload, stat, download,
# list, presigned download, refusals, delete. It becomes the full workflow demo (images,
# supervisor, S3 events, Lambda) on the local emulator when that lands.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"

data=$(mktemp -d /tmp/scar-demo.XXXXXX)
log="$data.log"
"$top/tests/peers/node_modules/.bin/s3rver" -d "$data" -a 127.0.0.1 -p 0 --silent >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data" "$log"' EXIT

# Wait for s3rver to print its port (or to die), at most 60 s.
port=""
for _ in $(seq 600); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "demo: s3rver failed to start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "demo: s3rver did not report its port within 60 s" >&2; exit 1; }

AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 \
  "$top/build/bin/scar-s3-roundtrip" --endpoint "http://127.0.0.1:$port" "$@"
