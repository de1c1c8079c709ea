#!/bin/bash
# usage: run.sh LABEL REPO_DIR
label=$1; dir=$2
cd $dir
dotnet run -c Release --no-build --project benchmarks/LinqStream.Benchmarks -- \
  --filter '*TumblingCountBenchmarks.LinqStreamQuery*' '*TumblingCountBenchmarks.EngineDirect*' \
  '*SessionCountBenchmarks.LinqStreamQuery*' '*SessionCountBenchmarks.HandWrittenLoop*' \
  '*BatchSizeBenchmarks.LinqStreamQuery*' '*HoppingCountBenchmarks.LinqStreamQuery*' '*CompileBenchmarks*' \
  --warmupCount 10 --iterationCount 15 --launchCount 1 --unrollFactor 1 --invocationCount 1 \
  --artifacts /tmp/cmp/$label --exporters csv > /tmp/cmp/$label.log 2>&1
echo done $label $(date)
