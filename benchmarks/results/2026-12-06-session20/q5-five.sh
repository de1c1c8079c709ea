#!/bin/bash
# Issue #16's q5 row: five launches of q5 over 2 partitions (--runs 5, each case warmed >= 40 runs: the default since session 20)
cd /work/main
OUT=benchmarks/results/2026-12-06-session20/${LOG:-q5-five.log}
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 "$@" "=Q5HotItemsPartitioned" 2>&1 | grep -v "^// checked" >> $OUT
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
