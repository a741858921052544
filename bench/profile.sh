#!/usr/bin/env bash
# profile.sh — CPU, allocation and heap profiles of Sluice under load (make profile).
#
# For each route set (1 route; 1 route through the typical middleware chain (r1-mw, only when
# SETS names it); 1 route to the backend's /sec, which sends the chain's six response header
# lines itself (r1-hdrs, only when SETS names it); 1 route over h2c; 10k distinct hosts; 100k distinct hosts with
# requests spread over all of them, as bench-compare's h100k-spread), starts the two bench
# backends on core 0 and Sluice (GOMAXPROCS=1, --debug.pprofAddress) on core 1, drives it
# from core 0 for PROFILE_SECONDS+4 s (wrk, 50 connections; for h2c, h2load with 50
# connections of 10 streams, as bench-compare's r1-h2c), and saves into profiles/:
#   DATE-SCENARIO-COMMIT.cpu.pprof     CPU over PROFILE_SECONDS under load
#   DATE-SCENARIO-COMMIT.allocs.pprof  allocations since start (the hot path should add none)
#   DATE-SCENARIO-COMMIT.heap.pprof    live heap after the load
# Read one with: go tool pprof -top profiles/FILE (the profiles carry their symbols)
# Environment: PROFILE_SECONDS (10) WORK (/tmp/sluice-profile) SETS (the sets to profile:
# "r1 r1-h2c h10k h100k-spread"), ARGS (more flags for Sluice, split on spaces, e.g.
# "--accessLog=true --accessLog.filePath=/tmp/access.log") and TAG (added to the scenario's
# name in the files, e.g. "-clf"). Loopback only; stops what it starts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SECS=${PROFILE_SECONDS:-10}
WORK=${WORK:-/tmp/sluice-profile}
PATH=$PATH:/usr/sbin:/usr/local/go/bin
source "$HERE/lib.sh"
need_tools wrk h2load
ports_free 8083 6060 9001 9002
mkdir -p "$WORK/bin" "$ROOT/profiles"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/" ./cmd/sluice ./bench/cmd/backend ./bench/cmd/genroutes)
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD) DATE=$(date -u +%F)
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap cleanup EXIT INT TERM

SETS=${SETS:-r1 r1-h2c h10k h100k-spread}
read -r -a ARGS <<< "${ARGS:-}"
TAG=${TAG:-}
for set in "r1 hosts 1 -" "r1-mw mw 1 -" "r1-hdrs hosts 1 sec" "r1-h2c hosts 1 h2c" "h10k hosts 10000 -" "h100k-spread hosts 100000 spread"; do
  read -r name kind n load <<< "$set"
  [[ " $SETS " == *" $name "* ]] || continue
  dir=$WORK/routes-$kind-$n
  gen=$(sha256sum < "$WORK/bin/genroutes")  # a set written by another genroutes is stale
  if [[ ! -f $dir/hit || $(cat "$dir/.genroutes" 2>/dev/null) != "$gen" ]]; then
    rm -rf "$dir" && "$WORK/bin/genroutes" -kind "$kind" -n "$n" -out "$dir" && echo "$gen" > "$dir/.genroutes"
  fi
  read -r host path < "$dir/hit"
  [[ $load == sec ]] && path=/sec # the backend adds the chain's six response lines itself
  taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.1:9001 > /dev/null 2>&1 & PIDS+=($!)
  taskset -c 0 "$WORK/bin/backend" -addr 127.0.0.2:9002 > /dev/null 2>&1 & PIDS+=($!)
  GOMAXPROCS=1 taskset -c 1 "$WORK/bin/sluice" --entryPoints.web.address=127.0.0.1:8083 \
    --providers.manifests.directory="$dir/sluice" --log.level=warn --debug.pprofAddress=127.0.0.1:6060 \
    "${ARGS[@]}" > "$WORK/sluice-$name.log" 2>&1 & PIDS+=($!)
  for ((i = 0; i < 600; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" "http://127.0.0.1:8083$path" || true) == 200 ]] && break
    sleep 0.05
  done
  out=$ROOT/profiles/$DATE-$name$TAG-$COMMIT
  script=()
  [[ $load == spread ]] && script=(-s "$dir/spread.lua")
  if [[ $load == h2c ]]; then
    taskset -c 0 h2load -c 50 -m 10 -D $((SECS + 4)) -H ":authority: $host" "http://127.0.0.1:8083$path" > "$out.h2load.txt" &
  else
    taskset -c 0 wrk -t1 -c50 -d$((SECS + 4))s "${script[@]}" -H "Host: $host" "http://127.0.0.1:8083$path" > "$out.wrk.txt" &
  fi
  wpid=$!
  sleep 2
  curl -s -o "$out.cpu.pprof" "http://127.0.0.1:6060/debug/pprof/profile?seconds=$SECS"
  wait "$wpid"
  curl -s -o "$out.allocs.pprof" "http://127.0.0.1:6060/debug/pprof/allocs"
  curl -s -o "$out.heap.pprof" "http://127.0.0.1:6060/debug/pprof/heap?gc=1"
  echo "$name: $(grep -h -e Requests/sec -e 'finished in' "$out".*.txt); profiles $out.{cpu,allocs,heap}.pprof" >&2
  cleanup
done
