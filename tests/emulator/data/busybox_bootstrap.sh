#!/bin/sh
# A custom runtime for image-function tests, with busybox only: echoes the event, and says
# what the container looks like from inside (read-only root, writable /tmp, its pid).
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "image runtime starting in $(pwd)"
while true; do
  wget -q -S -O /tmp/event "$api/invocation/next" 2> /tmp/headers || exit 1
  id=$(grep -i 'Lambda-Runtime-Aws-Request-Id' /tmp/headers | sed 's/.*: *//' | tr -d '\r ')
  echo "handling $id"
  if touch /root-write-test 2>/dev/null; then root=writable; else root=read-only; fi
  echo "$id" >> /tmp/seen
  body="{\"echo\":$(cat /tmp/event),\"pid\":$$,\"root\":\"$root\",\"seen\":$(wc -l < /tmp/seen),\"task_root\":\"$LAMBDA_TASK_ROOT\",\"greeting\":\"$GREETING\"}"
  wget -q -O /dev/null --post-data "$body" "$api/invocation/$id/response"
done
