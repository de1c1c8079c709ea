#!/bin/bash
# #16: q5 P = 2 / P = 1 at d610f31 (par16: 1.73x median, CPU 1.02x) against main, alternating launches, no settle (d610f31 has none).
OUT=$1
for i in 1 2 3; do
  for b in par16:/work/wt/par16 main:/work/main; do
    l=${b%%:*}; d=${b#*:}
    extra=(); [ $l = main ] && extra=(--no-settle)
    echo "=== $l launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
    dotnet $d/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 "${extra[@]}" "=Q5HotItemsPartitioned" >> "$OUT" 2>&1
  done
done
echo "=== done $(date -u +%H:%M:%S)" >> "$OUT"
