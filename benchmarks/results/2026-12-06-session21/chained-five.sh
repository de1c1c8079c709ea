#!/bin/bash
# Session 21: issue #16's tumbling row (2 arrays by key, forward, chained) alone, five launches (--runs 5), nothing else running.
cd /work/main
OUT=benchmarks/results/2026-12-06-session21/${LOG:-chained-five.log}
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 "$@" "=TumblingCountPerKeyForwardArrays (2 arrays by key, declared: forward exchange, chained)" 2>&1 | grep -v "^// checked" >> $OUT
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
