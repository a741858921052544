#!/usr/bin/env bash
# floor.sh — how far is each proxy from the cost of the four TCP segments? (make bench-floor)
#
# Measures, interleaved round by round, the CPU per request of Sluice, HAProxy and nginx on
# the 1-route set beside two builds of bench/cmd/floor, a relay that parses nothing and pairs
# each client connection with an upstream of its own: floor-epoll (one thread, epoll, one
# read and one write each way per request: the least any proxy can do here) and floor-go
# (a goroutine per direction on Go's net package). What floor-epoll costs is the kernel's
# part plus a few hundred nanoseconds; the rest of each proxy's figure is its own work.
# Same topology as bench-compare: wrk and the backends on core 0, the proxy on core 1.
# Each run starts the proxy afresh, warms it for 1 s, then runs wrk -t1 -cC for DURATION;
# CPU = the proxy's utime and stime per request from /proc; segments = the machine's
# TcpOutSegs per request (/proc/net/snmp). Unlike bench-compare, a run disturbed by other load
# is not redone: read the medians over ROUNDS, and the min-max beside them.
#
# Usage: bench/floor.sh        Environment: ROUNDS (5) DURATION (5s) CONNS ("50 1000")
#        PROXIES ("floor-epoll floor-go sluice haproxy nginx") WORK (/tmp/sluice-bench)
# Installs wrk, haproxy and nginx-light with apt-get when missing. Loopback only; stops what
# it starts, by PID. Prints per connection count and proxy: median user, system and total
# µs per request (min-max), segments per request, and the total's ratio to nginx's and
# HAProxy's medians.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
read -r -a CONNS <<< "${CONNS:-50 1000}"
read -r -a PROXIES <<< "${PROXIES:-floor-epoll floor-go sluice haproxy nginx}"
WORK=${WORK:-/tmp/sluice-bench}
PATH=$PATH:/usr/sbin:/usr/local/go/bin

source "$HERE/lib.sh"
need_tools wrk haproxy nginx
ports_free 8081 8082 8083 8084 9001 9002
mkdir -p "$WORK/bin"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/" ./cmd/sluice ./bench/cmd/backend ./bench/cmd/genroutes ./bench/cmd/floor)
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
dir=$WORK/routes-hosts-1
[[ -f $dir/hit ]] || "$WORK/bin/genroutes" -kind hosts -n 1 -out "$dir"
read -r host path < "$dir/hit"

PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap cleanup EXIT INT TERM
segs() { awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutSegs") c = i; h = 1 } else print $c }' /proc/net/snmp; }

taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.1:9001 > /dev/null 2>&1 & PIDS+=($!)
taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.2:9002 > /dev/null 2>&1 & PIDS+=($!)

# run PROXY CONNS : start PROXY, measure one load, stop it; appends a line to floor.tsv
run() {
  local proxy=$1 c=$2 port pid i u0 s0 u1 s1 g0 g1 reqs
  case $proxy in
    floor-epoll | floor-go) port=8084; taskset -c 1 env GOMAXPROCS=1 "$WORK/bin/floor" -mode "${proxy#floor-}" \
      -addr 127.0.0.1:8084 > /dev/null 2>&1 & pid=$! ;;
    sluice) port=8083; taskset -c 1 env GOMAXPROCS=1 "$WORK/bin/sluice" --entryPoints.web.address=127.0.0.1:8083 \
      --providers.manifests.directory="$dir/sluice" --log.level=warn > /dev/null 2>&1 & pid=$! ;;
    haproxy) port=8081; taskset -c 1 haproxy -db -f "$dir/haproxy.cfg" > /dev/null 2>&1 & pid=$! ;;
    nginx) port=8082; taskset -c 1 nginx -p "$dir/nginx/" -c nginx.conf -g 'daemon off;' > /dev/null 2>&1 & pid=$! ;;
    *) echo "unknown proxy $proxy" >&2; exit 2 ;;
  esac
  PIDS+=("$pid")
  for ((i = 0; i < 200; i++)); do
    curl -s -o /dev/null -f -m 2 -H "Host: $host" "http://127.0.0.1:$port$path" && break
    sleep 0.05
  done
  local wp=$pid
  [[ $proxy == nginx ]] && wp=$(pgrep -P "$pid" | head -1) # the worker
  taskset -c 0 wrk -t1 -c"$c" -d1s -H "Host: $host" "http://127.0.0.1:$port$path" > /dev/null
  read -r u0 s0 < <(cpu_ticks "$wp"); g0=$(segs)
  reqs=$(taskset -c 0 wrk -t1 -c"$c" -d"$DURATION" -H "Host: $host" "http://127.0.0.1:$port$path" |
    awk '/requests in/ {print $1}')
  read -r u1 s1 < <(cpu_ticks "$wp"); g1=$(segs)
  awk -v p="$proxy" -v c="$c" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v g=$((g1 - g0)) -v r="${reqs:-1}" \
    -v hz="$(getconf CLK_TCK)" -v d="${DURATION%s}" 'BEGIN { k = 1e6 / hz / r
      printf "%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%d\n", p, c, u * k, s * k, (u + s) * k, g / r, r / d }' |
    tee -a "$WORK/floor.tsv" >&2
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  PIDS=("${PIDS[@]:0:2}")
}

: > "$WORK/floor.tsv"
for ((r = 1; r <= ROUNDS; r++)); do
  for c in "${CONNS[@]}"; do
    for p in "${PROXIES[@]}"; do run "$p" "$c"; done
  done
done

# med PROXY CONNS FIELD : "median min max" of a floor.tsv column
med() {
  awk -F'\t' -v p="$1" -v c="$2" -v f="$3" '$1 == p && $2 == c {print $f}' "$WORK/floor.tsv" | median_min_max
}
summary() {
  echo "Commit $COMMIT, $(date -u +%F), $ROUNDS interleaved rounds of $DURATION (wrk -t1, the 1-route set)."
  echo "µs per request, median (min-max); the ratios are of the total's medians."
  local c p u s t g n h
  for c in "${CONNS[@]}"; do
    echo
    echo "$c connections:"
    echo
    echo "| proxy | user | system | total | segments | total / nginx | total / HAProxy |"
    echo "|---|---|---|---|---|---|---|"
    read -r n _ < <(med nginx "$c" 5); read -r h _ < <(med haproxy "$c" 5)
    for p in "${PROXIES[@]}"; do
      u=$(med "$p" "$c" 3) s=$(med "$p" "$c" 4) t=$(med "$p" "$c" 5) g=$(med "$p" "$c" 6)
      awk -v p="$p" -v u="$u" -v s="$s" -v t="$t" -v g="$g" -v n="${n:-0}" -v h="${h:-0}" 'BEGIN {
        split(u, a, " "); split(s, b, " "); split(t, x, " "); split(g, y, " ")
        printf "| %s | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.2f |", p, a[1], a[2], a[3], b[1], b[2], b[3], x[1], x[2], x[3], y[1]
        printf (n > 0 ? " %.2f |" : " - |"), (n > 0 ? x[1] / n : 0)
        printf (h > 0 ? " %.2f |\n" : " - |\n"), (h > 0 ? x[1] / h : 0) }'
    done
  done
}
summary | tee "$WORK/floor.md"
