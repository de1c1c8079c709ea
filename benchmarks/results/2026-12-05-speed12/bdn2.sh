#!/bin/bash
# usage: bdn2.sh BUILD : BenchmarkDotNet in process, LinqStream rows of q5, q7 and top-k (answers checked in [GlobalSetup] first), short job
b=$1
mkdir -p /tmp/speed12/bdn-$b && cd /tmp/speed12/bdn-$b
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet /tmp/speed12/$b/LinqStream.Benchmarks.dll --filter '*Q5HotItems.LinqStreamQuery' '*Q7HighestBid.LinqStreamQuery' '*TopKBids.LinqStreamQuery' \
  --inProcessMinutes 30 --warmupCount 5 --iterationCount 5 --launchCount 1 --unrollFactor 1 --invocationCount 1 2>&1
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
