#!/bin/bash
# Session 21: the same row with the old spin forced, alone, five launches (--runs 5), nothing else running.
cd /work/main
OUT=benchmarks/results/2026-12-06-session21/${LOG:-chained-five-spin.log}
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 "$@" "=TumblingCountPerKeyForwardArrays, channels spin before they block (as before session 21; chained)" 2>&1 | grep -v "^// checked" >> $OUT
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
