#!/bin/bash
# usage: run.sh LABEL REPO_DIR — the LinqStream rows the quiet table of 2026-12-05 (../table-compared.md) marked > 10 % slower
# than the 2026-12-04 table, with a ten-warm-up job, in process, one run per call; alternate old (db2b189) and main, twice.
label=$1; dir=$2
mkdir -p /tmp/cmp15
echo "// $label $dir $(git -C $dir rev-parse --short HEAD 2>/dev/null || echo 625ec52-copy) load at start: $(cat /proc/loadavg) $(date -u +%T)" > /tmp/cmp15/$label.log
dotnet $dir/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll \
  --filter '*CheckpointCost.WithoutCheckpoints*' '*CompileBenchmarks.FilterProjectFirstResult*' '*SubscribeCacheBenchmarks.Second*' \
  '*SessionCountBenchmarks.LinqStreamQuery*' '*SessionCountBenchmarks.HandWrittenLoop*' '*CrossSiloExchangeBenchmarks.InProcessChannel*' '*RedisNexmark.InMemory*' \
  '*IngressBenchmarks.LinqStreamQuery*' '*IngressBenchmarks.HandWrittenLoop*' \
  --inProcess --warmupCount 10 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1 \
  --artifacts /tmp/cmp15/$label --exporters csv >> /tmp/cmp15/$label.log 2>&1
echo "// load at end: $(cat /proc/loadavg) $(date -u +%T)" >> /tmp/cmp15/$label.log
echo done $label $(date -u +%T)
# then: CMP_DIR=/tmp/cmp15 python3 benchmarks/results/2026-12-04-issue15-side-by-side/compare.py old1 main1 old2 main2
