#!/usr/bin/env bash
# compare.sh — Sluice, HAProxy and nginx side by side on loopback (make bench-compare).
#
# Topology: wrk and the two fasthttp backends (bench/cmd/backend, 127.0.0.1:9001 and 127.0.0.2:9002:
# distinct IPs, since Traefik and Sluice keep one server per endpoint IP) on core 0 (for the
# fixed-rate scenario, the load generator with the backends inside it);
# the proxy under test on core 1 (Sluice GOMAXPROCS=1, HAProxy nbthread 1, nginx 1 worker).
# All three proxies serve the same routes (bench/cmd/genroutes); only the one measured gets
# load. Runs are interleaved (sluice haproxy nginx, sluice haproxy nginx, ...), ROUNDS of
# each; a run during which processes not started here used more than OTHER_MAX % of a core
# is redone (up to TRIES). Per run: req/s, p50/p99/p99.9 latency (wrk), the proxy's CPU µs
# per request (utime+stime from /proc, children included), each core's busy share; per
# route set: peak RSS (VmHWM) and time to the first routed 200 after start.
#
# Usage: bench/compare.sh [SCENARIO...]     (default: all; see SCENARIOS below)
# BASE=<commit>: also build Sluice at that commit and run it as proxy "base" (port 8084),
# interleaved with the others: a before-and-after comparison in one run (BASE_GOTOOLCHAIN:
# build the base with another Go, e.g. local, the machine's own).
# h2c scenarios (r1-h2c) load every proxy with h2load (nghttp2-client), HTTP/2 with prior
# knowledge: Sluice and base on their one port, HAProxy on 8085 (proto h2), nginx on 8086
# (listen http2); their p50 column is h2load's mean, p99 and p99.9 are not measured (0).
# TLS scenarios (route sets hosts:1:ecdsa and hosts:1:rsa: one certificate, ECDSA P-256 or
# RSA-2048, made with openssl, served by all three; Sluice on its one port, HAProxy on 8087,
# nginx on 8088): r1-tls keep-alive HTTPS with wrk; r1-tls-h2 HTTP/2 over TLS with h2load
# (50 connections x 10 streams); r1-tls-new and r1-tls-resume a new connection per request
# (bench/cmd/tlsload), full or resumed handshakes: their CPU per request is per handshake
# (r1-tls-new-ec: full handshakes with the ECDSA certificate);
# Middlewares: r1-mw is r1 through the typical chain (redirectScheme not taken, security
# headers, stripPrefix; HAProxy and nginx with their equivalents, genroutes -kind mw); r1-gzip,
# r1-br and r1-zstd fetch a 100 KiB HTML page through Traefik's compress middleware (HAProxy's
# compression and nginx's gzip at their defaults: gzip only), each proxy's encoded size noted.
# r1-tls-idle holds 9,000 idle plain connections, then TLS ones, to each proxy in turn (each a
# fresh process) and
# records the proxy's RSS growth per connection (idle.tsv; the table's last section): 10,000
# would need more than the 20,000 descriptors a process may have here, given HAProxy's two
# per connection.
# Environment: ROUNDS (3) DURATION (5s) WARMUP (2s) WORK (/tmp/sluice-bench) BASE
#              RATE (r1-rate's fixed rate; default: half the slowest proxy's saturation rate,
#              measured by its warm-up, rounded down to 1,000 req/s)
#              QUIET_PCT (10) QUIET_MAX (60) OTHER_MAX (10) TRIES (3)
# Installs wrk, haproxy and nginx-light with apt-get when missing. Uses 127.0.0.1 ports
# 8081-8083 and 9001-9003; stops what it starts, by PID. Results: $WORK/results.tsv and
# $WORK/table.md (medians, min-max, ratios to Sluice).
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # r1-tls-idle holds 10,000 connections

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-2s}
WORK=${WORK:-/tmp/sluice-bench}
RATE=${RATE:-}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_MAX=${QUIET_MAX:-60}
OTHER_MAX=${OTHER_MAX:-10}
TRIES=${TRIES:-3}
PROXIES=(sluice haproxy nginx)
BASE=${BASE:-}
[[ -n $BASE ]] && PROXIES=(sluice base haproxy nginx)

