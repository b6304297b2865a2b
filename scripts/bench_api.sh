#!/usr/bin/env bash
# API load benchmark (issue 8): 20,000 schools on SQLite, wrk at 10 connections, req/s and latency percentiles for
# a 100-row page, a filtered query and a full-text query. Not a test: it prints figures.
#
#   scripts/bench_api.sh [schools=20000] [seconds=15]
#
# Installs wrk from Debian's packages when it is missing. Builds the server example in release mode (set
# CARGO_TARGET_DIR to share a target folder), waits for it to import the schools, measures, stops it; twice: with the
# response cache as configured by default, and without it (every request queries and renders).
set -euo pipefail

SCHOOLS="${1:-20000}"
SECONDS_PER_RUN="${2:-15}"
CONNECTIONS=10
THREADS="${IKZ_BENCH_WRK_THREADS:-2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

(cd "$ROOT" && cargo build --release -q -p ikz-hub --example bench_api_server)

SERVER=""
LOG="$(mktemp)"
trap 'stop_server; rm -f "$LOG" "$LOG.err"' EXIT

stop_server() {
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=""
    fi
}

# Starts the server with a response cache of $1 MB (0: none) and waits until it has imported the schools.
start_server() {
    IKZ_BENCH_RESPONSE_CACHE_MB="$1" "$TARGET/release/examples/bench_api_server" "$SCHOOLS" >"$LOG" 2>"$LOG.err" &
    SERVER=$!
    for _ in $(seq 1 600); do
        grep -q '^READY ' "$LOG" && break
        kill -0 "$SERVER" 2>/dev/null || { cat "$LOG.err" >&2; exit 1; }
        sleep 0.2
    done
    BASE="$(sed -n 's/^READY //p' "$LOG")"
    [ -n "$BASE" ] || { echo "the server did not get ready" >&2; cat "$LOG.err" >&2; exit 1; }
    grep '^imported' "$LOG.err" >&2 || true
}

cores="$(nproc)"
cpu="$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "ikz-hub API load benchmark: $SCHOOLS schools, SQLite (WAL), release build"
echo "machine: $cores cores, $cpu; wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_PER_RUN}s on the same machine"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-58s %10s %9s %9s %9s %9s %11s\n' "request" "req/s" "p50 ms" "p90 ms" "p99 ms" "KB/resp" "CPU us/req"

# The server's CPU time (user + system, in clock ticks) from /proc: CPU per request depends far less than req/s on
# what else the machine is doing (other processes still slow it through shared caches).
TICKS="$(getconf CLK_TCK)"
server_cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$SERVER/stat"
}

# wrk reports latencies as e.g. 812.00us, 1.43ms, 2.01s: print them in ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else printf "%s", v }'
}

measure() {
    local label="$1" path="$2"
    local status
    status="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$BASE$path")"
    [ "${status%% *}" = "200" ] || { echo "$path answered $status" >&2; exit 1; }
    # Warm-up (connections, SQLite page cache), then the measured run.
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$BASE$path" >/dev/null
    local out cpu_before cpu_after
    cpu_before="$(server_cpu_ticks)"
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$BASE$path")"
    cpu_after="$(server_cpu_ticks)"
    local rps p50 p90 p99 errors requests
    rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p90="$(awk '$1 == "90%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    requests="$(awk '/requests in/ {print $1}' <<<"$out")"
    errors="$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)"
    printf '%-58s %10.0f %9s %9s %9s %9.1f %11.0f\n' "$label" "$rps" "$(to_ms "$p50")" "$(to_ms "$p90")" "$(to_ms "$p99")" \
        "$(awk -v b="${status##* }" 'BEGIN {print b / 1024}')" \
        "$(awk -v t="$((cpu_after - cpu_before))" -v hz="$TICKS" -v n="$requests" 'BEGIN {print t / hz * 1e6 / n}')"
    [ -z "$errors" ] || echo "  !! $errors"
}

measure_all() {
    measure "GET /api/v1/schools?limit=100" "/api/v1/schools?limit=100"
    measure "filtered: partner + school_type, limit=100" "/api/v1/schools?partner=hankensbuettel&school_type=grundschule&limit=100"
    measure "full text: q=hankensbuettel, limit=100" "/api/v1/schools?q=hankensbuettel&limit=100"
    measure "full text, two prefixes: q=schule%20gifh, limit=100" "/api/v1/schools?q=schule%20gifh&limit=100"
}

# As served: the response cache (server.response_cache_mb, default 64) answers repeated reads of unchanged data.
echo "-- response cache on (default): every request reads the data revision, then serves the kept rendering"
start_server 64
measure_all
stop_server
# The cost of a cache miss: every request queries SQLite and renders the page (what the first reader of a page after
# an import pays, and what a client walking many distinct pages pays).
echo "-- response cache off (server.response_cache_mb = 0): every request queries SQLite and renders"
start_server 0
measure_all
stop_server
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "target (issue 8, 2 cores): >= 5,000 req/s for the 100-row page, p99 < 20 ms"
