#!/usr/bin/env bash
# Keeps the doors between kaoko's rooms (server/README.md): each IO library is included in exactly one room, and the
# pure parts include nothing of the server. Exits 1 and names every file and line that breaks a rule.
#
#   check-rooms.sh [ROOT]       check the tree at ROOT (default: this checkout)
#
# The rules, on every C++ file under contract/, alerting/, server/ and firmware-sim/ (their tests included; the
# top-level tests/ inspect the real database, broker and pages as an operator would, and are not a room):
#   sqlite3.h              only in server/store/
#   Paho (mqtt/*.h, MQTT*.h)  only in server/mqtt/ and firmware-sim/
#   Boost.Beast            only in server/http/, server/live/ and firmware-sim/ (kaoko-line, the LINE stand-in)
#   libcurl                only in server/delivery/ and firmware-sim/
#   alerting/, contract/   nothing of server/ (kaoko/<room>/ headers), no IO library (SQLite, Paho, Boost, libcurl,
#                          libsodium, OpenSSL) and no system IO headers (mmap, sockets, file descriptors)
set -u
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$root" || { echo "check-rooms: cannot enter $root"; exit 2; }

bad=0
# rule NAME PATTERN ALLOWED_PREFIX... : every #include matching PATTERN outside the allowed prefixes is a breach.
rule() {
  local name="$1" pattern="$2"
  shift 2
  local f hit allowed p
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    f="${hit%%:*}"
    allowed=0
    for p in "$@"; do case "$f" in "$p"*) allowed=1 ;; esac; done
    if [ $allowed -eq 0 ]; then
      echo "check-rooms: $hit: $name"
      bad=$((bad + 1))
    fi
  done < <(find contract alerting server firmware-sim -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) \
             -not -path '*/build*' -not -path '*/node_modules/*' 2>/dev/null | sort |
           xargs -r grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" 2>/dev/null)
}

rule "SQLite is included only in server/store/" 'sqlite3\.h' server/store/
rule "Paho is included only in server/mqtt/ and firmware-sim/" 'mqtt/|MQTT[A-Za-z]*\.h' server/mqtt/ firmware-sim/
rule "Boost.Beast is included only in server/http/, server/live/ and firmware-sim/" 'boost/beast' server/http/ server/live/ \
  firmware-sim/
rule "libcurl is included only in server/delivery/ (the gateways) and firmware-sim/" 'curl/' server/delivery/ \
  firmware-sim/
pure='kaoko/(common|store|ingest|delivery|mqtt|live|http|tiers|app|admin|sim|server)/|sqlite3\.h|mqtt/|MQTT|boost/|curl/|sodium|openssl/|sys/mman\.h|sys/socket\.h|netinet/|arpa/|fcntl\.h|unistd\.h|sys/file\.h'
rule "alerting/ is pure: nothing of server/, no IO library" "$pure" contract/ server/ firmware-sim/
rule "contract/ is pure: nothing of server/, no IO library" "$pure" alerting/ server/ firmware-sim/

if [ $bad -gt 0 ]; then
  echo "check-rooms: $bad include(s) break the rooms' boundaries (server/README.md says which room owns what)"
  exit 1
fi
echo "check-rooms: every include keeps to its room"