# scenario: name routeset conns path method body(bytes) extra
SCENARIOS=(
  "r1            hosts:1       50   /                 GET  0       -"
  "r1-c1         hosts:1       1    /                 GET  0       -"
  "r1-c1000      hosts:1       1000 /                 GET  0       -"
  "r1-close      hosts:1       50   /                 GET  0       close"
  "r1-resp16k    hosts:1       50   /?size=16384      GET  0       -"
  "r1-resp1m     hosts:1       50   /?size=1048576    GET  0       -"
  "r1-req1k      hosts:1       50   /                 POST 1024    -"
  "r1-req1m      hosts:1       50   /                 POST 1048576 -"
  "r1-rate       hosts:1       50   /                 GET  0       rate"
  "r1-h2c        hosts:1       50   /                 GET  0       h2c"
  "r1-mw         mw:1          50   -                 GET  0       -"
  "r1-gzip       compress:1    50   -                 GET  0       gzip"
  "r1-br         compress:1    50   -                 GET  0       br"
  "r1-zstd       compress:1    50   -                 GET  0       zstd"
  "r1-tls        hosts:1:ecdsa 50   /                 GET  0       tls"
  "r1-tls-h2     hosts:1:ecdsa 50   /                 GET  0       h2tls"
  "r1-tls-new    hosts:1:rsa   50   /                 GET  0       tlsnew"
  "r1-tls-resume hosts:1:rsa   50   /                 GET  0       tlsresume"
  "r1-tls-new-ec hosts:1:ecdsa 50   /                 GET  0       tlsnew"
  "r1-tls-idle   hosts:1:ecdsa 9000 /                 GET  0       tlsidle"
  "h1k-mid       hosts:1000    50   /                 GET  0       -"
  "h1k-spread    hosts:1000    50   /                 GET  0       spread"
  "h10k-mid      hosts:10000   50   /                 GET  0       -"
  "h10k-spread   hosts:10000   50   /                 GET  0       spread"
  "h10k-changes  hosts:10000   50   /                 GET  0       changes"
  "h100k-mid     hosts:100000  50   /                 GET  0       -"
  "h100k-spread  hosts:100000  50   /                 GET  0       spread"
  "p10k-mid      prefix:10000  50   -                 GET  0       -"
  "mix1k-mid     mix:1000      50   -                 GET  0       tenant"
  "mix1k-spread  mix:1000      50   -                 GET  0       spread"
)

PATH=$PATH:/usr/sbin:/usr/local/go/bin
source "$HERE/lib.sh"
need_tools wrk haproxy nginx h2load
for t in wrk haproxy nginx h2load curl taskset ss go; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done
(($(nproc) >= 2)) || { echo "needs at least 2 cores" >&2; exit 1; }
ports_free 8081 8082 8083 8084 8085 8086 8087 8088 9001 9002 9003

mkdir -p "$WORK/bin"
RES=$WORK/results.tsv SETS=$WORK/routesets.tsv
: > "$RES"; : > "$SETS"; : > "$WORK/results-disturbed.tsv"
CLK_TCK=$(getconf CLK_TCK)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

echo "building sluice and the bench tools" >&2
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/" ./cmd/sluice ./bench/cmd/backend ./bench/cmd/genroutes ./bench/cmd/loadgen \
  ./bench/cmd/tlsload)
mkdir -p "$WORK/certs"
[[ -f $WORK/certs/ecdsa.key ]] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj /CN=bench.local -addext "subjectAltName=DNS:*.bench.local,DNS:bench.local" \
  -keyout "$WORK/certs/ecdsa.key" -out "$WORK/certs/ecdsa.crt" 2>/dev/null
[[ -f $WORK/certs/rsa.key ]] || openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
  -subj /CN=bench.local -addext "subjectAltName=DNS:*.bench.local,DNS:bench.local" \
  -keyout "$WORK/certs/rsa.key" -out "$WORK/certs/rsa.crt" 2>/dev/null
: > "$WORK/idle.tsv"; : > "$WORK/encoded.tsv"
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $BASE ]]; then
  echo "building the base, $BASE" >&2
  rm -rf "$WORK/base-src"
  (cd "$ROOT" && git worktree add -f --detach "$WORK/base-src" "$BASE" >/dev/null 2>&1)
  (cd "$WORK/base-src" && GOTOOLCHAIN=${BASE_GOTOOLCHAIN:-$GOTOOLCHAIN} CGO_ENABLED=0 go build -o "$WORK/bin/sluice-base" ./cmd/sluice)
  (cd "$ROOT" && git worktree remove --force "$WORK/base-src")
  COMMIT="$COMMIT (base $(cd "$ROOT" && git rev-parse --short "$BASE"))"
