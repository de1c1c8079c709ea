#!/bin/bash
# five separate launches of q5 at P = 1 and P = 2, interleaved partitions and partitions apart in memory (issue #16)
cd "$(dirname "$0")/../../.."
OUT=benchmarks/results/2026-12-05-quiet-session14/parallelism-q5-apart-five.log
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) at $(git rev-parse --short HEAD)" >> $OUT
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 3 --threads \
    "=Q5HotItemsPartitioned" "=Q5HotItemsPartitioned, each partition's events apart in memory" >> $OUT 2>&1
done
echo "=== done $(date -u +%H:%M:%S)" >> $OUT
