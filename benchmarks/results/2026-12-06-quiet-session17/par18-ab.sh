#!/bin/bash
# Quiet A/B of par18 (chained tasks in the hash plan, branch par18 d453c93, reverted on main in 2712434) against main,
# five alternating launches each, on issue #16's rows. par18's binary also runs its own "hash plan not chained" rows (same binary).
# Usage: par18-ab.sh PAR18_BIN_DIR MAIN_BIN_DIR OUT_LOG
PAR18=${1:-/work/wt/par18/artifacts/bin/LinqStream.Benchmarks/release}
MAIN=${2:-/work/main/artifacts/bin/LinqStream.Benchmarks/release}
OUT=${3:-/work/main/benchmarks/results/2026-12-06-quiet-session17/par18-ab.log}
for i in 1 2 3 4 5; do
  echo "=== launch $i par18 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
  dotnet "$PAR18/LinqStream.Benchmarks.dll" --parallelism --runs 3 \
    "=TumblingCountPerKeyKeyPartitionedArraysHashed (the same 2 arrays, not declared: hash exchange, two phases)" \
    "=Q5HotItemsPartitioned" \
    "=Q5HotItemsPartitioned, hash plan not chained (a thread per source task and per task, as before par18)" \
    "=Q5HotItemsPartitionedCheckpointed (job)" \
    "=Q5HotItemsPartitionedCheckpointed, hash plan not chained (job, as before par18)" >> "$OUT" 2>&1
  echo "=== launch $i main $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
  dotnet "$MAIN/LinqStream.Benchmarks.dll" --parallelism --runs 3 \
    "=TumblingCountPerKeyKeyPartitionedArraysHashed (the same 2 arrays, not declared: hash exchange, two phases)" \
    "=Q5HotItemsPartitioned" \
    "=Q5HotItemsPartitionedCheckpointed (job)" >> "$OUT" 2>&1
done
echo "=== done $(date -u +%H:%M:%S)" >> "$OUT"
