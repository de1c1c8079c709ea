#!/bin/bash
# #16: q5 at P = 1 / P = 2, rounds within one launch reading a fresh copy of the partitions each round (--recopy), then the
# issue's measure: five launches of --runs 5. usage: q5-recopy.sh BIN OUT
BIN=$1; OUT=$2
for i in 1 2 3; do
  echo "=== recopy launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
  dotnet "$BIN/LinqStream.Benchmarks.dll" --parallelism --runs 3 --rounds 3 --recopy "=Q5HotItemsPartitioned" >> "$OUT" 2>&1
done
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
  dotnet "$BIN/LinqStream.Benchmarks.dll" --parallelism --runs 5 "=Q5HotItemsPartitioned" >> "$OUT" 2>&1
done
echo "=== done $(date -u +%H:%M:%S)" >> "$OUT"
