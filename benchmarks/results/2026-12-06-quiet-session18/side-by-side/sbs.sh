#!/bin/bash
# usage: sbs.sh LABEL REPO_DIR FILTER... — BDN in process, ten warm-ups + ten single-invocation iterations, csv into /tmp/cmp18/LABEL
label=$1; dir=$2; shift 2
mkdir -p /tmp/cmp18
echo "// $label $dir $(git -C $dir rev-parse --short HEAD) load at start: $(cat /proc/loadavg) $(date -u +%T)" > /tmp/cmp18/$label.log
dotnet $dir/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --filter "$@" \
  --inProcess --warmupCount 10 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1 \
  --artifacts /tmp/cmp18/$label --exporters csv >> /tmp/cmp18/$label.log 2>&1
echo "// load at end: $(cat /proc/loadavg) $(date -u +%T)" >> /tmp/cmp18/$label.log
echo done $label $(date -u +%T)
