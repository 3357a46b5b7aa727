#!/usr/bin/env bash
# province-bench.sh — issue 6's scale acceptance: a province of 20 tambons × 10 villages on loopback, driven by
# kaoko-sim in scale mode (docs/benchmarks.md, "A province of 20 tambons × 10 villages (issue 6)").
#
#   tests/bench/province-bench.sh [--build DIR] [--rates 400,1600,3200] [--window S] [--probes N] [--keep]
#                                 [--tambons N] [--villages N] [--stations N] [--speed X]
#
# What runs (all on 127.0.0.1, each its own process, broker-config/dev.conf.in + the tier fragments):
#   one province Mosquitto (province.conf.in: the service account and one bridge account per tambon) and one
#   `kaoko-server --tier province --tambon-network …` (×tambons);
#   per tambon: a generated network file (villages × stations, plus one probe station per village), its accounts
#   (`kaoko-admin accounts`), a TAO Mosquitto with tao-bridge.conf.in bridged to the province's broker, a
#   `kaoko-server --uplink`, and during each step one `kaoko-sim --scale N --connections 1` on the TAO's broker.
#   No village edge boxes: the stations publish straight to their TAO's broker (the edge → TAO hop is the one
#   tests/tiers exercises; here the load is the TAO → province bridges and the province's kaoko).
# Every kaoko runs on one rehearsal clock (--time-scale SPEED); a synthetic station publishes once a simulated
# minute, so each active station offers SPEED/60 readings per real second. A step with offered rate R activates
# R / (tambons × SPEED/60) stations in every tambon (kaoko-sim --scale), runs for a warm-up and a measured window, then
# waits for the journals to drain. Measured per step:
#   stored/s at the TAOs (rows in every tao.db `readings`), at the province (rows in province.db `tier_readings`),
#   both opened read-only, over the window;
#   latency probes: a reading over `watch` at a fresh village's probe station (persistence 1), timed from the reading
#   passing through its TAO's broker (a mosquitto_sub there, %U) until (a) the village's alert arrives at the
#   province's broker (a mosquitto_sub there, %U) and (b) the province's GET /api/v1/villages shows it (polled);
#   journal lag: how long after the sims stop until the province holds every reading the TAOs stored;
#   CPU of each group of processes (/proc/<pid>/stat utime+stime over the window) and of the whole machine (/proc/stat).
# Exit status: 0 when the harness ran (whatever the figures), 1 on harness errors.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${KAOKO_BUILD_DIR:-$ROOT/build}"
TAMBONS=20
VILLAGES=10
STATIONS=5          # synthetic stations per village (the probe station comes on top)
SPEED=240           # rehearsal: simulated seconds per real second
RATES="400,1600,3200"
WINDOW=20           # measured seconds per step
WARMUP=8
PROBES=5            # latency probes per step
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --rates) RATES="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --probes) PROBES="$2"; shift 2 ;;
    --tambons) TAMBONS="$2"; shift 2 ;;
    --villages) VILLAGES="$2"; shift 2 ;;
    --stations) STATIONS="$2"; shift 2 ;;
    --speed) SPEED="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "province-bench.sh: unknown option $1" >&2; exit 1 ;;
  esac
done

SERVER="$BUILD/server/app/kaoko-server"
ADMIN="$BUILD/server/admin/kaoko-admin"
SIM="$BUILD/firmware-sim/kaoko-sim"
say() { printf '[province-bench] %s\n' "$*" >&2; }
die() { printf '[province-bench] ERROR: %s\n' "$*" >&2; exit 1; }
for t in "$SERVER" "$ADMIN" "$SIM"; do [ -x "$t" ] || die "$t is missing: build it first (./kaoko build)"; done
for t in mosquitto mosquitto_pub mosquitto_sub sqlite3 curl jq; do command -v "$t" >/dev/null || die "$t is not installed"; done

