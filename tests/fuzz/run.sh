#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang in BUILD_DIR and runs each one for SECONDS_EACH seconds on
# a copy of its committed corpus (tests/fuzz/corpus/<name>/; nothing is written into the source tree).
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS_EACH [--record FILE]
#
# Prints executions and crashes per harness; exits 1 when any harness crashed (the input is kept under
# BUILD_DIR/fuzz-out/<name>/ and shown as a hexdump), 77 when clang or libFuzzer is missing (ctest: skipped).
# With --record FILE it also writes the results as a Markdown table to FILE.
# Environment: KAOKO_FUZZ_JOBS (harnesses run side by side; default: the number of cores),
#              KAOKO_FUZZ_ONLY (space-separated harness names to run instead of all).
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR SECONDS_EACH [--record FILE]" >&2; exit 2; }
[ $# -ge 2 ] || usage
BUILD=$1
SECONDS_EACH=$2
RECORD=
shift 2
while [ $# -gt 0 ]; do
  case "$1" in
    --record) [ $# -ge 2 ] || usage; RECORD=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] && [ "$SECONDS_EACH" -gt 0 ] || usage

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
JOBS="${KAOKO_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
say() { printf '[fuzz] %s\n' "$*" >&2; }

# libFuzzer comes with clang (Debian: clang and libclang-rt-14-dev).
if ! command -v clang++ >/dev/null 2>&1; then
  say "clang++ is not installed (Debian: apt-get install clang libclang-rt-14-dev); skipping"
  exit 77
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
    clang++ -x c++ -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then
  say "clang++ cannot link -fsanitize=fuzzer (Debian: apt-get install libclang-rt-14-dev); skipping"
  exit 77
fi

# A build directory of its own, configured once and then built incrementally. Build type "Fuzz" has no flags of its
# own: tests/fuzz/CMakeLists.txt sets -O1 and line tables, as libFuzzer builds usually are.
mkdir -p "$BUILD"
BUILD="$(cd "$BUILD" && pwd)"
if [ ! -f "$BUILD/build.ninja" ]; then
  say "configuring $BUILD (clang, KAOKO_FUZZ=ON)"
  CC=clang CXX=clang++ nice cmake -S "$ROOT" -B "$BUILD" -G Ninja -DKAOKO_FUZZ=ON -DCMAKE_BUILD_TYPE=Fuzz >/dev/null
fi
say "building the fuzzers"
nice cmake --build "$BUILD" --target kaoko_fuzzers -j "$JOBS" >"$BUILD/fuzz-build.log" 2>&1 || {
  tail -40 "$BUILD/fuzz-build.log" >&2
  say "the fuzz build failed (log: $BUILD/fuzz-build.log)"
  exit 1
}

dict_of() {
  case "$1" in
    reading | status | report | decision) echo "$HERE/dict/wire.dict" ;;
    incident | station_track | engine_meta) echo "$HERE/dict/codec.dict" ;;
    *) [ -f "$HERE/dict/$1.dict" ] && echo "$HERE/dict/$1.dict" || true ;;
  esac
}

if [ -n "${KAOKO_FUZZ_ONLY:-}" ]; then
  read -r -a NAMES <<<"$KAOKO_FUZZ_ONLY"
