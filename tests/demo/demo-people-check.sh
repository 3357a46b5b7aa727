#!/usr/bin/env bash
# The accounts ./kaoko demo prints for people (./kaoko demo-accounts) are nobody's bot: kaoko-sim, given them as
# --humans as the demo gives them, simulates none of them (--list-people), and without --humans it would (so the
# check means something); the demo passes exactly that list; their numbers in the demo's SMS network never reply and
# none is a LINE user that presses buttons by itself.
# Usage: demo-people-check.sh SOURCE_DIR KAOKO_SIM
set -euo pipefail
root="$1"; sim="$2"
fail() { echo "demo-people-check: $*" >&2; exit 1; }
network="$root/config/tonhong.toml"
scenario="$root/firmware-sim/scenarios/monsoon.toml"

mapfile -t people < <("$root/kaoko" demo-accounts)
[ ${#people[@]} -ge 4 ] || fail "the demo prints ${#people[@]} accounts for people"
humans=$(IFS=,; echo "${people[*]}")

# The demo hands kaoko-sim that very list.
grep -q -- '--humans "$(IFS=,; echo "${DEMO_PEOPLE\[\*\]}")"' "$root/kaoko" || fail "./kaoko demo does not pass DEMO_PEOPLE as --humans"

simulated=$("$sim" --network "$network" --scenario "$scenario" --humans "$humans" --list-people)
everyone=$("$sim" --network "$network" --scenario "$scenario" --list-people)
[ -n "$simulated" ] || fail "kaoko-sim simulates nobody"
roles_seen=""
for p in "${people[@]}"; do
  if grep -q "^$p " <<<"$simulated"; then fail "kaoko-sim plays '$p', an account the demo prints for people"; fi
  grep -q "^$p " <<<"$everyone" || fail "'$p' would not be simulated anyway: the check proves nothing"
  # Each person's role, from the network file.
  role=$(awk -v id="$p" '/^\[\[people\]\]/{cur=""} $1=="id"{gsub(/"/,"",$3); cur=$3} $1=="role" && cur==id {gsub(/"/,"",$3); print $3}' "$network")
  [ -n "$role" ] || fail "'$p' is not a person of $network"
  roles_seen="$roles_seen $role"
  # Their SMS number: the demo's kaoko-smsc has no phone for it that replies.
  number=$(awk -v id="$p" '/^\[\[people\]\]/{cur=""} $1=="id"{gsub(/"/,"",$3); cur=$3} $1=="contacts" && cur==id' "$network" |
    grep -o '"+66[0-9]*"' | tr -d '"' || true)
  if [ -n "$number" ]; then
    awk -v n="$number" '/^\[\[phone\]\]/{cur=""} $1=="number"{gsub(/"/,"",$3); cur=$3} $1=="reply" && cur==n {found=1} END{exit found?0:1}' \
      "$root/firmware-sim/smsc/tonhong.toml" && fail "'$p''s phone $number replies by itself in firmware-sim/smsc/tonhong.toml"
  fi
  # Their LINE user, if the network file links one: kaoko-line does not press for them.
  line=$(awk -v id="$p" '/^\[\[people\]\]/{cur=""} $1=="id"{gsub(/"/,"",$3); cur=$3} $1=="contacts" && cur==id' "$network" |
    grep -o 'user = "U[0-9a-f]*"' | grep -o 'U[0-9a-f]*' || true)
  if [ -n "$line" ]; then
    awk -v u="$line" '/^\[\[users\]\]/{cur=""} $1=="id"{gsub(/"/,"",$3); cur=$3} $1=="auto_press_after_ms" && cur==u {found=1} END{exit found?0:1}' \
      "$root/firmware-sim/line/tonhong.toml" && fail "'$p''s LINE account presses by itself in firmware-sim/line/tonhong.toml"
  fi
done
# One of each role of the chain is left to people, so a person can walk an incident from the report to the TAO.
for r in watcher committee headman tao; do
  [[ " $roles_seen " == *" $r "* ]] || fail "no $r among the accounts for people ($roles_seen)"
done
# What was checked, for the log.
village=$(awk -v id="${people[1]}" '/^\[\[people\]\]/{cur=""} $1=="id"{gsub(/"/,"",$3); cur=$3} $1=="village" && cur==id {gsub(/"/,"",$3); print $3}' "$network")
echo "demo-people-check: ${#people[@]} accounts for people (${people[*]}), village $village; kaoko-sim plays $(wc -l <<<"$simulated") others"
