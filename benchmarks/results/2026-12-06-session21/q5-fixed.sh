#!/bin/bash
# Session 21: q5 over 2 partitions, whole (5M events) and the first fifth of each partition (1M events), in the same launches:
# a run's time = fixed + per-event × events, at P = 1 and P = 2. Five launches, --runs 5, each case warmed >= 40 runs; the two
# cases' order alternates (the second case of a process tends to run P = 1 slower, spin-ab.log).
cd /work/main
OUT=benchmarks/results/2026-12-06-session21/${LOG:-q5-fixed.log}
WHOLE="=Q5HotItemsPartitioned"
FIFTH="=Q5HotItemsPartitioned, the first fifth of each partition (against the whole case: a run's fixed time and its time per event)"
for i in 1 2 3 4 5; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
  if [ $((i % 2)) = 1 ]; then first=$WHOLE; second=$FIFTH; else first=$FIFTH; second=$WHOLE; fi
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 "$@" "$first" "$second" 2>&1 | grep -v "^// checked" >> $OUT
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
