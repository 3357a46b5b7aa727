#!/usr/bin/env bash
# Proves check-rooms.sh can fail: a small tree that keeps every rule passes; adding each forbidden include in turn
# makes the check fail and name that file and line.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

mkdir -p "$tmp"/{contract/src,alerting/src,server/store/src,server/mqtt/src,server/http/src,server/ingest/src,server/delivery/src,firmware-sim/src}
printf '#include <sqlite3.h>\n' >"$tmp/server/store/src/store.cpp"
printf '#include <mqtt/async_client.h>\n' >"$tmp/server/mqtt/src/mqtt_link.cpp"
printf '#include <mqtt/async_client.h>\n' >"$tmp/firmware-sim/src/mqtt_link.cpp"
printf '#include <boost/beast/http.hpp>\n' >"$tmp/server/http/src/session.cpp"
printf '#include <boost/beast/http.hpp>\n' >"$tmp/firmware-sim/src/line_http_server.cpp"
printf '#include "kaoko/alerting/engine.hpp"\n#include <vector>\n' >"$tmp/server/ingest/src/core.cpp"
printf '#include "kaoko/alerting/network.hpp"\n' >"$tmp/contract/src/wire.cpp"
printf '#include <fmt/format.h>\n' >"$tmp/alerting/src/engine.cpp"
printf '#include <curl/curl.h>\n' >"$tmp/server/delivery/src/kannel_sender.cpp"

if ! out=$("$here/check-rooms.sh" "$tmp"); then
  echo "selftest: a tree that keeps every rule was refused:"; echo "$out"; fail=1
fi

# file | line to add | what the check must say
breaches=(
  "server/ingest/src/core.cpp|#include <sqlite3.h>|SQLite is included only in server/store/"
  "server/http/src/session.cpp|#include \"MQTTAsync.h\"|Paho is included only"
  "server/ingest/src/core.cpp|#include <mqtt/async_client.h>|Paho is included only"
  "server/store/src/store.cpp|#include <boost/beast/core.hpp>|Boost.Beast is included only"
  "alerting/src/engine.cpp|#include \"kaoko/store/store.hpp\"|alerting/ is pure"
  "alerting/src/engine.cpp|#include <sys/mman.h>|alerting/ is pure"
  "contract/src/wire.cpp|#include <boost/asio/io_context.hpp>|contract/ is pure"
  "contract/src/wire.cpp|  #  include \"kaoko/ingest/core.hpp\"|contract/ is pure"
  "server/http/src/session.cpp|#include <curl/curl.h>|libcurl is included only in server/delivery/"
  "alerting/src/engine.cpp|#include \"kaoko/delivery/delivery.hpp\"|alerting/ is pure"
)
for b in "${breaches[@]}"; do
  IFS='|' read -r file line says <<<"$b"
  cp "$tmp/$file" "$tmp/$file.keep"
  printf '%s\n' "$line" >>"$tmp/$file"
  if out=$("$here/check-rooms.sh" "$tmp"); then
    echo "selftest: '$line' in $file passed the check"; fail=1
  elif ! grep -qF "$file:" <<<"$out" || ! grep -qF "$says" <<<"$out"; then
    echo "selftest: '$line' in $file failed without naming it ('$says'):"; echo "$out"; fail=1
  fi
  mv "$tmp/$file.keep" "$tmp/$file"
done
[ $fail -eq 0 ] && echo "selftest: the check passes a clean tree and names each of ${#breaches[@]} breaches"
exit $fail
