#!/bin/bash
# Session 21: issue #16's other rows with this session's channels (batches made when first filled, no spin on 2 cores):
# the tumbling counts (forward chained; hash exchange, two phases), the stateless job with a sink per task, the q5 job (alignment p99).
cd /work/main
OUT=benchmarks/results/2026-12-06-session21/${LOG:-rows.log}
for i in 1 2 3; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 "$@" \
    "=TumblingCountPerKeyForwardArrays (2 arrays by key, declared: forward exchange, chained)" \
    "=TumblingCountPerKeyKeyPartitionedArraysHashed (the same 2 arrays, not declared: hash exchange, two phases)" \
    "=StatelessSinkPerTaskCheckpointed (job, 2 partitions)" \
    "=Q5HotItemsPartitionedCheckpointed (job)" 2>&1 | grep -v "^// checked" >> $OUT
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
