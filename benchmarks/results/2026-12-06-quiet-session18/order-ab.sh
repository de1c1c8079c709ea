#!/bin/bash
# #16: q5 with P = 1 warmed first (default), P = 2 warmed first, and one P per process, alternating launches: order-ab.sh BIN OUT [LAUNCHES]
BIN=$1; OUT=$2; N=${3:-3}
for i in $(seq 1 "$N"); do
  for mode in default p2first only1 only2; do
    case $mode in default) a=() ;; p2first) a=(--p2-first) ;; only1) a=(--only 1) ;; only2) a=(--only 2) ;; esac
    echo "=== launch $i $mode $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
    dotnet "$BIN/LinqStream.Benchmarks.dll" --parallelism --runs 3 "${a[@]}" "=Q5HotItemsPartitioned" >> "$OUT" 2>&1
  done
done
echo "=== done $(date -u +%H:%M:%S)" >> "$OUT"