fi

start() { # NAME CORE CMD... ; sets PID_NAME
  local name=$1 core=$2; shift 2
  taskset -c "$core" "$@" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  printf -v "PID_$name" '%s' $!
}
stop() { # NAME
  local v="PID_$1" p; p=${!v:-}
  [[ -n $p ]] || return 0
  kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
  printf -v "PID_$1" '%s' ""
}
tree() { echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null || true; }
ticks() { local p t=0 v; [[ -n $1 ]] || { echo 0; return; }; for p in $(tree "$1"); do
  v=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null || echo 0); t=$((t + v)); done; echo "$t"; }
hwm_kb() { local p t=0 v; for p in $(tree "$1"); do
  v=$(awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0); t=$((t + ${v:-0})); done; echo "$t"; }
corestat() { awk '/^cpu[01] / {printf "%s %d %d %d ", $1, $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9, $2+$3+$4+$9}' /proc/stat; }
child_ticks() { awk '{sub(/^.*\) /, ""); print $14 + $15}' "/proc/$$/stat"; }
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
  else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
port_of() { case $1 in haproxy) echo 8081 ;; nginx) echo 8082 ;; sluice) echo 8083 ;; base) echo 8084 ;; esac; }
h2c_port_of() { case $1 in haproxy) echo 8085 ;; nginx) echo 8086 ;; *) port_of "$1" ;; esac; }
tls_port_of() { case $1 in haproxy) echo 8087 ;; nginx) echo 8088 ;; *) port_of "$1" ;; esac; }

quiet_gate() {
  local i a b busy=0
  for ((i = 0; i < QUIET_MAX; i++)); do
    a=$(corestat); sleep 1; b=$(corestat)
    busy=$(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
      print int(((y[2] - x[2]) + (y[6] - x[6])) * 100 / ((y[3] - x[3]) + (y[7] - x[7]) + 1)) }')
    ((busy <= QUIET_PCT)) && return 0
  done
  echo "  machine still ${busy}% busy after ${QUIET_MAX}s; measuring anyway (see other%)" >&2
}

# ready NAME PORT HOST PATH : seconds until a request is routed (200), polled every 50 ms
ready() {
  local name=$1 port=$2 host=$3 path=$4 t0 i code
  t0=$(date +%s.%N)
  for ((i = 0; i < 3000; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H "Host: $host" "http://127.0.0.1:$port$path" 2>/dev/null || true)
    if [[ $code == 200 ]]; then awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; return 0; fi
    sleep 0.05
  done
  echo "$name on :$port never routed Host $host $path; log:" >&2; tail -20 "$WORK/$name.log" >&2; exit 1
}

# start_set KIND N [ALG] : write the route set (served over TLS too with ALG's certificate),
# start each proxy alone and time it to its first 200
start_set() {
  local kind=$1 n=$2 alg=${3:-} dir=$WORK/routes-$1-$2${3:+-$3} host path p t gen tlsargs=()
  [[ -n $alg ]] && tlsargs=(-tls-cert "$WORK/certs/$alg.crt" -tls-key "$WORK/certs/$alg.key")
  gen=$(sha256sum < "$WORK/bin/genroutes")  # a set written by another genroutes is stale
  if [[ ! -f $dir/hit || $(cat "$dir/.genroutes" 2>/dev/null) != "$gen" ]]; then
    rm -rf "$dir" && "$WORK/bin/genroutes" -kind "$kind" -n "$n" -out "$dir" "${tlsargs[@]}" && echo "$gen" > "$dir/.genroutes"
  fi
  read -r host path < "$dir/hit"
  HIT_HOST=$host HIT_PATH=$path SETDIR=$dir
  for p in "${PROXIES[@]}"; do
    start_proxy "$p"
    t=$(ready "$p" "$(port_of "$p")" "$host" "$path"); echo -e "$kind:$n\t$p\tready_s\t$t" >> "$SETS"
  done
  for p in "${PROXIES[@]}"; do
    local v="PID_$p"; echo -e "$kind:$n\t$p\trss_start_kb\t$(hwm_kb "${!v}")" >> "$SETS"
  done
}
# start_proxy NAME : start one proxy on the current route set (SETDIR), on core 1
start_proxy() {
  case $1 in
  haproxy) start haproxy 1 haproxy -db -f "$SETDIR/haproxy.cfg" ;;
  nginx) start nginx 1 nginx -p "$SETDIR/nginx/" -c nginx.conf -g 'daemon off;' ;;
  sluice) start sluice 1 env GOMAXPROCS=1 "$WORK/bin/sluice" --entryPoints.web.address=127.0.0.1:8083 \
    --providers.manifests.directory="$SETDIR/sluice" --log.level=warn ;;
  base) start base 1 env GOMAXPROCS=1 "$WORK/bin/sluice-base" --entryPoints.web.address=127.0.0.1:8084 \
    --providers.manifests.directory="$SETDIR/sluice" --log.level=warn ;;
  esac
}

