#!/usr/bin/env bash
# flat.sh — is each proxy's CPU per request flat with the route count? (make bench-flat)
#
# bench-compare measures one route set after another, so its r1 and h100k runs are minutes
# apart on a machine whose speed drifts by more than the 5% the target allows. Here the three
# loads are interleaved within each round, for each proxy: 1 route (r1), the middle host of N
# (mid), and requests spread over all N hosts (spread, wrk's Lua from the set). Spread is
# compared with r1-lua, the 1-route set driven by the same Lua (its one host every time):
# wrk's request() costs its core enough to lower the rate every proxy sees, and a proxy
# that gets fewer requests per wake-up pays more for each, whatever its route count. Each
# measurement starts the proxy afresh on the set (so no instance lives long enough for Go's
# two-minute forced GC to fall into a run), waits for its first routed 200 and then SETTLE
# seconds (loading 100k routes is seconds of work whose after-effects should not land in the
# first run), warms it for 1 s, then runs wrk -t1 -c50 for DURATION; CPU = the proxy's
# utime+stime per request from /proc. Odd rounds run r1 first, even rounds the N-host set.
# Same topology as bench-compare: wrk and the backends on core 0, the proxy on core 1.
#
# Usage: bench/flat.sh              Environment: ROUNDS (5) DURATION (5s) N (100000) SETTLE (3)
#        PROXIES ("sluice haproxy nginx") WORK (/tmp/sluice-bench)
# Installs wrk, haproxy and nginx-light with apt-get when missing. Loopback only; stops what
# it starts, by PID. Prints per proxy and load: median CPU µs/req (min-max) and the ratio to r1.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
N=${N:-100000}
SETTLE=${SETTLE:-3}
WORK=${WORK:-/tmp/sluice-bench}
read -r -a PROXIES <<< "${PROXIES:-sluice haproxy nginx}"
PATH=$PATH:/usr/sbin:/usr/local/go/bin

source "$HERE/lib.sh"
need_tools wrk haproxy nginx
ports_free 8081 8082 8083 9001 9002
mkdir -p "$WORK/bin"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/" ./cmd/sluice ./bench/cmd/backend ./bench/cmd/genroutes)
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)

PIDS=() # stopped at exit (lib.sh's stop_started)
trap stop_started EXIT INT TERM

setdir() { # N : the hosts:N route set, written by genroutes when missing or stale
  local dir=$WORK/routes-hosts-$1 gen
  gen=$(sha256sum < "$WORK/bin/genroutes")
  if [[ ! -f $dir/hit || $(cat "$dir/.genroutes" 2>/dev/null) != "$gen" ]]; then
    rm -rf "$dir" && "$WORK/bin/genroutes" -kind hosts -n "$1" -out "$dir" && echo "$gen" > "$dir/.genroutes"
  fi
  echo "$dir"
}
D1=$(setdir 1) DN=$(setdir "$N")

taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.1:9001 > /dev/null 2>&1 & PIDS+=($!)
taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.2:9002 > /dev/null 2>&1 & PIDS+=($!)

# run PROXY DIR LOAD... : start PROXY on DIR's set, measure each LOAD (mid, spread), stop it
run() {
  local proxy=$1 dir=$2 port pid host path load i t0 t1 reqs lua; shift 2
  read -r host path < "$dir/hit"
  case $proxy in
    sluice) port=8083; taskset -c 1 env GOMAXPROCS=1 "$WORK/bin/sluice" --entryPoints.web.address=127.0.0.1:8083 \
      --providers.manifests.directory="$dir/sluice" --log.level=warn > /dev/null 2>&1 & pid=$! ;;
    haproxy) port=8081; taskset -c 1 haproxy -db -f "$dir/haproxy.cfg" > /dev/null 2>&1 & pid=$! ;;
    nginx) port=8082; taskset -c 1 nginx -p "$dir/nginx/" -c nginx.conf -g 'daemon off;' > /dev/null 2>&1 & pid=$! ;;
  esac
  for ((i = 0; i < 1200; i++)); do
    curl -s -o /dev/null -f -m 2 -H "Host: $host" "http://127.0.0.1:$port$path" && break
    sleep 0.05
  done
  sleep "$SETTLE"
  for load in "$@"; do
    lua=()
    [[ $load == spread ]] && lua=(-s "$dir/spread.lua")
    taskset -c 0 wrk -t1 -c50 -d1s "${lua[@]}" -H "Host: $host" "http://127.0.0.1:$port$path" > /dev/null
    t0=$(ticks "$pid")
    reqs=$(taskset -c 0 wrk -t1 -c50 -d"$DURATION" "${lua[@]}" -H "Host: $host" "http://127.0.0.1:$port$path" |
      awk '/requests in/ {print $1}')
    t1=$(ticks "$pid")
    local name=$load
    if [[ $dir == "$D1" ]]; then name=r1; [[ $load == spread ]] && name=r1-lua; fi
    awk -v p="$proxy" -v l="$name" -v t=$((t1 - t0)) -v r="${reqs:-1}" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "%s\t%s\t%.2f\n", p, l, t * 1e6 / hz / r }' | tee -a "$WORK/flat.tsv" >&2
  done
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}

: > "$WORK/flat.tsv"
for ((r = 1; r <= ROUNDS; r++)); do
  for p in "${PROXIES[@]}"; do
    if ((r % 2)); then
      run "$p" "$D1" mid spread
      run "$p" "$DN" mid spread
    else
      run "$p" "$DN" mid spread
      run "$p" "$D1" mid spread
    fi
  done
done

summary() {
  echo "Commit $COMMIT, $(date -u +%F), N=$N hosts, $ROUNDS interleaved rounds of $DURATION (wrk -t1 -c50)."
  echo "CPU µs per request, median (min-max); ratios of medians: mid to r1, spread to r1-lua (the"
  echo "1-route set under the spread's Lua) and, as before, spread to r1."
  echo
  echo "| proxy | r1 | r1-lua | h${N}-mid | h${N}-spread | mid / r1 | spread / r1-lua | spread / r1 |"
  echo "|---|---|---|---|---|---|---|---|"
  local p l row
  for p in "${PROXIES[@]}"; do
    row=$p
    for l in r1 r1-lua mid spread; do
      row+=$'\t'$(awk -F'\t' -v p="$p" -v l="$l" '$1 == p && $2 == l {print $3}' "$WORK/flat.tsv" | median_min_max)
    done
    awk -F'\t' '{ split($2, a, " "); split($3, l, " "); split($4, b, " "); split($5, c, " ");
      printf "| %s | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.3f | %.3f | %.3f |\n",
        $1, a[1], a[2], a[3], l[1], l[2], l[3], b[1], b[2], b[3], c[1], c[2], c[3], b[1] / a[1], c[1] / l[1], c[1] / a[1] }' <<< "$row"
  done
}
summary | tee "$WORK/flat.md"
