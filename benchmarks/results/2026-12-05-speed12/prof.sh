#!/bin/bash
# usage: prof.sh BUILD QUERY TAG SECONDS [extra args]; runs --profile, perf-records the process for 12 s from its 6th run
b=$1; q=$2; tag=$3; secs=$4; shift 4
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
dotnet /tmp/speed12/$b/LinqStream.Benchmarks.dll --profile $q --seconds $secs "$@" > /tmp/speed12/prof-$tag.log 2>&1 &
pid=$!
until grep -q '^run 6:' /tmp/speed12/prof-$tag.log || ! kill -0 $pid 2>/dev/null; do sleep 1; done
echo "perf from here, load $(cut -d' ' -f1-3 /proc/loadavg)" >> /tmp/speed12/prof-$tag.log
perf record -F 999 -g -p $pid -o /tmp/speed12/perf-$tag.data -- sleep 12 > /dev/null 2>&1
wait $pid
perf report -i /tmp/speed12/perf-$tag.data --no-children --sort comm,symbol -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -45 | cut -c1-250 > /tmp/speed12/perf-$tag.txt
