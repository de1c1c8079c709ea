#!/bin/bash
# the lead's quiet runs after session 15's merges (issues #16, #19), one after the other
cd "$(dirname "$0")/../../.."
D=benchmarks/results/2026-12-05-quiet-session15
DLL=$PWD/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll
stamp() { echo "=== $1 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) at $(git rev-parse --short HEAD)"; }
# 1. q4/q9 against the hand loop (speed15's fused join + fold), BenchmarkDotNet in process
mkdir -p /tmp/bdn15 && cd /tmp/bdn15
stamp "bdn q4 q9" > /work/main/$D/nexmark-q4-q9-after-merges.log
dotnet $DLL --filter '*Q4*LinqStreamQuery' '*Q4*HandWrittenLoop' '*Q9*LinqStreamQuery' '*Q9*HandWrittenLoop' \
  --inProcess --inProcessMinutes 20 --warmupCount 15 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1 >> /work/main/$D/nexmark-q4-q9-after-merges.log 2>&1
cd /work/main
# 2. q5 at P = 1 and P = 2, five launches (par17: the heap settled before the measured runs)
for i in 1 2 3 4 5; do
  stamp "launch $i" >> $D/parallelism-q5-after-merges.log
  dotnet $DLL --parallelism --runs 3 --threads "=Q5HotItemsPartitioned" "=Q5HotItemsPartitionedCheckpointed (job)" >> $D/parallelism-q5-after-merges.log 2>&1
done
# 3. connector client CPU, q5 job (conn12)
stamp "connectors" > $D/connector-cpu-q5-after-merges.log
.ci/servers.sh dotnet $DLL --connector-cpu --runs 5 --reader own --decoder record redis nats q5 >> $D/connector-cpu-q5-after-merges.log 2>&1
stamp "done" >> $D/connector-cpu-q5-after-merges.log
