#!/bin/bash
# Quiet side-by-side of the compile-path rows: db2b189 (old1204) vs main, two pairs, BDN in process, 10+10 single invocations (sbs.sh),
# then the same rows with BDN's own invocation count (steady state) for one pair.
S=/work/main/benchmarks/results/2026-12-06-quiet-session18/side-by-side/sbs.sh
F=('*SubscribeCacheBenchmarks*' '*CompileBenchmarks*')
rm -rf /tmp/cmp18/old19* /tmp/cmp18/main19*
bash $S old19a /work/wt/old1204 "${F[@]}"
bash $S main19a /work/main "${F[@]}"
bash $S old19b /work/wt/old1204 "${F[@]}"
bash $S main19b /work/main "${F[@]}"
for b in old19s:/work/wt/old1204 main19s:/work/main; do
  l=${b%%:*}; d=${b#*:}
  echo "// $l $(cat /proc/loadavg) $(date -u +%T)" > /tmp/cmp18/$l.log
  dotnet $d/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --filter "${F[@]}" --inProcess --warmupCount 5 --iterationCount 15 --launchCount 1 \
    --artifacts /tmp/cmp18/$l --exporters csv >> /tmp/cmp18/$l.log 2>&1
  echo "// end $(cat /proc/loadavg) $(date -u +%T)" >> /tmp/cmp18/$l.log
done
echo done $(date -u +%T)