stop_set() {
  local p v
  for p in "${PROXIES[@]}"; do
    v="PID_$p"; echo -e "$CUR_SET\t$p\trss_peak_kb\t$(hwm_kb "${!v}")" >> "$SETS"
    stop "$p"
  done
}

# script NAME METHOD BODY EXTRA : a wrk Lua script for the scenario (always reports p99.9)
script() {
  local f=$WORK/$1.lua
  : > "$f"
  if [[ $2 == POST ]]; then
    echo "wrk.method = \"POST\"; wrk.body = string.rep(\"b\", $3)" >> "$f"
  fi
  [[ $4 == spread ]] && cat "$SETDIR/spread.lua" >> "$f"
  [[ $4 == tenant ]] && echo 'wrk.headers["X-Tenant"] = "gold"' >> "$f"
  [[ $4 == gzip || $4 == br || $4 == zstd ]] && echo "wrk.headers[\"Accept-Encoding\"] = \"$4\"" >> "$f"
  [[ $4 == changes ]] && cat >> "$f" <<'L'
local bad = 0
response = function(status, headers, body)
  if status ~= 200 or string.sub(body, 1, 11) ~= "backend 900" then bad = bad + 1 end
end
L
  cat >> "$f" <<'L'
done = function(summary, latency, requests)
  io.write(string.format("p999_us %d\n", latency:percentile(99.9)))
  if bad then io.write(string.format("misrouted %d\n", bad)) end
end
L
  echo "$f"
}

# changes: 100 route edits in the manifests directory and 20 endpoint flips while wrk runs
changes() {
  local dir=$1 i f=$1/sluice/zz-changes.yaml
  sleep 0.5
  for ((i = 0; i < 100; i++)); do
    if ((i % 2 == 0)); then
      printf '{"apiVersion":"traefik.io/v1alpha1","kind":"IngressRoute","metadata":{"name":"change%d","namespace":"bench"},"spec":{"routes":[{"match":"Host(`change%d.bench.local`)","services":[{"name":"bench","port":80}]}]}}\n' "$i" "$i" > "$f.tmp"
      mv "$f.tmp" "$f"
    else
      rm -f "$f"
    fi
    if ((i % 5 == 0)); then # the second backend's slice flips between :9002 and :9003
      local port=9002 ip=127.0.0.2; ((i % 10 == 0)) && port=9003 ip=127.0.0.3
      printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"bench-2","namespace":"bench","labels":{"kubernetes.io/service-name":"bench"}},"addressType":"IPv4","ports":[{"name":"http","port":%d}],"endpoints":[{"addresses":["%s"]}]}\n' "$port" "$ip" > "$dir/sluice/zz-slice.tmp"
      mv "$dir/sluice/zz-slice.tmp" "$dir/sluice/zz-slice.yaml"
    fi
    sleep 0.03
  done
  rm -f "$f" "$dir/sluice/zz-slice.yaml"
}

# measure ROUND SCENARIO PROXY CONNS PATH LUA EXTRA : one run, redone when disturbed
measure() {
  local try
  for ((try = 1; try <= TRIES; try++)); do
    measure_once "$@"
    ((LAST_OTHER <= OTHER_MAX)) && return 0
    tail -1 "$RES" >> "$WORK/results-disturbed.tsv"; sed -i '$d' "$RES"
    if ((try == TRIES)); then tail -1 "$WORK/results-disturbed.tsv" >> "$RES"; echo "  kept a disturbed run" >&2; fi
  done
}

