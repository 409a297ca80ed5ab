#!/bin/sh
# Sent by `scar run -n run-script -s hello.sh`; runs with /bin/sh in the function's container
# and its standard output is what scar run prints.
echo "$GREETING from $AWS_LAMBDA_FUNCTION_NAME ($AWS_LAMBDA_FUNCTION_MEMORY_SIZE MB)"
if touch /.probe 2>/dev/null; then rm -f /.probe; echo "root file system: writable"; else echo "root file system: read-only"; fi
echo scratch >"/tmp/scratch.$$" && rm "/tmp/scratch.$$" && echo "/tmp: writable"
printf 'primes below 60:'
n=2
while [ "$n" -lt 60 ]; do
  d=2
  while [ $((d * d)) -le "$n" ] && [ $((n % d)) -ne 0 ]; do d=$((d + 1)); done
  [ $((d * d)) -gt "$n" ] && printf ' %d' "$n"
  n=$((n + 1))
done
echo