DIR="$(mktemp -d /tmp/kaoko-province-bench.XXXXXX)"
PIDS=()
SIM_PIDS=()
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for pid in "${SIM_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -TERM "${PIDS[i]}" 2>/dev/null || true; done
  for pid in "${SIM_PIDS[@]}" "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ] || [ $rc -ne 0 ]; then say "files kept in $DIR"; else rm -rf "$DIR"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------------- helpers
USED_PORTS=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then USED_PORTS+="$p "; echo "$p"; return; fi
  done
}
now() { echo "$EPOCHREALTIME"; }
# The rehearsal clock, as kaoko-server computes it: T0 + (wall - T0) × SPEED, RFC 3339 with seconds.
sim_now() { # [offset real seconds]
  local s
  s=$(awk -v w="$EPOCHREALTIME" -v t0="$T0_EPOCH" -v k="$SPEED" -v o="${1:-0}" 'BEGIN { printf "%d", t0 + (w + o - t0) * k }')
  date -u -d "@$s" +%Y-%m-%dT%H:%M:%SZ
}
wait_http() { # url seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  return 1
}
count() { sqlite3 -readonly "$1" "$2" 2>/dev/null || echo 0; }
tao_total() { # every tao.db in one sqlite3 process (each opened read-only)
  local t
  for t in "${TIDS[@]}"; do printf '.open --readonly %s\nSELECT COUNT(*) FROM readings;\n' "$DIR/$t/tao.db"; done |
    sqlite3 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}