measure_once() {
  local round=$1 sc=$2 proxy=$3 conns=$4 path=$5 lua=$6 extra=$7
  local port v pid out=$WORK/out-$2-$3-$1.txt t0 t1 b0 b1 w0 w1 c0 c1 hdr=()
  port=$(port_of "$proxy"); v="PID_$proxy"; pid=${!v}
  [[ $extra == close ]] && hdr=(-H "Connection: close")
  quiet_gate
  t0=$(ticks "$pid"); b0=$(($(ticks "$PID_backend1") + $(ticks "$PID_backend2"))); c0=$(corestat); w0=$(child_ticks)
  local cpid=""
  if [[ $extra == changes && $proxy == sluice ]]; then changes "$SETDIR" & cpid=$!; fi
  if [[ $extra == h2c || $extra == h2tls ]]; then
    local url="http://127.0.0.1:$(h2c_port_of "$proxy")$path"
    [[ $extra == h2tls ]] && url="https://127.0.0.1:$(tls_port_of "$proxy")$path"
    timeout 120 taskset -c 0 h2load -c "$conns" -m 10 -D "${DURATION%s}" -H ":authority: $HIT_HOST" "$url" > "$out" 2>&1 || true
  elif [[ $extra == tlsnew || $extra == tlsresume ]]; then
    local resume=(); [[ $extra == tlsresume ]] && resume=(-resume)
    timeout 120 taskset -c 0 "$WORK/bin/tlsload" -mode handshake -addr "127.0.0.1:$(tls_port_of "$proxy")" -host "$HIT_HOST" \
      -c "$conns" -d "$DURATION" "${resume[@]}" > "$out" 2>&1 || true
  elif [[ $extra == tls ]]; then
    timeout 120 taskset -c 0 wrk -t1 -c"$conns" -d"$DURATION" --latency -s "$lua" -H "Host: $HIT_HOST" \
      "https://127.0.0.1:$(tls_port_of "$proxy")$path" > "$out" 2>&1
  elif [[ $extra == rate ]]; then # the backends run inside the load generator (see rate_backends)
    taskset -c 0 "$WORK/bin/loadgen" -url "http://127.0.0.1:$port$path" -host "$HIT_HOST" -rate "$RUN_RATE" -c "$conns" \
      -d "$DURATION" -warmup "$WARMUP" -procs 1 -serve 127.0.0.1:9001,127.0.0.2:9002 > "$out"
  else
    timeout 120 taskset -c 0 wrk -t1 -c"$conns" -d"$DURATION" --latency -s "$lua" -H "Host: $HIT_HOST" "${hdr[@]}" \
      "http://127.0.0.1:$port$path" > "$out" 2>&1
  fi
  [[ -n $cpid ]] && wait "$cpid"
  w1=$(child_ticks); t1=$(ticks "$pid"); b1=$(($(ticks "$PID_backend1") + $(ticks "$PID_backend2"))); c1=$(corestat)
  local reqs rps p50 p99 p999 errs
  if [[ $extra == tlsnew || $extra == tlsresume ]]; then
    read -r reqs resumed errs rps < "$out" || true
    p50=0; p99=0; p999=0
    if [[ $extra == tlsresume && ${resumed:-0} -lt $((${reqs:-0} * 9 / 10)) ]]; then
      echo "  $proxy resumed only ${resumed:-0} of ${reqs:-0} handshakes" >&2; errs=$((errs + reqs - resumed))
    fi
  elif [[ $extra == h2c || $extra == h2tls ]]; then
    reqs=$(awk '/^requests:/ {print $6}' "$out"); rps=$(awk '/^finished in/ {print $4}' "$out")
    p50=$(to_ms "$(awk '/^time for request:/ {print $6}' "$out")"); p99=0; p999=0
    errs=$(awk '/^requests:/ {print $10 + $12 + $14}' "$out")
  elif [[ $extra == rate ]]; then
    local warm
    read -r reqs ok errs rps p50 _ p99 p999 _ warm < "$out"
    reqs=$((reqs + warm)) # the CPU figures cover the warm-up's requests too
  else
    reqs=$(awk '/requests in/ {print $1}' "$out"); rps=$(awk '/^Requests\/sec/ {print $2}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")"); p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    p999=$(awk '/^p999_us/ {printf "%.3f", $2 / 1000}' "$out")
    errs=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {n += $4 + $6 + $8 + $10} /^misrouted/ {n += $2} END {print n + 0}' "$out")
  fi
  read -r _ b0c0 t0c0 p0c0 _ b0c1 t0c1 p0c1 <<< "$c0"
  read -r _ b1c0 t1c0 p1c0 _ b1c1 t1c1 p1c1 <<< "$c1"
  local busy=$(((p1c0 - p0c0) + (p1c1 - p0c1))) ours=$(((t1 - t0) + (b1 - b0) + (w1 - w0)))
  LAST_OTHER=$(((busy - ours) * 100 / (t1c0 - t0c0 + 1))); ((LAST_OTHER < 0)) && LAST_OTHER=0
  awk -v r="$round" -v sc="$sc" -v n="$proxy" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v p999="${p999:-0}" \
    -v reqs="$reqs" -v pt=$((t1 - t0)) -v bt=$((b1 - b0)) -v wt=$((w1 - w0)) -v hz="$CLK_TCK" -v errs="$errs" \
    -v c0=$(((b1c0 - b0c0) * 100 / (t1c0 - t0c0 + 1))) -v c1=$(((b1c1 - b0c1) * 100 / (t1c1 - t0c1 + 1))) \
    -v other="$LAST_OTHER" 'BEGIN { if (reqs < 1) reqs = 1
      printf "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%d\t%.2f\t%.2f\t%d\t%d\t%d\t%.2f\t%d\n", sc, r, n, rps, p50, p99, p999,
        reqs, pt * 1e6 / hz / reqs, bt * 1e6 / hz / reqs, c0, c1, errs, wt * 1e6 / hz / reqs, other }' >> "$RES"
  tail -1 "$RES" >&2
}

