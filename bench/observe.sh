#!/usr/bin/env bash
# observe.sh — what metrics and access logs cost per request, beside nginx's access log
# (make bench-observe).
#
# One route (genroutes hosts:1), wrk -t1 -c50 on core 0 with the two backends, the proxy on core 1
# (GOMAXPROCS=1, nginx 1 worker), as bench-compare. Variants, interleaved round by round, each
# a fresh process: sluice (nothing on), sluice-metrics (--metrics.prometheus, Traefik's default
# labels: entry point and service), sluice-metrics-routers (router labels too), sluice-log
# (--accessLog.format=json to a file), sluice-clf (the common format, to a file), sluice-trace
# and sluice-trace0 (--tracing at sample rates 1 and 0, exported as OTLP/HTTP JSON to a backend
# on 127.0.0.1:9003 that answers 200 to anything), sluice-all (metrics with router labels and the JSON log),
# nginx (access_log off, as bench-compare runs it), nginx-log (access_log to a file in the
# combined format, buffer=64k), and nginx-clf and nginx-json: nginx writing, from its own
# variables, lines with the fields and length of Traefik's common and json lines (what sluice-clf
# and sluice-log write), so that the two proxies are compared writing the same bytes; sluice-mw and
# nginx-mw: bench-compare's r1-mw (the route through the typical middleware chain, in each
# proxy's words), paired with sluice and nginx; sluice-hdrs and nginx-hdrs: the plain route to
# the backend's /sec, which answers with the chain's six response header lines itself (what
# relaying those bytes costs, apart from producing them).
# CPU = the proxy's utime+stime per request from /proc; bytes/line = the log's size over its lines.
# observe.tsv's lines: variant, CPU µs/req, requests, log bytes/line, then the user and system
# CPU µs/req apart; the summary adds the paired user and system columns.
#
# Usage: bench/observe.sh        Environment: ROUNDS (5) DURATION (5s) WORK (/tmp/sluice-bench)
#        VARIANTS ("sluice sluice-metrics sluice-metrics-routers sluice-log sluice-clf sluice-all nginx nginx-log nginx-clf nginx-json")
# Installs wrk and nginx-light with apt-get when missing. Loopback only; stops what it starts, by
# PID. Prints per variant the median CPU µs/req (min-max) and the cost added to its proxy's
# plain variant; results in $WORK/observe.tsv and $WORK/observe.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
WORK=${WORK:-/tmp/sluice-bench}
read -r -a VARIANTS <<< "${VARIANTS:-sluice sluice-metrics sluice-metrics-routers sluice-log sluice-clf sluice-all nginx nginx-log nginx-clf nginx-json}"
PATH=$PATH:/usr/sbin:/usr/local/go/bin

source "$HERE/lib.sh"
need_tools wrk nginx
ports_free 8082 8083 8089 9001 9002 9003
mkdir -p "$WORK/bin" "$WORK/observe"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/" ./cmd/sluice ./bench/cmd/backend ./bench/cmd/genroutes)
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)

PIDS=() # stopped at exit (lib.sh's stop_started)
trap stop_started EXIT INT TERM

DIR=$WORK/observe/routes
gen=$(sha256sum < "$WORK/bin/genroutes")
if [[ ! -f $DIR/hit || $(cat "$DIR/.genroutes" 2>/dev/null) != "$gen" ]]; then
  rm -rf "$DIR" && "$WORK/bin/genroutes" -kind hosts -n 1 -out "$DIR" && echo "$gen" > "$DIR/.genroutes"
