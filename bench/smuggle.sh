#!/usr/bin/env bash
# smuggle.sh — the request-smuggling corpus (bench/smuggle) against Sluice, HAProxy and nginx
# (make bench-smuggle). Each proxy serves the 1-route set of bench-compare (bench/cmd/genroutes)
# in front of recording servers (bench/cmd/smuggle, on the set's server addresses); every case is
# sent to each proxy on a fresh connection with a request pipelined behind it. Prints a markdown
# table: the answers the client read, whether the connection closed, how many requests the
# servers saw, and TWO VIEWS where a server got the pipelined request although the client saw the
# connection close after one answer. Loopback only; stops what it starts, by PID.
# Environment: WORK (/tmp/sluice-bench). Installs haproxy and nginx-light when missing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=${WORK:-/tmp/sluice-bench}
PATH=$PATH:/usr/sbin:/usr/local/go/bin
source "$HERE/lib.sh"
need_tools haproxy nginx
ports_free 8081 8082 8083 9001 9002
mkdir -p "$WORK/bin"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/" ./cmd/sluice ./bench/cmd/genroutes ./bench/cmd/smuggle)
DIR=$WORK/routes-smuggle
rm -rf "$DIR" && "$WORK/bin/genroutes" -kind hosts -n 1 -out "$DIR"
read -r HOST _ < "$DIR/hit"
PIDS=()
trap stop_started EXIT INT TERM
"$WORK/bin/sluice" --entryPoints.web.address=127.0.0.1:8083 --providers.manifests.directory="$DIR/sluice" --log.level=error > /dev/null 2>&1 & PIDS+=($!)
haproxy -db -f "$DIR/haproxy.cfg" > /dev/null 2>&1 & PIDS+=($!)
nginx -p "$DIR/nginx/" -c nginx.conf -g 'daemon off;' > /dev/null 2>&1 & PIDS+=($!)
sleep 1
echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(haproxy -v | head -1), $(nginx -v 2>&1)"
"$WORK/bin/smuggle" -host "$HOST" -proxies "sluice=127.0.0.1:8083,haproxy=127.0.0.1:8081,nginx=127.0.0.1:8082"
