#!/bin/bash
# bdn3.sh BUILD FILTERS...: short in-process BenchmarkDotNet job
b=$1; shift
mkdir -p /tmp/speed12/bdn3-$b && cd /tmp/speed12/bdn3-$b
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet /tmp/speed12/$b/LinqStream.Benchmarks.dll --filter "$@" --inProcessMinutes 30 --warmupCount 5 --iterationCount 5 --launchCount 1 --unrollFactor 1 --invocationCount 1 2>&1
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
