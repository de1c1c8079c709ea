#!/bin/bash
# usage: par15-perf.sh BUILD_DIR P OUT CASE...   (PERF_EVENTS: what perf records, default CPU samples with stacks; session 22's perf-sched.sh sets it)
build=$1; p=$2; out=$3; shift 3
events=${PERF_EVENTS:--F 999 -g}
d=$(mktemp -d); mkfifo $d/ctl $d/ack
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 LINQSTREAM_PERF_CTL=$d/ctl LINQSTREAM_PERF_ACK=$d/ack LINQSTREAM_PERF_P=$p \
  perf record $events -D -1 --control fifo:$d/ctl,$d/ack -o $out.data -- dotnet $build/LinqStream.Benchmarks.dll --parallelism --runs 3 "$@" > $out.log 2>&1
rm -rf $d