else
  NAMES=()
  for d in "$HERE"/corpus/*/; do NAMES+=("$(basename "$d")"); done
fi

OUT="$BUILD/fuzz-out"
# One harness: a fresh copy of its corpus, libFuzzer for SECONDS_EACH, its final stats in $OUT/<name>/log.
run_one() {
  local name=$1 bin="$BUILD/tests/fuzz/fuzz_$1" dir="$OUT/$1" dict
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$HERE/corpus/$name/"* "$dir/corpus/"
  local args=(-max_total_time="$SECONDS_EACH" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$dir/artifacts/" -max_len=16384)
  dict=$(dict_of "$name")
  [ -n "$dict" ] && args+=(-dict="$dict")
  local rc=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice "$bin" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  echo "$rc" >"$dir/rc"
}

say "running ${#NAMES[@]} harnesses for ${SECONDS_EACH}s each, $JOBS at a time"
running=0
for name in "${NAMES[@]}"; do
  [ -x "$BUILD/tests/fuzz/fuzz_$name" ] || { say "no harness fuzz_$name in $BUILD"; exit 1; }
  [ -d "$HERE/corpus/$name" ] || { say "no corpus tests/fuzz/corpus/$name"; exit 1; }
  run_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

stat_of() { # name key
  sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$OUT/$1/log" | tail -1
}

failed=0
table="| harness | seconds | executions | exec/s | crashes | corpus (seeds → after) |"$'\n'"|---|---:|---:|---:|---:|---|"$'\n'
printf '%-14s %8s %12s %8s %8s %s\n' harness seconds executions exec/s crashes corpus
for name in "${NAMES[@]}"; do
  dir="$OUT/$name"
  rc=$(cat "$dir/rc")
  execs=$(stat_of "$name" number_of_executed_units)
  speed=$(stat_of "$name" average_exec_per_sec)
  seeds=$(find "$HERE/corpus/$name" -type f | wc -l)
  after=$(find "$dir/corpus" -type f | wc -l)
  crashes=0
  artifact=$(find "$dir/artifacts" -type f | head -1)
  if [ "$rc" != 0 ] || [ -n "$artifact" ]; then crashes=1; failed=1; fi
  printf '%-14s %8s %12s %8s %8s %s\n' "$name" "$SECONDS_EACH" "${execs:-?}" "${speed:-?}" "$crashes" "$seeds → $after"
  table+="| \`$name\` | $SECONDS_EACH | ${execs:-?} | ${speed:-?} | $crashes | $seeds → $after |"$'\n'
  if [ "$crashes" != 0 ]; then
    say "fuzz_$name FAILED (exit $rc); log: $dir/log"
    grep -E "ERROR|runtime error|invariant failed|SUMMARY|Test unit written" "$dir/log" | head -8 >&2 || true
    if [ -n "$artifact" ]; then
      say "crashing input: $artifact (reproduce: $BUILD/tests/fuzz/fuzz_$name $artifact)"
      od -A d -t x1z -v "$artifact" | head -32 >&2
    fi
  fi
done

if [ -n "$RECORD" ]; then
  # Between the markers <!-- fuzz:start --> and <!-- fuzz:end --> when FILE has them (docs/benchmarks.md), else the
  # whole FILE.
  block=$(
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) (\`tests/fuzz/run.sh\`), HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')," \
         "$(clang++ --version | head -1), ${SECONDS_EACH} s per harness, $JOBS side by side on $(nproc) cores" \
         "($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))."
    echo "Each harness starts from a copy of \`tests/fuzz/corpus/<harness>/\`, built with AddressSanitizer and" \
         "UndefinedBehaviorSanitizer; a crash is any sanitizer report, uncaught exception, invariant failure, timeout" \
         "(5 s) or memory over 2 GB. Corpus: the committed seeds → what the run grew to (not committed)."
    echo
    printf '%s' "$table"
  )
  mkdir -p "$(dirname "$RECORD")"
  if [ -f "$RECORD" ] && grep -q '^<!-- fuzz:start -->$' "$RECORD" && grep -q '^<!-- fuzz:end -->$' "$RECORD"; then
    tmp="$RECORD.tmp.$$"
    BLOCK="$block" awk '
      /^<!-- fuzz:start -->$/ { print; print ENVIRON["BLOCK"]; skip = 1; next }
      /^<!-- fuzz:end -->$/ { skip = 0 }
      !skip { print }' "$RECORD" >"$tmp" && mv "$tmp" "$RECORD"
  else
    { echo "# Fuzzing: latest run"; echo; printf '%s\n' "$block"; } >"$RECORD"
  fi
  say "wrote $RECORD"
fi
[ "$failed" = 0 ] && say "no crashes" || say "some harness crashed"
exit "$failed"
