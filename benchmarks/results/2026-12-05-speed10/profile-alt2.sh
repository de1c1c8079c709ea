#!/bin/bash
cd /tmp/speed10
for q in "Q3 30" "Q8 30"; do
  set -- $q
  for b in after before; do
    echo "=== $b $1 $(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet $b-bench/LinqStream.Benchmarks.dll --profile $1 --seconds $2 2>&1
  done
done
echo "=== end $(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
