#!/bin/bash
# The lead's quiet runs after session 16's merges (issues #16, #19), one after the other, nothing else running.
# usage: after-merges.sh STEP...   (nexmark q5par connectors rocks ingress)
cd "$(dirname "$0")/../../.."
D=benchmarks/results/2026-12-06-quiet-session16
DLL=$PWD/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll
stamp() { echo "=== $1 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) at $(git rev-parse --short HEAD)"; }
bdn() { local name=$1; shift; mkdir -p /tmp/q16/$name; (cd /tmp/q16/$name && stamp "$name" && dotnet $DLL "$@" --artifacts /tmp/q16/$name --exporters csv; stamp "end") > $PWD/$D/$name.log 2>&1; grep -E '^\| ' $PWD/$D/$name.log; }
for step in "$@"; do case $step in
  nexmark) bdn after-nexmark-q4-q9 --filter '*Q4*LinqStreamQuery' '*Q4*HandWrittenLoop' '*Q9*LinqStreamQuery' '*Q9*HandWrittenLoop' \
      --inProcess --inProcessMinutes 20 --warmupCount 15 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1 ;;
  rocks) bdn after-rocks-q5 --filter '*StateBackendBenchmarks*Q5*' --inProcess --warmupCount 3 --iterationCount 5 --launchCount 1 --unrollFactor 1 --invocationCount 1 --inProcessMinutes 30 ;;
  ingress) # out of process: BenchmarkDotNet builds its boilerplate from the repository, so it runs from the root
    (stamp ingress; dotnet $DLL --artifacts /tmp/q16/after-ingress --exporters csv --filter '*IngressBenchmarks.LinqStreamQuery' '*IngressBenchmarks.EngineBatchToBatch' \
      --warmupCount 15 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1; stamp end) > $D/after-ingress-out-of-process.log 2>&1
    grep -E '^\| ' $D/after-ingress-out-of-process.log ;;
  q5par) for i in 1 2 3 4 5; do
      stamp "launch $i" >> $D/after-parallelism-q5.log
      dotnet $DLL --parallelism --runs 3 --threads "=Q5HotItemsPartitioned" "=Q5HotItemsPartitionedCheckpointed (job)" >> $D/after-parallelism-q5.log 2>&1
    done; grep -E '^\| Q5' $D/after-parallelism-q5.log ;;
  chained) # par18's in-binary comparison: each case with the hash plan chained (the default) and not chained, and the tumbling rows
    stamp chained > $D/after-parallelism-chained.log
    dotnet $DLL --parallelism --runs 3 --threads "=Q5HotItemsPartitioned, hash plan not chained (a thread per source task and per task, as before par18)" "=Q5HotItemsPartitioned" \
      "=Q5HotItemsPartitionedCheckpointed, hash plan not chained (job, as before par18)" "=Q5HotItemsPartitionedCheckpointed (job)" \
      "=TumblingCountPerKeyPartitioned, hash plan not chained (as before par18)" "=TumblingCountPerKeyPartitioned" "=TumblingCountPerKey (array: 2 parts in chunks at P = 2)" >> $D/after-parallelism-chained.log 2>&1
    grep -E '^\| ' $D/after-parallelism-chained.log ;;
  connectors) stamp "connectors" > $D/after-connector-cpu-q5.log
    .ci/servers.sh dotnet $DLL --connector-cpu --runs 5 --reader own --decoder record redis nats q5 >> $D/after-connector-cpu-q5.log 2>&1
    stamp "done" >> $D/after-connector-cpu-q5.log; tail -30 $D/after-connector-cpu-q5.log | grep -iE 'µs|us/event|client' | head -20 ;;
esac; done
