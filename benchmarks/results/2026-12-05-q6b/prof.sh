#!/bin/bash
# usage: prof.sh BUILD_DIR TAG SECONDS QUERY [extra args]: runs --profile QUERY from BUILD_DIR, perf-records the process for 20 s from
# its FROM-th run (default 2) (DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 so that JIT frames have names), writes /tmp/q6b/perf-TAG.script
# (perf script) and prof-TAG.log next to this file; waits while /work/notes/QUIET exists. speed12's prof.sh with other paths.
here=$(cd "$(dirname "$0")" && pwd)
b=$1; tag=$2; secs=$3; q=$4; shift 4
mkdir -p /tmp/q6b
while [ -f /work/notes/QUIET ]; do sleep 30; done
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
dotnet $b/LinqStream.Benchmarks.dll --profile $q --seconds $secs "$@" > $here/prof-$tag.log 2>&1 &
pid=$!
until grep -q "^run ${FROM:-2}:" $here/prof-$tag.log || ! kill -0 $pid 2>/dev/null; do sleep 1; done
echo "perf from here, load $(cut -d' ' -f1-3 /proc/loadavg)" >> $here/prof-$tag.log
perf record -F 999 -g -p $pid -o /tmp/q6b/perf-$tag.data -- sleep 20 > /dev/null 2>&1
wait $pid
perf script -i /tmp/q6b/perf-$tag.data -F comm,tid,ip,sym,dso > /tmp/q6b/perf-$tag.script 2>/dev/null
