#!/bin/bash
# usage: perf-round.sh BUILD_DIR ROUND OUT [ENV=VALUE...]: perf record of the P = 2 measured runs of round ROUND only (q5 apart, --rounds 2)
build=$1; round=$2; out=$3; shift 3
d=$(mktemp -d); mkfifo $d/ctl $d/ack
env "$@" DOTNET_PerfMapEnabled=1 DOTNET_PerfMapShowOptimizationTiers=1 DOTNET_EnableWriteXorExecute=0 LINQSTREAM_PERF_CTL=$d/ctl LINQSTREAM_PERF_ACK=$d/ack LINQSTREAM_PERF_P=2 LINQSTREAM_PERF_ROUND=$round \
  perf record -F 999 -g -D -1 --control fifo:$d/ctl,$d/ack -o $out.data -- dotnet $build/LinqStream.Benchmarks.dll --parallelism --runs 3 --rounds 2 "=Q5HotItemsPartitioned" > $out.log 2>&1
rm -rf $d
