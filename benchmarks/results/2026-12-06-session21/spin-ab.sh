#!/bin/bash
# Session 21: channels block at once when the run's threads outnumber the cores (the new default) against spinning first
# (the old default, forced), in the same launches. Five launches; q5 first, then the spinning q5.
cd /work/main
OUT=benchmarks/results/2026-12-06-session21/${LOG:-spin-ab.log}
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 "$@" "=Q5HotItemsPartitioned" "=Q5HotItemsPartitioned, channels spin before they block (as before session 21)" 2>&1 | grep -v "^// checked" >> $OUT
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
