#!/bin/bash
# five separate launches of the quiet parallelism cases (issue #16's "median of 5 launches")
cd /work/main
OUT=benchmarks/results/2026-12-05-quiet-session13
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/parallelism-launches.log
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 3 \
    "=TumblingCountPerKeyForwardArrays (2 arrays by key, declared: forward exchange, chained)" \
    "=TumblingCountPerKeyKeyPartitionedArraysHashed (the same 2 arrays, not declared: hash exchange, two phases)" \
    "=Q5HotItemsPartitioned" \
    "=Q5HotItemsPartitionedCheckpointed (job)" \
    "=Q5HotItemsPartitionedCheckpointed, key groups written before the barrier is passed on (job)" \
    "=StatelessSinkPerTaskCheckpointed (job, 2 partitions)" >> $OUT/parallelism-launches.log 2>&1
done
echo "=== done $(date -u +%H:%M:%S)" >> $OUT/parallelism-launches.log
