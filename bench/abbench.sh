#!/usr/bin/env bash
# abbench.sh — one Go benchmark at two commits, side by side in one run (make bench-ab).
#
# Builds the test binary of PKG at BASE (default HEAD~1, in a temporary worktree) and in the working
# tree, then runs the benchmarks matching BENCH from each in turn, ROUNDS times (old, new, old, new,
# ...), so that both see the same machine; prints each benchmark's ns/op per round and the medians.
#
# Usage: PKG=./fastpath/middleware BENCH='BenchmarkMiddleware/typical' bench/abbench.sh
# Environment: PKG (required), BENCH (required), BASE (HEAD~1), ROUNDS (5), BENCHTIME (1s),
#              WORK (/tmp/sluice-abbench). Local only: no network, no load outside this process.
set -euo pipefail
: "${PKG:?PKG: the package, e.g. ./fastpath/middleware}" "${BENCH:?BENCH: a -bench regexp}"
BASE=${BASE:-HEAD~1} ROUNDS=${ROUNDS:-5} BENCHTIME=${BENCHTIME:-1s} WORK=${WORK:-/tmp/sluice-abbench}
root=$(git rev-parse --show-toplevel)
mkdir -p "$WORK"
wt="$WORK/base"
git -C "$root" worktree remove --force "$wt" 2>/dev/null || true
git -C "$root" worktree add -f --detach "$wt" "$BASE" -q
trap 'git -C "$root" worktree remove --force "$wt" 2>/dev/null || true' EXIT
(cd "$wt" && go test -c -o "$WORK/old.test" "$PKG")
(cd "$root" && go test -c -o "$WORK/new.test" "$PKG")
: > "$WORK/runs.tsv"
for _ in $(seq "$ROUNDS"); do
  for v in old new; do
    "$WORK/$v.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1 |
      awk -v v="$v" '/^Benchmark/ {print $1 "\t" v "\t" $3}' >> "$WORK/runs.tsv"
  done
done
echo "BASE $(git -C "$root" rev-parse --short "$BASE") against the working tree of $(git -C "$root" rev-parse --short HEAD); ns/op per round, then the median"
sort -k1,1 -k2,2r -s "$WORK/runs.tsv" | awk -F'\t' '
  function median(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  { k = $1 "\t" $2; if (!(k in v)) order[++n] = k; v[k] = v[k] " " $3 }
  END { for (i = 1; i <= n; i++) printf "%s\t%s\tmedian %s\n", order[i], v[order[i]], median(v[order[i]]) }'
