#!/bin/bash
# Session 21: the tumbling count's chained forward row (issue #16's >= 1.8x row) blocking at once (the new rule on 2 cores) against
# spinning first (forced, as before), in the same launches, the order alternating.
cd /work/main
OUT=benchmarks/results/2026-12-06-session21/${LOG:-chained-spin-ab.log}
NEW="=TumblingCountPerKeyForwardArrays (2 arrays by key, declared: forward exchange, chained)"
OLD="=TumblingCountPerKeyForwardArrays, channels spin before they block (as before session 21; chained)"
for i in 1 2 3 4; do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
  if [ $((i % 2)) = 1 ]; then first=$NEW; second=$OLD; else first=$OLD; second=$NEW; fi
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 "$@" "$first" "$second" 2>&1 | grep -v "^// checked" >> $OUT
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT
