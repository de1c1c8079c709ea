#!/bin/bash
# Quiet A/B of par19 (rented channel/batch columns at P > 1) against main, alternating launches, q5's two P = 2 rows.
# usage: par19-ab.sh MAIN_BIN PAR19_BIN OUT [LAUNCHES]
MAIN=$1; PAR19=$2; OUT=$3; N=${4:-5}
for i in $(seq 1 "$N"); do
  for b in main par19; do
    if [ $b = main ]; then BIN=$MAIN; else BIN=$PAR19; fi
    echo "=== launch $i $b $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
    dotnet "$BIN/LinqStream.Benchmarks.dll" --parallelism --runs 3 "=Q5HotItemsPartitioned" "=Q5HotItemsPartitionedCheckpointed (job)" >> "$OUT" 2>&1
  done
done
echo "=== done $(date -u +%H:%M:%S)" >> "$OUT"
