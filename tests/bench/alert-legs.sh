#!/usr/bin/env bash
# alert-legs.sh — runs kaoko-bench --quick and captures the loopback during its alert-latency phase at 1,000
# readings/s, then splits every probe's alert latency into its legs on the wire and inside kaoko
# (tests/bench/alert-legs.py; docs/benchmarks.md, "Where an alert's time goes, from the wire").
#
#   tests/bench/alert-legs.sh [kaoko-bench options…]     (as root: tcpdump; default --stations 150000)
#
# Needs tcpdump (apt-get install tcpdump), which ./kaoko does not install: this is a diagnosis, not a test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${KAOKO_BUILD_DIR:-$ROOT/build}"
command -v tcpdump >/dev/null || { echo "alert-legs.sh: needs tcpdump (apt-get install tcpdump)" >&2; exit 2; }
out="$(mktemp -d /tmp/kaoko-alert-legs.XXXXXX)"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--stations 150000)
"$BUILD/tests/bench/kaoko-bench" --quick --no-peer "${args[@]}" > "$out/bench.log" 2>&1 &
bench=$!
wait_for() { while ! grep -q "$1" "$out/bench.log"; do kill -0 $bench 2>/dev/null || { cat "$out/bench.log"; exit 1; }; sleep 0.05; done; }
wait_for "alert latency under 1,000/s"
pid=$(pgrep -n kaoko-server)
trace=$(tr '\0' '\n' < "/proc/$pid/environ" | sed -n 's/^KAOKO_ALERT_TRACE=//p')
offset=$(python3 -c 'import time; print(time.time_ns() - time.monotonic_ns())')
tcpdump -i lo -s 400 -w "$out/capture.pcap" tcp >/dev/null 2>&1 &
dump=$!
wait_for "where the time went"  # the end of the 1,000/s phase
kill $dump; wait $dump 2>/dev/null || true
cp "$trace" "$out/alerts.trace"
wait $bench
grep "^| Alert latency at 1,000\|^| … where the time went at 1,000" "$out/bench.log" || true
python3 "$ROOT/tests/bench/alert-legs.py" "$out/capture.pcap" "$out/alerts.trace" "$offset"
echo "(capture, trace and the bench's log in $out)"
