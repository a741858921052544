#!/bin/bash
# after.sh PAIRS: Sluice's 100k middle-host CPU/req when the run before it was nginx on 100k hosts (A)
# or Sluice on 1 route (B), alternating A B B A ...
B=/tmp/pf/floor9/bin; W=/tmp/sluice-bench; DN=$W/routes-hosts-100000; D1=$W/routes-hosts-1
read -r HN PN < $DN/hit; read -r H1 P1 < $D1/hit
ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' /proc/$1/stat; }
taskset -c 0 $B/backend -addr 127.0.0.1:9001 >/dev/null 2>&1 & BK1=$!
taskset -c 0 $B/backend -addr 127.0.0.2:9002 >/dev/null 2>&1 & BK2=$!
pre() { # nginx100k | sluice1
  local pid port host path
  if [ $1 = nginx100k ]; then taskset -c 1 nginx -p $DN/nginx/ -c nginx.conf -g 'daemon off;' >/dev/null 2>&1 & pid=$!; port=8082; host=$HN; path=$PN
  else taskset -c 1 env GOMAXPROCS=1 $B/sluice --entryPoints.web.address=127.0.0.1:8083 --providers.manifests.directory=$D1/sluice --log.level=warn >/dev/null 2>&1 & pid=$!; port=8083; host=$H1; path=$P1; fi
  for i in $(seq 1200); do curl -s -o /dev/null -f -m 2 -H "Host: $host" http://127.0.0.1:$port$path && break; sleep 0.05; done
  taskset -c 0 wrk -t1 -c50 -d6s -H "Host: $host" http://127.0.0.1:$port$path >/dev/null
  kill $pid; wait $pid 2>/dev/null
}
meas() {
  taskset -c 1 env GOMAXPROCS=1 $B/sluice --entryPoints.web.address=127.0.0.1:8083 --providers.manifests.directory=$DN/sluice --log.level=warn >/dev/null 2>&1 & local pid=$!
  for i in $(seq 1200); do curl -s -o /dev/null -f -m 2 -H "Host: $HN" http://127.0.0.1:8083$PN && break; sleep 0.05; done
  sleep 3
  taskset -c 0 wrk -t1 -c50 -d1s -H "Host: $HN" http://127.0.0.1:8083$PN >/dev/null
  local t0=$(ticks $pid)
  local r=$(taskset -c 0 wrk -t1 -c50 -d5s -H "Host: $HN" http://127.0.0.1:8083$PN | awk '/requests in/ {print $1}')
  local t1=$(ticks $pid)
  kill $pid; wait $pid 2>/dev/null
  awk -v t=$((t1-t0)) -v r=$r 'BEGIN{printf "%.2f", t*10000/r}'
}
for i in $(seq $1); do
  if ((i % 2)); then order="nginx100k sluice1"; else order="sluice1 nginx100k"; fi
  for p in $order; do pre $p; echo -e "$i\t$p\t$(meas)"; done
done
kill $BK1 $BK2
