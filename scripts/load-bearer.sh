#!/usr/bin/env bash
# Requests per second of the same axum handler, bare and behind entra-axum's
# bearer layer (a cached token), on loopback. Installs a load generator if none
# is present: `oha` (cargo install) or Debian's `wrk`.
#
#   scripts/load-bearer.sh [seconds per run, default 10] [connections, default 32]
#
# Every run is bounded in time; the server exits by itself after the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
CONNS="${2:-32}"

if command -v oha >/dev/null; then
  TOOL=oha
elif command -v wrk >/dev/null; then
  TOOL=wrk
elif command -v apt-get >/dev/null && { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }; }; then
  TOOL=wrk
else
  cargo install --locked oha
  TOOL=oha
fi

cargo build --release -q -p entra-axum --example load_server
OUT="$(mktemp)"
SERVE_SECS=$(( 4 * SECS + 60 ))
"${CARGO_TARGET_DIR:-target}/release/examples/load_server" "$SERVE_SECS" >"$OUT" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 1 100); do
  grep -q '^TOKEN=' "$OUT" && break
  sleep 0.1
done
URL="$(sed -n 's/^URL=//p' "$OUT")"
TOKEN="$(sed -n 's/^TOKEN=//p' "$OUT")"

run() { # path -> requests/s
  if [ "$TOOL" = oha ]; then
    oha -z "${SECS}s" -c "$CONNS" --no-tui -H "Authorization: Bearer $TOKEN" --output-format json "$URL$1" \
      | sed -n 's/.*"requestsPerSec": *\([0-9.]*\).*/\1/p' | head -1
  else
    wrk -t2 -c "$CONNS" -d "${SECS}s" -H "Authorization: Bearer $TOKEN" "$URL$1" \
      | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
  fi
}

echo "tool: $TOOL, $SECS s per run, $CONNS connections, $(nproc) CPUs"
# Warm up both, then alternate bare / layered twice.
SECS_SAVE="$SECS"; SECS=2; run /bare >/dev/null; run /layered >/dev/null; SECS="$SECS_SAVE"
for round in 1 2; do
  B="$(run /bare)"
  L="$(run /layered)"
  echo "round $round: bare $B req/s, layered $L req/s, ratio $(awk -v l="$L" -v b="$B" 'BEGIN { printf "%.3f", l / b }')"
done
