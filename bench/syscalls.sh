#!/usr/bin/env bash
# syscalls.sh — what one proxy does per request, counted by the kernel (make bench-syscalls).
#
# Starts the two demo backends (core 0) and one proxy (core 1: Sluice GOMAXPROCS=1, HAProxy
# nbthread 1, nginx 1 worker) on the 1-route set of bench/compare.sh, loads it for DURATION on
# core 0, and prints, per request: the proxy's user and system CPU µs (from /proc), its context
# switches and each syscall it made (perf stat's syscalls:sys_enter_* tracepoints), divided by
# the requests the load generator completed. perf's tracepoints slow the proxy: compare the CPU
# figures only with each other, and take the unperturbed CPU from bench/compare.sh.
#
# Usage: bench/syscalls.sh PROXY [LOAD]
#   PROXY: sluice | haproxy | nginx
#   LOAD:  keepalive (wrk -c50, default) | close (Connection: close) | post1k (1 KiB POST)
#          | c1 (one connection) | c1000 | rate (bench/cmd/loadgen at RATE req/s, 50 connections)
# Environment: DURATION (4), RATE (25000), WORK (/tmp/sluice-bench), KIND (hosts: r1; mw: r1-mw,
# the route through bench-compare's typical middleware chain). Needs root for perf's
# tracepoints; installs wrk, haproxy, nginx-light and linux-perf with apt-get when missing.
# Stops what it starts, by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PROXY=${1:?usage: bench/syscalls.sh sluice|haproxy|nginx [keepalive|close|post1k|c1|c1000|rate]}
LOAD=${2:-keepalive}
DURATION=${DURATION:-4}
RATE=${RATE:-25000}
WORK=${WORK:-/tmp/sluice-bench}
KIND=${KIND:-hosts}

source "$HERE/lib.sh"
need_tools wrk haproxy nginx perf
mkdir -p "$WORK/bin"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/" ./cmd/sluice ./bench/cmd/backend ./bench/cmd/genroutes ./bench/cmd/loadgen)
dir=$WORK/syscalls-$KIND-1
[[ -f $dir/hit ]] || "$WORK/bin/genroutes" -kind "$KIND" -n 1 -out "$dir"
read -r host path < "$dir/hit"

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.1:9001 >/dev/null 2>&1 & PIDS+=($!)
taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.2:9002 >/dev/null 2>&1 & PIDS+=($!)
case $PROXY in
  sluice) port=8083; taskset -c 1 env GOMAXPROCS=1 "$WORK/bin/sluice" --entryPoints.web.address=127.0.0.1:$port \
            --providers.manifests.directory="$dir/sluice" --log.level=warn >/dev/null 2>&1 & ;;
  haproxy) port=8081; taskset -c 1 haproxy -db -f "$dir/haproxy.cfg" >/dev/null 2>&1 & ;;
  nginx) port=8082; taskset -c 1 nginx -p "$dir/nginx/" -c nginx.conf -g 'daemon off;' >/dev/null 2>&1 & ;;
  *) echo "unknown proxy $PROXY" >&2; exit 2 ;;
esac
PIDS+=($!); pid=$!
for ((i = 0; i < 200; i++)); do
  curl -sf -o /dev/null -H "Host: $host" "http://127.0.0.1:$port$path" && break; sleep 0.05
done
[[ $PROXY == nginx ]] && pid=$(pgrep -P "$pid" | head -1) # the worker
url=http://127.0.0.1:$port$path
load() { # SECONDS : run the load, print the requests completed
  local args=(-t1 -c50 -d"$1"s -H "Host: $host")
  case $LOAD in
    keepalive) ;;
    close) args+=(-H "Connection: close") ;;
    post1k) echo 'wrk.method = "POST"; wrk.body = string.rep("b", 1024)' > "$WORK/post1k.lua"; args+=(-s "$WORK/post1k.lua") ;;
    c1) args[1]=-c1 ;;
    c1000) args[1]=-c1000 ;;
    rate) taskset -c 0 "$WORK/bin/loadgen" -url "$url" -host "$host" -rate "$RATE" -c 50 -d "$1"s | awk '{print $2}'; return ;;
    *) echo "unknown load $LOAD" >&2; exit 2 ;;
  esac
  taskset -c 0 wrk "${args[@]}" "$url" | awk '/requests in/ {print $1}'
}
load 1 >/dev/null # warm-up
read -r u0 s0 < <(cpu_ticks "$pid")
perf stat -e 'raw_syscalls:sys_enter,context-switches,syscalls:sys_enter_*' -p "$pid" -o "$WORK/syscalls.perf" \
  -- sleep "$((DURATION + 1))" >/dev/null 2>&1 &
perfpid=$!
sleep 0.3
req=$(load "$DURATION")
wait "$perfpid" || true
read -r u1 s1 < <(cpu_ticks "$pid")
hz=$(getconf CLK_TCK)
echo "$PROXY $LOAD: $req requests; per request: user $(awk -v t=$((u1 - u0)) -v r="$req" -v hz="$hz" 'BEGIN { printf "%.2f", t * 1e6 / hz / r }') µs," \
  "system $(awk -v t=$((s1 - s0)) -v r="$req" -v hz="$hz" 'BEGIN { printf "%.2f", t * 1e6 / hz / r }') µs"
awk -v r="$req" '$1 ~ /^[0-9,]+$/ { gsub(",", "", $1); if ($1 / r >= 0.001) printf "  %-40s %8.3f\n", $2, $1 / r }' "$WORK/syscalls.perf"