fi
# nginx-log, nginx-clf, nginx-json: the same configuration with a buffered access log
nginx_log() { # name format [log_format line]
  rm -rf "$DIR/$1" && cp -r "$DIR/nginx" "$DIR/$1"
  sed -i "s|access_log off;|${3:-}access_log $WORK/observe/nginx-access.log $2 buffer=64k;|" "$DIR/$1/nginx.conf"
}
nginx_log nginx-log combined
# Traefik's common format: the combined fields, then request count, router, server URL, duration
nginx_log nginx-clf traefik_common "log_format traefik_common '\$remote_addr - \$remote_user [\$time_local] \"\$request_method \$request_uri \$server_protocol\" \$status \$body_bytes_sent \"\$http_referer\" \"\$http_user_agent\" \$connection_requests \"bench-r000000-0000000000000000000@kubernetescrd\" \"http://\$upstream_addr\" \${request_time}ms';\n    "
# Traefik's json format: its 33 keys in its order, each value from the nginx variable nearest it
nginx_log nginx-json traefik_json "log_format traefik_json escape=json '{\"ClientAddr\":\"\$remote_addr:\$remote_port\",\"ClientHost\":\"\$remote_addr\",\"ClientPort\":\"\$remote_port\",\"ClientUsername\":\"-\",\"DownstreamContentSize\":\$body_bytes_sent,\"DownstreamStatus\":\$status,\"Duration\":\"\$request_time\",\"OriginContentSize\":\"\$upstream_response_length\",\"OriginDuration\":\"\$upstream_response_time\",\"OriginStatus\":\"\$upstream_status\",\"Overhead\":\"\$upstream_header_time\",\"RequestAddr\":\"\$http_host\",\"RequestContentSize\":\$request_length,\"RequestCount\":\$connection_requests,\"RequestHost\":\"\$host\",\"RequestMethod\":\"\$request_method\",\"RequestPath\":\"\$request_uri\",\"RequestPort\":\"-\",\"RequestProtocol\":\"\$server_protocol\",\"RequestScheme\":\"\$scheme\",\"RetryAttempts\":0,\"RouterName\":\"bench-r000000-0000000000000000000@kubernetescrd\",\"ServiceAddr\":\"\$upstream_addr\",\"ServiceName\":\"bench-r000000-0000000000000000000@kubernetescrd\",\"ServiceURL\":\"http://\$upstream_addr\",\"StartLocal\":\"\$time_iso8601.\$msec\",\"StartUTC\":\"\$time_iso8601.\$msec\",\"entryPointName\":\"web\",\"level\":\"info\",\"msg\":\"\",\"time\":\"\$time_iso8601\"}';\n    "
# sluice-mw, nginx-mw: the route through bench-compare's typical middleware chain (r1-mw)
MW=$WORK/observe/routes-mw
if [[ ! -f $MW/hit || $(cat "$MW/.genroutes" 2>/dev/null) != "$gen" ]]; then
  rm -rf "$MW" && "$WORK/bin/genroutes" -kind mw -n 1 -out "$MW" && echo "$gen" > "$MW/.genroutes"
fi

taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.1:9001 > /dev/null 2>&1 & PIDS+=($!)
taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.2:9002 > /dev/null 2>&1 & PIDS+=($!)
taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.1:9003 > /dev/null 2>&1 & PIDS+=($!) # the OTLP endpoint

# run VARIANT : start it afresh, warm it, measure CPU per request, stop it
run() {
  local v=$1 port=8083 pid args=() t0 t1 reqs dir=$DIR conf=$DIR/$1 HOST URLPATH
  case $v in *-mw) dir=$MW; conf=$MW/nginx ;; nginx|nginx-hdrs) conf=$DIR/nginx ;; esac
  read -r HOST URLPATH < "$dir/hit"
  case $v in *-hdrs) URLPATH=/sec ;; esac
  local metrics=(--metrics.prometheus=true --entryPoints.traefik.address=127.0.0.1:8089)
  local log=(--accessLog.format=json "--accessLog.filePath=$WORK/observe/sluice-access.log")
  case $v in
    sluice-metrics) args=("${metrics[@]}") ;;
    sluice-metrics-routers) args=("${metrics[@]}" --metrics.prometheus.addRoutersLabels=true) ;;
    sluice-log) args=("${log[@]}") ;;
    sluice-clf) args=(--accessLog=true "--accessLog.filePath=$WORK/observe/sluice-access.log") ;;
    sluice-trace) args=(--tracing=true --tracing.otlp.http.endpoint=http://127.0.0.1:9003 --tracing.sampleRate=1) ;;
    sluice-trace0) args=(--tracing=true --tracing.otlp.http.endpoint=http://127.0.0.1:9003 --tracing.sampleRate=0) ;;
    sluice-all) args=("${metrics[@]}" --metrics.prometheus.addRoutersLabels=true "${log[@]}") ;;
  esac
  rm -f "$WORK/observe/"*-access.log
  case $v in
    sluice*) taskset -c 1 env GOMAXPROCS=1 "$WORK/bin/sluice" --entryPoints.web.address=127.0.0.1:8083 \
      --providers.manifests.directory="$dir/sluice" --log.level=warn "${args[@]}" > /dev/null 2>&1 & pid=$! ;;
    nginx*) port=8082; taskset -c 1 nginx -p "$conf/" -c nginx.conf -g 'daemon off;' > /dev/null 2>&1 & pid=$! ;;
  esac
  PIDS+=("$pid")
  for ((i = 0; i < 600; i++)); do
    curl -s -o /dev/null -f -m 2 -H "Host: $HOST" "http://127.0.0.1:$port$URLPATH" && break
    sleep 0.05
  done
  taskset -c 0 wrk -t1 -c50 -d1s -H "Host: $HOST" "http://127.0.0.1:$port$URLPATH" > /dev/null
  local u0 s0 u1 s1
  t0=$(ticks "$pid"); read -r u0 s0 < <(ticks_split "$pid")
  reqs=$(taskset -c 0 wrk -t1 -c50 -d"$DURATION" -H "Host: $HOST" "http://127.0.0.1:$port$URLPATH" | awk '/requests in/ {print $1}')
  t1=$(ticks "$pid"); read -r u1 s1 < <(ticks_split "$pid")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  local log bytes=0
  for log in "$WORK/observe/"*-access.log; do [[ -f $log ]] || continue
    bytes=$(awk '{ n += length($0) + 1 } END { printf "%d", NR ? n / NR : 0 }' "$log"); done
  awk -v p="$v" -v t=$((t1 - t0)) -v r="${reqs:-1}" -v hz="$(getconf CLK_TCK)" -v b="$bytes" -v u=$((u1 - u0)) -v s=$((s1 - s0)) \
    'BEGIN { printf "%s\t%.3f\t%d\t%d\t%.3f\t%.3f\n", p, t * 1e6 / hz / r, r, b, u * 1e6 / hz / r, s * 1e6 / hz / r }' | tee -a "$WORK/observe.tsv" >&2
}

