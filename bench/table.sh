#!/usr/bin/env bash
# table.sh RESULTS.tsv ROUTESETS.tsv COMMIT ROUNDS DURATION [IDLE.tsv [ENCODED.tsv]] — the markdown tables of
# compare.sh: per scenario and proxy, medians over the rounds (min-max for CPU and req/s),
# and the ratios of Sluice's CPU per request to HAProxy's and nginx's from the same run.
set -euo pipefail
RES=$1 SETS=$2 COMMIT=$3 ROUNDS=$4 DURATION=$5 IDLE=${6:-} ENCODED=${7:-}
CPU=$(awk -F: '/model name/ {sub(/^ /, "", $2); print $2; exit}' /proc/cpuinfo)
echo "Commit $COMMIT, $(date -u +%Y-%m-%d), $(nproc) cores ($CPU). wrk -t1, $DURATION per run, $ROUNDS interleaved rounds;"
echo "proxy on core 1, wrk and backends on core 0 (r1-rate: the load generator, backends inside it). Medians (min-max). CPU = proxy CPU µs per request."
echo
echo "| scenario | proxy | CPU µs/req | req/s | p50 ms | p99 ms | p99.9 ms | errors | CPU ratio Sluice/this |"
echo "|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '
  function sort(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } }
  function med(a, k) { sort(a, k); return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
  { key = $1 SUBSEP $3; if (!(key in n)) { order[++m] = key }
    i = ++n[key]; rps[key, i] = $4; p50[key, i] = $5; p99[key, i] = $6; p999[key, i] = $7; cpu[key, i] = $9; err[key] += $13 }
  END {
    for (o = 1; o <= m; o++) {
      key = order[o]; k = n[key]
      for (i = 1; i <= k; i++) { a[i] = cpu[key, i] } c = med(a, k); lo = a[1]; hi = a[k]; mc[key] = c
      for (i = 1; i <= k; i++) { a[i] = rps[key, i] } r = med(a, k); rlo = a[1]; rhi = a[k]
      for (i = 1; i <= k; i++) { a[i] = p50[key, i] } q50 = med(a, k)
      for (i = 1; i <= k; i++) { a[i] = p99[key, i] } q99 = med(a, k)
      for (i = 1; i <= k; i++) { a[i] = p999[key, i] } q999 = med(a, k)
      split(key, kk, SUBSEP)
      line[o] = sprintf("| %s | %s | %.2f (%.2f-%.2f) | %.0f (%.0f-%.0f) | %.3f | %.3f | %.3f | %d |", kk[1], kk[2], c, lo, hi, r, rlo, rhi, q50, q99, q999, err[key])
    }
    for (o = 1; o <= m; o++) {
      key = order[o]; split(key, kk, SUBSEP); s = kk[1] SUBSEP "sluice"
      ratio = (kk[2] != "sluice" && (s in mc) && mc[key] > 0) ? sprintf("%.2f", mc[s] / mc[key]) : "-"
      print line[o] " " ratio " |"
    }
  }' "$RES"
echo
echo "Route sets: seconds from start to the first routed 200 (each proxy started alone), peak RSS over the set's runs."
echo
echo "| route set | proxy | ready s | RSS at start MiB | peak RSS MiB |"
echo "|---|---|---|---|---|"
awk -F'\t' '{ key = $1 SUBSEP $2; if (!(key in seen)) { seen[key] = 1; order[++m] = key } v[key, $3] = $4 }
  END { for (o = 1; o <= m; o++) { key = order[o]; split(key, kk, SUBSEP)
    printf "| %s | %s | %s | %.1f | %.1f |\n", kk[1], kk[2], v[key, "ready_s"], v[key, "rss_start_kb"] / 1024, v[key, "rss_peak_kb"] / 1024 } }' "$SETS"
if [[ -n $IDLE && -s $IDLE ]]; then
  echo
  echo "Idle connections (r1-tls-idle): the proxy's RSS growth per open idle connection, each with its"
  echo "handshake and one request done. Medians over the rounds (min-max)."
  echo
  echo "| proxy | connection | connections | KiB per connection |"
  echo "|---|---|---|---|"
  awk -F'\t' '
    function sort(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } }
    { key = $2 SUBSEP $3; if (!(key in n)) order[++m] = key; i = ++n[key]; v[key, i] = ($6 - $5) / ($7 > 0 ? $7 : 1); c[key] = $7 }
    END { for (o = 1; o <= m; o++) { key = order[o]; k = n[key]; for (i = 1; i <= k; i++) a[i] = v[key, i]; sort(a, k)
      med = (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2; split(key, kk, SUBSEP)
      printf "| %s | %s | %d | %.2f (%.2f-%.2f) |\n", kk[1], kk[2], c[key], med, a[1], a[k] } }' "$IDLE"
fi
if [[ -n $ENCODED && -s $ENCODED ]]; then
  echo
  echo "Compression (r1-gzip, r1-br, r1-zstd: a 100 KiB HTML page): what each proxy sent for it, and the"
  echo "page bytes it compressed per CPU-second (102,400 / the median CPU µs per request, so MB/s)."
  echo
  echo "| scenario | proxy | encoding | bytes sent | ratio | page MB per CPU-second |"
  echo "|---|---|---|---|---|---|"
  awk -F'\t' '
    function sort(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } }
    FNR == NR { key = $1 SUBSEP $3; i = ++n[key]; cpu[key, i] = $9; next }
    { key = $1 SUBSEP $2; k = n[key]; for (i = 1; i <= k; i++) a[i] = cpu[key, i]; sort(a, k)
      med = k ? ((k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2) : 0
      printf "| %s | %s | %s | %d | %.2f | %s |\n", $1, $2, $4, $3, ($3 > 0 ? 102400 / $3 : 0), (med > 0 ? sprintf("%.1f", 102400 / med) : "-") }' "$RES" "$ENCODED"
fi
