#!/usr/bin/env bash
# gen-network-check.sh KAOKO_ADMIN — ctest bench_gen_network_sms: the network gen-network.sh --sms writes (the one
# kaoko-delivery-bench loads into kaoko-server) is one kaoko accepts: kaoko-admin loads it as kaoko-server does and
# fails with file, line and reason on a malformed number, a number given to two people or an unknown channel. Every
# person has a consented SMS contact of their own, and the [delivery] ladder sends SMS at once. No timing.
set -euo pipefail
admin="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "gen-network-check: $*" >&2; exit 1; }

bash "$here/gen-network.sh" --stations 40 --villages 4 --sms > "$tmp/n.toml"
"$admin" accounts --network "$tmp/n.toml" --dir "$tmp/accounts" --demo-passwords > "$tmp/admin.log" 2>&1 ||
  fail "kaoko-admin refused the --sms network: $(cat "$tmp/admin.log")"
people=$(grep -c '^\[\[people\]\]' "$tmp/n.toml")
[ "$people" = 9 ] || fail "expected 9 people (a TAO officer, a headman and a committee member a village), got $people"
sms=$(grep -c '^contacts = \[{ channel = "sms", number = "+66[0-9]\{9\}", consent = 2026-06-01 }\]$' "$tmp/n.toml")
[ "$sms" = "$people" ] || fail "$sms of $people people have a consented SMS contact"
dups=$(grep -o '+66[0-9]*' "$tmp/n.toml" | sort | uniq -d)
[ -z "$dups" ] || fail "numbers given to two people: $dups"
grep -q '^\[delivery\.ladder\.watch\]$' "$tmp/n.toml" || fail "no [delivery.ladder.watch]"

# Without --sms: no contacts and no [delivery] (the other benchmarks' networks are unchanged).
bash "$here/gen-network.sh" --stations 40 --villages 4 > "$tmp/plain.toml"
! grep -q 'contacts\|^\[delivery' "$tmp/plain.toml" || fail "contacts written without --sms"
# An unknown option is refused.
if bash "$here/gen-network.sh" --sms-please > /dev/null 2>&1; then fail "an unknown option was accepted"; fi
echo "gen-network-check: ok ($people people, $sms SMS contacts)"
