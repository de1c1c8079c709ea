#!/bin/bash
# round 2: the final build first, then main, query by query; then the hand-written loops (--hand), 15 s each
for q in Q5 TopK Q7; do
  for b in b4-bench main-bench; do
    echo "== round 2 $q $b $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
    dotnet /tmp/speed12/$b/LinqStream.Benchmarks.dll --profile $q --seconds 15 2>&1 | grep '^run'
  done
  echo "== round 2 $q hand $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
  dotnet /tmp/speed12/b4-bench/LinqStream.Benchmarks.dll --profile $q --seconds 10 --hand 2>&1 | grep '^run'
done