rss_kb() { local p t=0 v; for p in $(tree "$1"); do
  v=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0); t=$((t + ${v:-0})); done; echo "$t"; }

# idle_mem ROUND PROXY N tls|plain : the proxy's RSS growth with N idle connections open (each
# with its handshake and one request done), per connection, into idle.tsv
idle_mem() {
  local round=$1 proxy=$2 n=$3 mode=$4 v pid port before after lp i out=$WORK/idle-$2-$4-$1.txt plain=()
  # A fresh process: HAProxy and nginx keep what earlier connections grew in their pools,
  # and would show no growth the second time.
  stop "$proxy"; start_proxy "$proxy"; ready "$proxy" "$(port_of "$proxy")" "$HIT_HOST" "$HIT_PATH" > /dev/null
  v="PID_$proxy"; pid=${!v}
  port=$(tls_port_of "$proxy")
  if [[ $mode == plain ]]; then plain=(-plain); port=$(port_of "$proxy"); fi
  quiet_gate
  before=$(rss_kb "$pid")
  taskset -c 0 "$WORK/bin/tlsload" -mode idle -addr "127.0.0.1:$port" -host "$HIT_HOST" -n "$n" -hold 15s "${plain[@]}" > "$out" 2>&1 &
  lp=$!
  for ((i = 0; i < 1200; i++)); do grep -q '^ready' "$out" && break; sleep 0.1; done
  sleep 2
  after=$(rss_kb "$pid")
  wait "$lp" || true
  echo -e "$round\t$proxy\t$mode\t$n\t$before\t$after\t$(awk '/^ready/ {print $2}' "$out")" >> "$WORK/idle.tsv"
  tail -1 "$WORK/idle.tsv" >&2
  sleep 2 # the proxy lets the closed connections go
}

# ---- backends on core 0 (a third, :9003, for the endpoint flips)
# rate_backends stop|start : the fixed-rate scenario runs the two backends inside the load
# generator (loadgen -serve, one scheduler on core 0): as three processes taking turns in the
# kernel's time slices they kept core 0 97% busy at 25k req/s and put every proxy's median
# latency near 1 ms, so the percentiles measured that core rather than the proxy (PERF.md).
rate_backends() {
  if [[ $1 == stop ]]; then stop backend1; stop backend2; return; fi
  start backend1 0 "$WORK/bin/backend" -addr 127.0.0.1:9001
  start backend2 0 "$WORK/bin/backend" -addr 127.0.0.2:9002
  sleep 0.5
}
rate_backends start
start backend3 0 "$WORK/bin/backend" -addr 127.0.0.3:9003
sleep 0.5

