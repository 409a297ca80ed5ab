#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, preset `fuzz` → build-fuzz/, optimised)
# and runs each for a while, starting from its committed corpus (fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh                      every target, 60 s each
#   scripts/fuzz.sh -t 600 sigv4 s3_xml  these targets, 10 minutes each
#   scripts/fuzz.sh -p sanitize -t 10    in build-sanitize/ (unoptimised, shared with the
#                                        sanitized tests: CI's short runs)
#   scripts/fuzz.sh -l                   list the targets
#
# New inputs that reach new code go to <build>/corpus/<target>/ (merge the good ones into
# fuzz/corpus/ by hand: `build-fuzz/bin/fuzz_<t> -merge=1 fuzz/corpus/<t> build-fuzz/corpus/<t>`).
# A crash, leak, sanitizer report or broken invariant stops that target, leaves the input
# in <build>/findings/<target>/ and makes the script fail; copy the input into
# fuzz/corpus/<target>/ with the fix, so the replay test keeps it fixed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=60
preset=fuzz
while getopts "t:p:lh" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    p) preset=$OPTARG ;;
    l) sed -n 's/^  \([a-z0-9_]*\)=.*/\1/p' "$top/fuzz/CMakeLists.txt"; exit 0 ;;
    *) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(sed -n 's/^  \([a-z0-9_]*\)=.*/\1/p' "$top/fuzz/CMakeLists.txt")
fi

"$top/scripts/setup.sh"
cd "$top"
case $preset in
  fuzz | sanitize) build=build-$preset ;;
  *) echo "fuzz: -p takes fuzz or sanitize, not '$preset'" >&2; exit 2 ;;
esac
if [ ! -f $build/CMakeCache.txt ]; then cmake --preset $preset >/dev/null; fi
cmake --build --preset $preset --target "${targets[@]/#/fuzz_}"

failed=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  findings="$build/findings/$t"
  mkdir -p "$work" "$findings"
  echo "fuzz: $t for ${seconds}s"
  # -rss_limit_mb: the targets are parsers; anything near 2 GB is a finding.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=fuzz/lsan.supp \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$build/bin/fuzz_$t" "$work" "fuzz/corpus/$t" \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$findings/" -print_final_stats=1 >"$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED — input in $findings/, log in $build/$t.log:"
    grep -m 5 -E "ERROR|invariant failed|SUMMARY|runtime error" "$build/$t.log" || tail -5 "$build/$t.log"
    failed+=("$t")
    continue
  fi
  grep -E "^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb" "$build/$t.log" |
    sed 's/^/  /'
done
if ((${#failed[@]})); then
  echo "fuzz: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz: no findings in ${#targets[@]} targets"
