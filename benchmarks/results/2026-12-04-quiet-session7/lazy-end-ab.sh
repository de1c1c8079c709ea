#!/bin/bash
# Alternates main (eac39fc build) and speed4-lazyend merged with main (7bd1c13) on q0 and q8, profile loop, 10 s each.
MAIN=/work/main/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll
LAZY=/work/wt/speed4-lazyend/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll
for round in 1 2; do
  for q in Q0 Q8; do
    for v in main lazy; do
      dll=$MAIN; [ $v = lazy ] && dll=$LAZY
      echo "=== round $round $q $v $(uptime)"
      dotnet $dll --profile $q --seconds 10 2>&1 | tail -n 30
    done
  done
done