want=("$@")
CUR_SET=""
for line in "${SCENARIOS[@]}"; do
  read -r sc set conns path method body extra <<< "$line"
  if ((${#want[@]})) && [[ " ${want[*]} " != *" $sc "* ]]; then continue; fi
  if [[ $set != "$CUR_SET" ]]; then
    [[ -n $CUR_SET ]] && stop_set
    echo "== route set $set" >&2
    IFS=: read -r skind sn salg <<< "$set"
    start_set "$skind" "$sn" "$salg"
    CUR_SET=$set
  fi
  [[ $path == - ]] && path=$HIT_PATH
  lua=$(script "$sc" "$method" "$body" "$extra")
  echo "== $sc" >&2
  slowest=""
  for p in "${PROXIES[@]}"; do # warm-up, not recorded
    case $extra in
    h2c | h2tls)
      url="http://127.0.0.1:$(h2c_port_of "$p")$path"
      [[ $extra == h2tls ]] && url="https://127.0.0.1:$(tls_port_of "$p")$path"
      timeout 60 taskset -c 0 h2load -c "$conns" -m 10 -D "${WARMUP%s}" -H ":authority: $HIT_HOST" "$url" > "$WORK/warmup.txt" 2>&1 || true
      continue ;;
    tlsnew | tlsresume)
      timeout 60 taskset -c 0 "$WORK/bin/tlsload" -mode handshake -addr "127.0.0.1:$(tls_port_of "$p")" -host "$HIT_HOST" \
        -c "$conns" -d "$WARMUP" > "$WORK/warmup.txt" 2>&1 || true
      continue ;;
    tlsidle) continue ;;
    esac
    scheme=http port=$(port_of "$p")
    [[ $extra == tls ]] && scheme=https port=$(tls_port_of "$p")
    timeout 60 taskset -c 0 wrk -t1 -c"$conns" -d"$WARMUP" -s "$lua" -H "Host: $HIT_HOST" \
      "$scheme://127.0.0.1:$port$path" > "$WORK/warmup.txt" 2>&1 || true
    rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$WORK/warmup.txt")
    if [[ -n $rps ]] && { [[ -z $slowest ]] || ((rps < slowest)); }; then slowest=$rps; fi
  done
  if [[ $extra == gzip || $extra == br || $extra == zstd ]]; then # what each proxy sends back for the page
    for p in "${PROXIES[@]}"; do
      n=$(curl -s -H "Host: $HIT_HOST" -H "Accept-Encoding: $extra" "http://127.0.0.1:$(port_of "$p")$path" | wc -c)
      ce=$(curl -s -o /dev/null -D - -H "Host: $HIT_HOST" -H "Accept-Encoding: $extra" "http://127.0.0.1:$(port_of "$p")$path" |
        awk -F': ' 'tolower($1) == "content-encoding" {gsub(/\r/, "", $2); print $2}')
      echo -e "$sc\t$p\t$n\t${ce:-identity}" >> "$WORK/encoded.tsv"
    done
  fi
  if [[ $extra == rate ]]; then
    # "Half the saturation rate": the warm-up above saturated each proxy (wrk, 50 connections).
    RUN_RATE=${RATE:-$(((${slowest:-50000} / 2) / 1000 * 1000))}
    echo "  fixed rate $RUN_RATE req/s (slowest warm-up: ${slowest:-none} req/s)" >&2
    rate_backends stop
  fi
  for ((r = 1; r <= ROUNDS; r++)); do
    for p in "${PROXIES[@]}"; do
      [[ $extra == changes && $p != sluice ]] && continue
      [[ $extra == tls* || $extra == h2tls ]] && [[ $p == base ]] && continue # BASE may predate TLS
      if [[ $extra == tlsidle ]]; then
        idle_mem "$r" "$p" "$conns" plain
        idle_mem "$r" "$p" "$conns" tls
        continue
      fi
      measure "$r" "$sc" "$p" "$conns" "$path" "$lua" "$extra"
    done
  done
  if [[ $extra == rate ]]; then rate_backends start; fi
done
[[ -n $CUR_SET ]] && stop_set

"$HERE/table.sh" "$RES" "$SETS" "$COMMIT" "$ROUNDS" "$DURATION" "$WORK/idle.tsv" "$WORK/encoded.tsv" | tee "$WORK/table.md"
