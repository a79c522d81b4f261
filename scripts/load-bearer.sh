#!/usr/bin/env bash
# Requests per second of the same axum handler on loopback: bare (/bare), behind
# entra-axum's bearer layer with a cached token (/layered), and behind the layer
# over a validator that does no work (/static: the layer's own cost). Installs a
# load generator if none is present: `oha` (cargo install) or Debian's `wrk`.
#
#   scripts/load-bearer.sh [seconds per run, default 10] [connections, default 32] [rounds, default 5] [server]
#
# `server` is a load_server binary built beforehand (to compare two builds, run
# the script once with each, alternating); by default the example is built here.
#
# Every path gets the same request (the same `Authorization: Bearer` header, so
# the same bytes to parse) from the same server process. After a warm-up of each
# path, the paths are measured in rounds whose order alternates (forward, then
# backward), and the medians are compared: on a machine shared with other work,
# look at the ratios, and at the server's CPU time per request (user + system,
# from /proc), which depends far less on what else runs on the machine. Every run is bounded in time; the server exits by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
CONNS="${2:-32}"
ROUNDS="${3:-5}"
SERVER_BIN="${4:-}"
PATHS=(/bare /layered /static)

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

if [ -z "$SERVER_BIN" ]; then
  cargo build --release -q -p entra-axum --example load_server
  SERVER_BIN="${CARGO_TARGET_DIR:-target}/release/examples/load_server"
fi
OUT="$(mktemp)"
SERVE_SECS=$(( ${#PATHS[@]} * (ROUNDS * SECS + 3) + 60 ))
"$SERVER_BIN" "$SERVE_SECS" >"$OUT" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 1 100); do
  grep -q '^TOKEN=' "$OUT" && break
  sleep 0.1
done
URL="$(sed -n 's/^URL=//p' "$OUT")"
TOKEN="$(sed -n 's/^TOKEN=//p' "$OUT")"

cpu_ticks() { # user + system CPU time of the server, in clock ticks
  awk '{ print $14 + $15 }' "/proc/$SERVER/stat"
}

run() { # path seconds -> "requests/s server-CPU-µs-per-request"
  local before after rps total
  before="$(cpu_ticks)"
  if [ "$TOOL" = oha ]; then
    rps="$(oha -z "${2}s" -c "$CONNS" --no-tui -H "Authorization: Bearer $TOKEN" --output-format json "$URL$1" \
      | sed -n 's/.*"requestsPerSec": *\([0-9.]*\).*/\1/p' | head -1)"
    total="$(awk -v r="$rps" -v s="$2" 'BEGIN { print r * s }')"
  else
    local out
    out="$(wrk -t2 -c "$CONNS" -d "${2}s" -H "Authorization: Bearer $TOKEN" "$URL$1")"
    rps="$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')"
    total="$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')"
  fi
  after="$(cpu_ticks)"
  echo "$rps $(awk -v t=$(( after - before )) -v hz="$(getconf CLK_TCK)" -v n="$total" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "tool: $TOOL, $SECS s per run, $CONNS connections, $ROUNDS rounds, $(nproc) CPUs, $(uptime | sed 's/.*load/load/')"
for p in "${PATHS[@]}"; do run "$p" 3 >/dev/null; done
declare -A RESULTS CPU
for round in $(seq 1 "$ROUNDS"); do
  if [ $(( round % 2 )) = 1 ]; then order=("${PATHS[@]}"); else order=(/static /layered /bare); fi
  line="round $round:"
  for p in "${order[@]}"; do
    read -r r c <<<"$(run "$p" "$SECS")"
    RESULTS[$p]+="$r "
    CPU[$p]+="$c "
    line+=" $p $r req/s ($c µs CPU/req)"
  done
  echo "$line"
done
B="$(echo "${RESULTS[/bare]}" | tr ' ' '\n' | grep . | median)"
BC="$(echo "${CPU[/bare]}" | tr ' ' '\n' | grep . | median)"
for p in "${PATHS[@]}"; do
  M="$(echo "${RESULTS[$p]}" | tr ' ' '\n' | grep . | median)"
  C="$(echo "${CPU[$p]}" | tr ' ' '\n' | grep . | median)"
  echo "median $p: $M req/s (ratio to bare $(awk -v m="$M" -v b="$B" 'BEGIN { printf "%.3f", m / b }')), server CPU $C µs/request (+$(awk -v c="$C" -v b="$BC" 'BEGIN { printf "%.2f", c - b }'))"
done
echo "after: $(uptime | sed 's/.*load/load/')"
