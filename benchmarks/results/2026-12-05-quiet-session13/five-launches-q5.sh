#!/bin/bash
# five separate launches of q5 at P = 1 and P = 2 after the session-13 merges (issue #16)
cd "$(dirname "$0")/../../.."
OUT=benchmarks/results/2026-12-05-quiet-session13/parallelism-q5-after-merges.log
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) at $(git rev-parse --short HEAD)" >> $OUT
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 3 \
    "=Q5HotItemsPartitioned" "=Q5HotItemsPartitionedCheckpointed (job)" \
    "=Q5HotItemsPartitionedCheckpointed, key groups written before the barrier is passed on (job)" >> $OUT 2>&1
done
echo "=== done $(date -u +%H:%M:%S)" >> $OUT
