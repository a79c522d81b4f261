#!/usr/bin/env bash
# Requests per second on loopback of the same axum handler bare (/bare) and behind
# entra-axum's bearer layer with a cached token (/layered); of a handler
# extracting the `Caller` behind that layer (/caller), and behind the layer over
# a validator with no cache that answers at once (/static); and of the bare
# handler behind a layer that does nothing (/noop: axum's own cost for any layer
# on a route), and behind one that only puts a validated token in the request
# extensions (/extension: the least any bearer layer costs). `LOAD_PATHS="/bare
# /layered"` measures only those paths (it must include /bare). Installs a
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
# backward), and the medians are compared, as well as the median of each round's
# ratio to /bare (the two are measured one after the other, so a change of the
# machine's speed between rounds cancels out): on a machine shared with other work,
# look at the ratios, and at the server's CPU time per request (user + system,
# from /proc), which depends far less on what else runs on the machine. Every run is bounded in time; the server exits by itself.
#
# On a machine with two CPUs or more, the server runs on the first half of them and
# the load generator on the other half (`taskset`), so that they do not take CPU
# time from each other; the server's runtime then has one worker per CPU of its
# half. The script prints how busy the server's CPUs were during each run: near
# 100%, the server is what limits the requests/s (the figure measures the server,
# not the load generator). `PIN=0` runs both on every CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
CONNS="${2:-32}"
ROUNDS="${3:-5}"
SERVER_BIN="${4:-}"
read -r -a PATHS <<<"${LOAD_PATHS:-/bare /noop /extension /layered /caller /static}"
if [[ " ${PATHS[*]} " != *" /bare "* ]]; then
  echo "LOAD_PATHS must include /bare (every path is compared with it)" >&2
  exit 2
fi

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
CPUS="$(nproc)"
SERVER_CPUS=""
CLIENT_CPUS=""
CLIENT_THREADS=2
if [ "${PIN:-1}" != 0 ] && [ "$CPUS" -ge 2 ] && command -v taskset >/dev/null; then
  HALF=$(( CPUS / 2 ))
  SERVER_CPUS="0-$(( HALF - 1 ))"
  CLIENT_CPUS="$HALF-$(( CPUS - 1 ))"
  CLIENT_THREADS=$(( CPUS - HALF ))
fi
pinned() { # cpu-list command... : runs (execs) the command on those CPUs, or anywhere
  local cpus="$1"
  shift
  if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi
}
SERVER_CPU_COUNT="$( pinned "$SERVER_CPUS" nproc )"

OUT="$(mktemp)"
SERVE_SECS=$(( ${#PATHS[@]} * (ROUNDS * SECS + 3) + 60 ))
( pinned "$SERVER_CPUS" "$SERVER_BIN" "$SERVE_SECS" >"$OUT" ) &
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

run() { # path seconds -> "requests/s server-CPU-µs-per-request server-busy-%"
  local before after rps total
  before="$(cpu_ticks)"
  if [ "$TOOL" = oha ]; then
    rps="$( (pinned "$CLIENT_CPUS" oha -z "${2}s" -c "$CONNS" --no-tui -H "Authorization: Bearer $TOKEN" --output-format json "$URL$1") \
      | sed -n 's/.*"requestsPerSec": *\([0-9.]*\).*/\1/p' | head -1)"
    total="$(awk -v r="$rps" -v s="$2" 'BEGIN { print r * s }')"
  else
    local out
    out="$( (pinned "$CLIENT_CPUS" wrk -t"$CLIENT_THREADS" -c "$CONNS" -d "${2}s" -H "Authorization: Bearer $TOKEN" "$URL$1") )"
    rps="$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')"
    total="$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')"
  fi
  after="$(cpu_ticks)"
  echo "$rps $(awk -v t=$(( after - before )) -v hz="$(getconf CLK_TCK)" -v n="$total" -v s="$2" -v c="$SERVER_CPU_COUNT" \
    'BEGIN { printf "%.2f %.0f", t / hz * 1e6 / n, t / hz / s / c * 100 }')"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "tool: $TOOL, $SECS s per run, $CONNS connections, $ROUNDS rounds, $CPUS CPUs (server on ${SERVER_CPUS:-all}, load generator on ${CLIENT_CPUS:-all}), $(uptime | sed 's/.*load/load/')"
for p in "${PATHS[@]}"; do run "$p" 3 >/dev/null; done
declare -A RESULTS CPU RATIOS ROUND
for round in $(seq 1 "$ROUNDS"); do
  order=("${PATHS[@]}")
  if [ $(( round % 2 )) = 0 ]; then
    order=()
    for (( i = ${#PATHS[@]} - 1; i >= 0; i-- )); do order+=("${PATHS[i]}"); done
  fi
  line="round $round:"
  for p in "${order[@]}"; do
    read -r r c busy <<<"$(run "$p" "$SECS")"
    RESULTS[$p]+="$r "
    CPU[$p]+="$c "
    ROUND[$p]="$r"
    line+=" $p $r req/s ($c µs CPU/req, server CPUs $busy% busy)"
  done
  for p in "${PATHS[@]}"; do
    RATIOS[$p]+="$(awk -v m="${ROUND[$p]}" -v b="${ROUND[/bare]}" 'BEGIN { printf "%.4f", m / b }') "
  done
  echo "$line"
done
B="$(echo "${RESULTS[/bare]}" | tr ' ' '\n' | grep . | median)"
BC="$(echo "${CPU[/bare]}" | tr ' ' '\n' | grep . | median)"
for p in "${PATHS[@]}"; do
  M="$(echo "${RESULTS[$p]}" | tr ' ' '\n' | grep . | median)"
  C="$(echo "${CPU[$p]}" | tr ' ' '\n' | grep . | median)"
  R="$(echo "${RATIOS[$p]}" | tr ' ' '\n' | grep . | median)"
  echo "median $p: $M req/s (ratio to bare $(awk -v m="$M" -v b="$B" 'BEGIN { printf "%.3f", m / b }'); median of the rounds' ratios $(printf '%.3f' "$R")), server CPU $C µs/request (+$(awk -v c="$C" -v b="$BC" 'BEGIN { printf "%.2f", c - b }'))"
done
echo "after: $(uptime | sed 's/.*load/load/')"
