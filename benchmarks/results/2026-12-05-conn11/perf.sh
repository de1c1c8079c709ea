#!/bin/bash
# usage: perf.sh BUILD_DIR OUT METHOD ARGS...   (run inside .ci/servers.sh)
build=$1; out=$2; method=$3; shift 3
d=$(mktemp -d); mkfifo $d/ctl $d/ack
uptime > $out.log
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 LINQSTREAM_PERF_CTL=$d/ctl LINQSTREAM_PERF_ACK=$d/ack LINQSTREAM_PERF_METHOD=$method \
  perf record -F 999 -g -D -1 --control fifo:$d/ctl,$d/ack -o $out.data -- dotnet $build/LinqStream.Benchmarks.dll --connector-cpu "$@" >> $out.log 2>&1
uptime >> $out.log
rm -rf $d
