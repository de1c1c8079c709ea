#!/bin/bash
# the lead's quiet runs after session 14's merges (issues #16, #19), one after the other
cd "$(dirname "$0")/../../.."
D=benchmarks/results/2026-12-05-quiet-session14
DLL=$PWD/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll
stamp() { echo "=== $1 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) at $(git rev-parse --short HEAD)"; }
# 1. q5 at P = 1 and P = 2, five launches (the default case is now the partitions apart in memory)
for i in 1 2 3 4 5; do
  stamp "launch $i" >> $D/parallelism-q5-after-merges.log
  dotnet $DLL --parallelism --runs 3 --threads "=Q5HotItemsPartitioned" "=Q5HotItemsPartitionedCheckpointed (job)" >> $D/parallelism-q5-after-merges.log 2>&1
done
# 2. NEXMark against the hand loop (and Rx.NET for q3/q8), BenchmarkDotNet in process
mkdir -p /tmp/bdn14b && cd /tmp/bdn14b
stamp "bdn" > /work/main/$D/nexmark-after-merges.log
dotnet $DLL --filter '*Q4*LinqStreamQuery' '*Q4*HandWrittenLoop' '*Q9*LinqStreamQuery' '*Q9*HandWrittenLoop' \
  '*Q3LocalItemSuggestion.*' '*Q8NewUsers.LinqStreamQuery' '*Q8NewUsers.HandWrittenLoop' '*Q8NewUsers.RxNet' \
  '*Q6*LinqStreamQuery' '*Q6*HandWrittenLoop' '*IngressBenchmarks.LinqStreamQuery' '*IngressBenchmarks.EngineBatchToBatch' \
  --inProcess --inProcessMinutes 20 --warmupCount 15 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1 >> /work/main/$D/nexmark-after-merges.log 2>&1
cd /work/main
# 3. connector client CPU, q5 job
stamp "connectors" > $D/connector-cpu-q5-after-merges.log
.ci/servers.sh dotnet $DLL --connector-cpu --runs 5 --reader own --decoder record redis nats q5 >> $D/connector-cpu-q5-after-merges.log 2>&1
stamp "done" >> $D/connector-cpu-q5-after-merges.log
# 4. speed13's branch (not merged): q4 and q9 against the hand loop with its build, right after main's
mkdir -p /tmp/bdn14c && cd /tmp/bdn14c
stamp "bdn speed13 74f2e7a" > /work/main/$D/nexmark-q4-q9-speed13-branch.log
dotnet /work/wt/speed13/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --filter '*Q4*LinqStreamQuery' '*Q4*HandWrittenLoop' '*Q9*LinqStreamQuery' '*Q9*HandWrittenLoop' \
  --inProcess --inProcessMinutes 20 --warmupCount 15 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1 >> /work/main/$D/nexmark-q4-q9-speed13-branch.log 2>&1
cd /work/main; stamp "done" >> $D/nexmark-q4-q9-speed13-branch.log
