#!/usr/bin/env bash
# Runs the browser tests (node --test) of one file ($3, default screens.test.mjs) against the launcher given as $1;
# screenshots into $2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
launcher="$1"; shots="$2"; file="${3:-screens.test.mjs}"
fail() { echo "browser tests: $*" >&2; exit 1; }
command -v node >/dev/null 2>&1 || fail "node is missing: install Debian's nodejs and npm (./kaoko deps)"
chromium="${KAOKO_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || fail "$chromium is missing: install Debian's chromium (./kaoko deps); no browser is ever downloaded"
[ -d "$here/node_modules/playwright-core" ] || fail "tests/web/node_modules is missing: run 'npm ci' in tests/web (./kaoko build does)"
fc-list 2>/dev/null | grep -qi loma || echo "browser tests: warning: Thai fonts (fonts-thai-tlwg) are not installed" >&2
export KAOKO_LAUNCHER="$launcher" KAOKO_SCREENSHOTS="$shots" KAOKO_CHROMIUM="$chromium"
cd "$here"
# One file: its tests run one after another. (No --test-concurrency: Debian 12's Node.js 18 does not know it.)
exec node --test "$file"
