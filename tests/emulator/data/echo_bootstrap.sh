#!/bin/sh
# A minimal custom runtime for tests: answers {"echo": <event>, "pid": <its pid>}; events
# containing "fail", "crash" or "sleep" report an error, exit, or outlast the timeout;
# "slow" ones take a second; "binary" ones also write bytes that are not UTF-8 (a PNG
# header) to stdout.
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "runtime starting for $AWS_LAMBDA_FUNCTION_NAME"
while true; do
  headers=$(mktemp)
  event=$(curl -sS -D "$headers" "$api/invocation/next")
  id=$(grep -i '^Lambda-Runtime-Aws-Request-Id' "$headers" | cut -d' ' -f2 | tr -d '\r')
  rm -f "$headers"
  echo "handling $id: $event"
  case "$event" in
    *crash*) exit 3 ;;
    *sleep*) sleep 30 ;;
    *slow*) sleep 1 ;;
    *binary*) printf '\211PNG\032 binary output\n' ;;
    *fail*) curl -sS -X POST "$api/invocation/$id/error" -d '{"errorMessage":"asked to fail","errorType":"Failure"}' >/dev/null; continue ;;
  esac
  curl -sS -X POST "$api/invocation/$id/response" -d "{\"echo\":$event,\"pid\":$$,\"env\":\"$AWS_LAMBDA_LOG_STREAM_NAME\",\"task_root\":\"$LAMBDA_TASK_ROOT\",\"opt\":\"$(cat /opt/hello.txt 2>/dev/null)\"}" >/dev/null
done