: > "$WORK/observe.tsv"
for ((r = 1; r <= ROUNDS; r++)); do
  for v in "${VARIANTS[@]}"; do run "$v"; done
done

# paired VARIANT BASE COLUMN : median (min max) of each round's difference in observe.tsv's COLUMN
paired() {
  awk -F'\t' -v v="$1" -v b="$2" -v c="$3" '$1 == b {base[++nb] = $c} $1 == v {val[++nv] = $c}
    END { for (i = 1; i <= nv && i <= nb; i++) print val[i] - base[i] }' "$WORK/observe.tsv" | median_min_max
}

summary() {
  echo "Commit $COMMIT, $(date -u +%F), $ROUNDS interleaved rounds of $DURATION (wrk -t1 -c50), one route."
  echo "CPU µs per request, median (min-max); added: the median minus its proxy's plain variant's;"
  echo "paired: the median of each round's difference to the plain variant of the same round, then"
  echo "the same for the user and the system CPU apart (their medians need not add up to the total's)."
  echo
  echo "| variant | CPU µs/req | added µs/req | paired added | of which user | of which system | log bytes/line |"
  echo "|---|---|---|---|---|---|---|"
  local v base m b l p pu ps
  for v in "${VARIANTS[@]}"; do
    m=$(awk -F'\t' -v v="$v" '$1 == v {print $2}' "$WORK/observe.tsv" | median_min_max)
    base=sluice; [[ $v == nginx* ]] && base=nginx
    b=$(awk -F'\t' -v v="$base" '$1 == v {print $2}' "$WORK/observe.tsv" | median_min_max)
    l=$(awk -F'\t' -v v="$v" '$1 == v {print $4}' "$WORK/observe.tsv" | median_min_max)
    p=$(paired "$v" "$base" 2); pu=$(paired "$v" "$base" 5); ps=$(paired "$v" "$base" 6)
    awk -v v="$v" -v m="$m" -v b="$b" -v l="$l" -v p="$p" -v pu="$pu" -v ps="$ps" 'BEGIN { split(m, x, " "); split(b, y, " "); split(l, z, " ");
      split(p, d, " "); split(pu, du, " "); split(ps, ds, " ");
      printf "| %s | %.2f (%.2f-%.2f) | %+.2f | %+.2f | %+.2f | %+.2f | %s |\n", v, x[1], x[2], x[3], x[1] - y[1], d[1], du[1], ds[1], z[1] ? int(z[1]) : "-" }'
  done
}
summary | tee "$WORK/observe.md"