prov_total() { count "$DIR/province/province.db" "SELECT COUNT(*) FROM tier_readings"; }
ticks() { # pid… → utime+stime in clock ticks, summed
  local sum=0 pid f
  for pid in "$@"; do
    if [ -r "/proc/$pid/stat" ]; then
      f=$(sed 's/^.*) //' "/proc/$pid/stat")
      set -- $f
      sum=$((sum + ${12} + ${13}))
    fi
  done
  echo "$sum"
}
machine_busy() { awk '/^cpu / { print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8 }' /proc/stat; } # busy total (ticks)
render_broker() { # out port data_dir accounts_dir [fragment]
  sed -e '/^# >>> websockets$/,/^# <<< websockets$/d' \
      -e "s|@MQTT_PORT@|$2|g" -e "s|@DATA_DIR@|$3/|g" -e "s|@PASSWORD_FILE@|$4/passwd|g" \
      -e "s|@ACL_FILE@|$4/acl|g" -e "s|@RUN_AS@|$(id -un)|g" "$ROOT/broker-config/dev.conf.in" > "$1"
  [ -z "${5:-}" ] || printf '\n%s\n' "$5" >> "$1"
}
start_broker() { # name conf log
  mosquitto -c "$2" >"$3" 2>&1 &
  PIDS+=($!)
  BROKER_PIDS+=($!)
}
wait_port() { # port
  local i
  for ((i = 0; i < 100; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# One tambon's network: villages v00…, each with STATIONS synthetic stations and one probe station p-vNN. Stations
# are listed in kaoko-sim's scale order: station s-00000i copies the i-th station of the file, so s-000000… come first,
# village i mod VILLAGES, and --scale N uses the first N of them. One reading a simulated minute; no offline checks
# (a step activates only some stations); the probe station alerts on one reading.
gen_network() { # tambon index
  LC_ALL=C awk -v T="$1" -v V="$VILLAGES" -v S="$STATIONS" 'BEGIN {
    printf "# generated by tests/bench/province-bench.sh\n[tambon]\nid = \"t%02d\"\nname_th = \"ตำบลทดสอบ %d\"\nname_en = \"Test tambon %d\"\n\n", T, T, T
    print "[health]\noffline_after_minutes = 100000\n"
    for (v = 0; v < V; v++)
      printf "[[villages]]\nid = \"v%02d\"\nname_th = \"บ้านทดสอบ %d\"\nname_en = \"Test village %d\"\nmoo = %d\ntravel_to_next_minutes = %d\n\n", v, v + 1, v + 1, v + 1, (v + 1 < V) ? 45 : 0
    for (i = 0; i < V * S; i++) {
      w = 200 + (i % 7) * 10
      printf "[[stations]]\nid = \"s-%06d\"\nvillage = \"v%02d\"\nname_th = \"สถานี %d\"\nname_en = \"Gauge %d\"\n", i, i % V, i, i
      printf "watch = %d\nwarning = %d\ncritical = %d\ninterval_minutes = 1\nfast_interval_minutes = 1\n\n", w, w + 60, w + 130
    }
    for (v = 0; v < V; v++)
      printf "[[stations]]\nid = \"p-v%02d\"\nvillage = \"v%02d\"\nname_th = \"สถานีทดสอบ %d\"\nname_en = \"Probe %d\"\nwatch = 200\nwarning = 260\ncritical = 330\npersistence_readings = 1\n\n", v, v, v, v
    printf "[[people]]\nid = \"tao-t%02d\"\nname_th = \"เจ้าหน้าที่ อบต. %d\"\nrole = \"tao\"\n", T, T
  }'
}

# ---------------------------------------------------------------- set up
say "working in $DIR ($TAMBONS tambons × $VILLAGES villages × $STATIONS stations + 1 probe each; speed ${SPEED}×)"
SCENARIO="$DIR/calm.toml"
cat > "$SCENARIO" <<'EOF'
[scenario]
name = "province-calm"
description = "a dry day: every station at its base level, one reading a minute"
duration_hours = 1
step_seconds = 60
seed = 6
rain_variability = 0
EOF

TIDS=()
for ((i = 1; i <= TAMBONS; i++)); do TIDS+=("$(printf 't%02d' "$i")"); done

mkdir -p "$DIR/province/data" "$DIR/province/accounts"
"$ADMIN" add-account --dir "$DIR/province/accounts" --tambon province --user kaoko --role service \
  --password demo-kaoko >"$DIR/province/admin.log" 2>&1 || { cat "$DIR/province/admin.log"; die "kaoko-admin failed"; }
BROKER_PIDS=()
PROV_PORT=$(free_port)
NETWORKS=()
for ((i = 1; i <= TAMBONS; i++)); do
  t=${TIDS[i - 1]}
  mkdir -p "$DIR/$t/data" "$DIR/$t/accounts" "$DIR/$t/sim"
  gen_network "$i" > "$DIR/$t/network.toml"
  NETWORKS+=(--tambon-network "$DIR/$t/network.toml")
  "$ADMIN" accounts --network "$DIR/$t/network.toml" --dir "$DIR/$t/accounts" --demo-passwords >"$DIR/$t/admin.log" 2>&1 ||
    { cat "$DIR/$t/admin.log"; die "kaoko-admin accounts failed for $t"; }
  "$ADMIN" add-account --dir "$DIR/province/accounts" --user "$t" --role bridge --password "demo-$t" \
    >>"$DIR/province/admin.log" 2>&1 || { cat "$DIR/province/admin.log"; die "kaoko-admin add-account $t failed"; }
done

render_broker "$DIR/province/mosquitto.conf" "$PROV_PORT" "$DIR/province/data" "$DIR/province/accounts" \
  "$(cat "$ROOT/broker-config/province.conf.in")"
start_broker province "$DIR/province/mosquitto.conf" "$DIR/province/mosquitto.log"
wait_port "$PROV_PORT" || { tail "$DIR/province/mosquitto.log"; die "the province's broker did not start"; }
declare -A TPORT HPORT
for t in "${TIDS[@]}"; do
  TPORT[$t]=$(free_port)
  frag=$(sed -e "s|@TAMBON@|$t|g" -e "s|@UPPER_ADDRESS@|127.0.0.1:$PROV_PORT|g" -e "s|@BRIDGE_PASSWORD@|demo-$t|g" \
    "$ROOT/broker-config/tao-bridge.conf.in")
  render_broker "$DIR/$t/mosquitto.conf" "${TPORT[$t]}" "$DIR/$t/data" "$DIR/$t/accounts" "$frag"
  start_broker "$t" "$DIR/$t/mosquitto.conf" "$DIR/$t/mosquitto.log"
done
for t in "${TIDS[@]}"; do wait_port "${TPORT[$t]}" || { tail "$DIR/$t/mosquitto.log"; die "$t's broker did not start"; }; done

# One rehearsal clock for every kaoko; heartbeats every simulated minute.
T0_EPOCH=$(date -u +%s)
T0=$(date -u -d "@$T0_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
CLOCK=(--time-scale "$SPEED" --time-origin "$T0" --heartbeat 60)
PROV_HTTP=$(free_port)
"$SERVER" --tier province "${NETWORKS[@]}" --db "$DIR/province/province.db" --broker "tcp://127.0.0.1:$PROV_PORT" \
  --credentials "$DIR/province/accounts/credentials.toml" --http "127.0.0.1:$PROV_HTTP" "${CLOCK[@]}" \
  >"$DIR/province/kaoko.log" 2>&1 &
PIDS+=($!)
PROV_PID=$!
TAO_PIDS=()
for t in "${TIDS[@]}"; do
  HPORT[$t]=$(free_port)
  "$SERVER" --network "$DIR/$t/network.toml" --db "$DIR/$t/tao.db" --broker "tcp://127.0.0.1:${TPORT[$t]}" \
    --credentials "$DIR/$t/accounts/credentials.toml" --http "127.0.0.1:${HPORT[$t]}" --uplink "${CLOCK[@]}" \
    >"$DIR/$t/kaoko.log" 2>&1 &
  PIDS+=($!)
  TAO_PIDS+=($!)
done
wait_http "http://127.0.0.1:$PROV_HTTP/healthz" 60 || { tail "$DIR/province/kaoko.log"; die "the province's kaoko is not healthy"; }
for t in "${TIDS[@]}"; do
  wait_http "http://127.0.0.1:${HPORT[$t]}/healthz" 60 || { tail "$DIR/$t/kaoko.log"; die "$t's kaoko is not healthy"; }
done
# The province hears every TAO (their heartbeats came over the bridges).
heard() { curl -fs "http://127.0.0.1:$PROV_HTTP/api/v1/tiers" | jq '[.nodes[]? | select(.last_heard != null)] | length' 2>/dev/null || echo 0; }
for ((i = 0; i < 600; i++)); do [ "$(heard)" -ge "$TAMBONS" ] && break; sleep 0.1; done
[ "$(heard)" -ge "$TAMBONS" ] || die "the province heard only $(heard) of $TAMBONS TAOs (see $DIR/province/kaoko.log)"
say "up: 1 + $TAMBONS brokers, 1 + $TAMBONS kaoko-servers; the province hears every TAO"

# Every alert that reaches the province's broker, with its arrival time.
mosquitto_sub -h 127.0.0.1 -p "$PROV_PORT" -V mqttv311 -u kaoko -P demo-kaoko -i province-bench-alerts -q 1 \
  -t 'kaoko/v1/+/+/alert' -F '%U %t %p' >"$DIR/alerts.log" 2>"$DIR/alerts.err" &
PIDS+=($!)
sleep 0.5

# ---------------------------------------------------------------- one probe
# At every TAO's broker a subscriber to the probe stations' reading topics: the moment a probe reading passes through
# the TAO's broker (what a station's publish is, seen from the service side; the probe's own client start and connect
# are left out).
for t in "${TIDS[@]}"; do
  topics=()
  for ((v = 0; v < VILLAGES; v++)); do topics+=(-t "$(printf 'kaoko/v1/%s/v%02d/station/p-v%02d/reading' "$t" "$v" "$v")"); done
  mosquitto_sub -h 127.0.0.1 -p "${TPORT[$t]}" -V mqttv311 -u kaoko -P demo-kaoko -i "province-bench-probe-$t" -q 1 \
    "${topics[@]}" -F '%U %t' >"$DIR/$t/probe-readings.log" 2>"$DIR/$t/probe-readings.err" &
  PIDS+=($!)
done
sleep 0.5
PROBE_NEXT=0
PROBE_SEQ=0
# Publishes a reading over watch at the next fresh village's probe station; appends
# "broker_ms api_ms pub_ms poll_ms" (from the reading at the TAO's broker) to $DIR/probes-<step>.txt, or "lost".
probe() { # step
  local k=$PROBE_NEXT t v topic payload t0 t1 tr="" deadline seen_b="" seen_a="" line ts poll=0
  PROBE_NEXT=$((PROBE_NEXT + 1))
  t=${TIDS[k % TAMBONS]}
  v=$(printf 'v%02d' $(((k / TAMBONS) % VILLAGES)))
  [ $k -lt $((TAMBONS * VILLAGES)) ] || { echo "lost (no fresh village)" >>"$DIR/probes-$1.txt"; return; }
  PROBE_SEQ=$((PROBE_SEQ + 1))
  topic="kaoko/v1/$t/$v/station/p-$v/reading"
  payload=$(printf '{"seq":%d,"ts":"%s","level_cm":230.0,"rain_mm":0.0,"battery_v":3.9}' "$PROBE_SEQ" "$(sim_now)")
  t0=$(now)
  mosquitto_pub -h 127.0.0.1 -p "${TPORT[$t]}" -V mqttv311 -u kaoko -P demo-kaoko -q 1 -t "$topic" -m "$payload" ||
    die "mosquitto_pub to $t failed"
  t1=$(now)
  deadline=$(awk -v a="$t0" 'BEGIN { printf "%d", a + 15 }')
  while [ -z "$seen_a" ] || [ -z "$seen_b" ] || [ -z "$tr" ]; do
    if [ -z "$tr" ]; then
      line=$(grep -F " $topic" "$DIR/$t/probe-readings.log" | tail -1 || true)
      [ -n "$line" ] && tr=${line%% *}
    fi
    if [ -z "$seen_b" ]; then
      line=$(grep -F " kaoko/v1/$t/$v/alert " "$DIR/alerts.log" | grep -v '"level":"normal"' | tail -1 || true)
      [ -n "$line" ] && seen_b=${line%% *}
    fi
    if [ -z "$seen_a" ]; then
      ts=$(now)
      if curl -fs "http://127.0.0.1:$PROV_HTTP/api/v1/villages" |
         jq -e --arg t "$t" --arg v "$v" 'any(.[]; .tambon == $t and .village == $v and .level == "watch")' >/dev/null 2>&1; then
        seen_a=$(now)
        poll=$(awk -v a="$ts" -v b="$seen_a" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
      fi
    fi
    [ "${EPOCHREALTIME%.*}" -lt "$deadline" ] || break
    [ -n "$seen_a" ] && [ -n "$seen_b" ] && [ -n "$tr" ] || sleep 0.01
  done
  if [ -z "$seen_a" ] || [ -z "$seen_b" ] || [ -z "$tr" ]; then echo "lost $t/$v" >>"$DIR/probes-$1.txt"; return; fi
  awk -v r="$tr" -v b="$seen_b" -v c="$seen_a" -v a="$t0" -v d="$t1" -v p="$poll" \
    'BEGIN { printf "%.1f %.1f %.1f %s\n", (b - r) * 1000, (c - r) * 1000, (d - a) * 1000, p }' >>"$DIR/probes-$1.txt"
}
pct() { # file column p → value (nearest rank)
  awk -v c="$2" '$1 != "lost" { print $c }' "$1" | sort -n |
    awk -v p="$3" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

# ---------------------------------------------------------------- the steps
CLK=$(getconf CLK_TCK)
PER_STATION=$(awk -v k="$SPEED" 'BEGIN { print k / 60 }')   # readings per real second per active station
RESULTS=()
IFS=, read -r -a RATE_LIST <<<"$RATES"
step=0
for rate in "${RATE_LIST[@]}"; do
  step=$((step + 1))
  n=$(awk -v r="$rate" -v t="$TAMBONS" -v p="$PER_STATION" 'BEGIN { x = r / t / p; printf "%d", (x == int(x)) ? x : int(x) + 1 }')
  max=$((VILLAGES * STATIONS))
  if [ "$n" -gt "$max" ]; then say "rate $rate needs $n stations per tambon, the network has $max: skipped (raise --stations)"; continue; fi
  offered=$(awk -v n="$n" -v t="$TAMBONS" -v p="$PER_STATION" 'BEGIN { printf "%d", n * t * p }')
  say "step $step: $n stations per tambon ($((n * TAMBONS)) in all), offered $offered readings/s"
  hours=$(awk -v s="$((WARMUP + WINDOW + 180))" -v k="$SPEED" 'BEGIN { printf "%.4f", s * k / 3600 }')
  start=$(sim_now)
  SIM_PIDS=()
  for t in "${TIDS[@]}"; do
    "$SIM" --network "$DIR/$t/network.toml" --scenario "$SCENARIO" --broker "tcp://127.0.0.1:${TPORT[$t]}" \
      --user kaoko --password demo-kaoko --scale "$n" --connections 1 --speed "$SPEED" --start "$start" \
      --duration "$hours" --state-dir "$DIR/$t/sim" --no-watchers --no-responders --no-offline-at-exit \
      --progress lines >"$DIR/$t/sim-$step.log" 2>&1 &
    SIM_PIDS+=($!)
  done
  sleep "$WARMUP"
  # The window.
  p0=$(prov_total); a0=$(tao_total)
  cb0=$(ticks "${BROKER_PIDS[0]}"); ct0=$(ticks "${BROKER_PIDS[@]:1}"); ck0=$(ticks "${TAO_PIDS[@]}")
  cp0=$(ticks "$PROV_PID"); cs0=$(ticks "${SIM_PIDS[@]}")
  read -r mb0 mt0 < <(machine_busy)
  w0=$(now)
  gap=$(awk -v w="$WINDOW" -v p="$PROBES" 'BEGIN { printf "%.2f", w / (p + 1) }')
  : >"$DIR/probes-$step.txt"
  for ((j = 0; j < PROBES; j++)); do
    sleep "$gap"
    # A slow probe must not stretch the window: no new probe in its last second.
    awk -v w0="$w0" -v w="$WINDOW" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n < w0 + w - 1) }' || break
    probe "$step"
  done
  left=$(awk -v w0="$w0" -v w="$WINDOW" -v n="$EPOCHREALTIME" 'BEGIN { x = w0 + w - n; printf "%.2f", (x > 0) ? x : 0 }')
  sleep "$left"
  p1=$(prov_total); a1=$(tao_total)
  cb1=$(ticks "${BROKER_PIDS[0]}"); ct1=$(ticks "${BROKER_PIDS[@]:1}"); ck1=$(ticks "${TAO_PIDS[@]}")
  cp1=$(ticks "$PROV_PID"); cs1=$(ticks "${SIM_PIDS[@]}")
  read -r mb1 mt1 < <(machine_busy)
  w1=$(now)
  backlog=$(for t in "${TIDS[@]}"; do curl -fs "http://127.0.0.1:${HPORT[$t]}/api/v1/tiers" | jq -r '"\(.uplink.backlog // 0) \(.uplink.resends // 0)"'; done |
    awk '{ s += $1; if ($1 > m) m = $1; r += $2 } END { printf "%d / %d / %d", s, m, r }')
  # Stop the sims (their --duration is only a backstop); then: how long until the province holds what the TAOs stored.
  for pid in "${SIM_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SIM_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  SIM_PIDS=()
  sleep 1
  d0=$(now); lag="> 60"
  for ((i = 0; i < 240; i++)); do
    target=$(tao_total)
    if [ "$(prov_total)" -ge "$target" ]; then lag=$(awk -v a="$d0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'); break; fi
    sleep 0.25
  done
  el=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')
  f() { awk -v x="$1" -v y="$2" -v e="$el" -v c="$CLK" 'BEGIN { printf "%.0f", (y - x) / c / e * 100 }'; }
  lost=$(grep -c '^lost' "$DIR/probes-$step.txt" || true)
  RESULTS+=("$(printf '| %s | %s | %.0f | %.0f | %s / %s / %s | %s / %s / %s | %s | %s | %s | %s%% | %s%% | %s%% | %s%% | %s%% | %.0f%% |' \
    "$((n * TAMBONS))" "$offered" \
    "$(awk -v a="$a0" -v b="$a1" -v e="$el" 'BEGIN { print (b - a) / e }')" \
    "$(awk -v a="$p0" -v b="$p1" -v e="$el" 'BEGIN { print (b - a) / e }')" \
    "$(pct "$DIR/probes-$step.txt" 1 50)" "$(pct "$DIR/probes-$step.txt" 1 99)" "$(pct "$DIR/probes-$step.txt" 1 100)" \
    "$(pct "$DIR/probes-$step.txt" 2 50)" "$(pct "$DIR/probes-$step.txt" 2 99)" "$(pct "$DIR/probes-$step.txt" 2 100)" \
    "$(( $(wc -l <"$DIR/probes-$step.txt") - lost ))/$(wc -l <"$DIR/probes-$step.txt")" "$backlog" "$lag" \
    "$(f "$ct0" "$ct1")" "$(f "$cb0" "$cb1")" "$(f "$ck0" "$ck1")" "$(f "$cp0" "$cp1")" "$(f "$cs0" "$cs1")" \
    "$(awk -v a="$mb0" -v b="$mb1" -v x="$mt0" -v y="$mt1" 'BEGIN { print (b - a) / (y - x) * 100 }')")")
  say "${RESULTS[-1]}"
  pr=$(awk -v a="$p0" -v b="$p1" -v e="$el" 'BEGIN { print int((b - a) / e) }')
  if [ "$pr" -lt $((offered * 9 / 10)) ]; then say "the province stored $pr/s of $offered/s offered: it no longer keeps up, stopping"; break; fi
done

# ---------------------------------------------------------------- the table
median_col() { cat "$DIR"/probes-*.txt | awk -v c="$1" '$1 != "lost" { print $c }' | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
pubs=$(median_col 3)
polls=$(median_col 4)
cat <<EOF

A province of $TAMBONS tambons × $VILLAGES villages on 127.0.0.1 ($(nproc) cores; $(date -u +%Y-%m-%d)); $STATIONS synthetic
stations per village + 1 probe station, one reading per station per simulated minute, rehearsal speed ${SPEED}×;
$TAMBONS TAO brokers bridged to 1 province broker (tao-bridge.conf.in), $TAMBONS kaoko-server --uplink, 1 kaoko-server
--tier province; one kaoko-sim --scale N --connections 1 per tambon; no village edge boxes. Window ${WINDOW} s after
a ${WARMUP} s warm-up. CPU = % of one core over the window (/proc/<pid>/stat); machine = all cores busy.

| stations | offered/s | stored at TAOs/s | at province/s | alert → province broker p50 / p99 / max ms | → province /api/v1/villages p50 / p99 / max ms | probes seen | journal backlog sum / max / resends | lag after stop s | TAO brokers | province broker | TAO kaokos | province kaoko | sims | machine |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
EOF
printf '%s\n' "${RESULTS[@]}"
cat <<EOF

Latency is timed from the probe reading passing through its TAO's broker (a mosquitto_sub there, %U) to the village's
alert arriving at the province's broker (a mosquitto_sub there, %U) and to the province's GET /api/v1/villages
showing it (polled with curl | jq; the time counted ends when the successful poll returns; a poll took a median
$polls ms). The probe client's own start, connect and PUBACK (a new mosquitto_pub each time: median $pubs ms) are not
counted. Journal backlog = entries the TAOs had appended and the province had not acknowledged at the end of the
window (GET /api/v1/tiers of each TAO: sum / largest / resends since start, summed). Lag after stop = from stopping
the sims until province.db holds as many readings as all tao.db together.
EOF
