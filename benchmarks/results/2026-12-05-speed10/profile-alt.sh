#!/bin/bash
# alternates main's engine (before) and this branch's (after) in --profile loops; then the hand loops
cd /tmp/speed10
for round in 1; do
for q in "Q3 30" "Q8 30" "Q5 20" "Q0 20" "Q2 20"; do
  set -- $q
  for b in before after; do
    echo "=== $b $1 $(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet $b-bench/LinqStream.Benchmarks.dll --profile $1 --seconds $2 2>&1
  done
done
done
for q in Q3 Q8; do
  echo "=== hand $q $(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
  dotnet after-bench/LinqStream.Benchmarks.dll --profile $q --seconds 15 --hand 2>&1
done
echo "=== end $(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
