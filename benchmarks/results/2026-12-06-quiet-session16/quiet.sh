#!/bin/bash
# The lead's quiet runs at the start of session 16 (2026-12-06), one after the other, nothing else running.
# usage: quiet.sh STEP...  (steps: q4ab rocksab q4bdn sessions replay sidebyside)
cd "$(dirname "$0")/../../.."
D=$PWD/benchmarks/results/2026-12-06-quiet-session16
main=$PWD/artifacts/bin/LinqStream.Benchmarks/release
base45=/work/wt/base45/artifacts/bin/LinqStream.Benchmarks/release     # main before session 15's merges
speed13=/work/wt/speed13/artifacts/bin/LinqStream.Benchmarks/release   # speed13's branch 74f2e7a
speed15=/work/wt/speed15/artifacts/bin/LinqStream.Benchmarks/release   # speed15's branch 522b15b
rocks15=/work/wt/rocks15/artifacts/bin/LinqStream.Benchmarks/release   # rocks15's branch 8b24993 (the sweep change)
old=/work/wt/old1204/artifacts/bin/LinqStream.Benchmarks/release       # the 2026-12-04 table's build db2b189
stamp() { echo "=== $1 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"; }
bdn() { # LABEL BUILD ARGS...: BenchmarkDotNet in process, from its own artifacts directory
  local label=$1 build=$2; shift 2; mkdir -p /tmp/q16/$label; (cd /tmp/q16/$label && stamp "$label $build" && dotnet $build/LinqStream.Benchmarks.dll "$@" --artifacts /tmp/q16/$label --exporters csv; stamp "end $label") > $D/bdn-$label.log 2>&1
  grep -E '^\| .*(LinqStream|Hand|Rx|Q5|rocksdb|heap)' $D/bdn-$label.log | tail -12; }
for step in "$@"; do case $step in
  q4ab) # process CPU per event of q4 and q9 (--profile), the four builds alternated within each round
    for round in 1 2 3; do for q in Q4 Q9; do for b in base45 main speed13 speed15; do
      stamp "round $round $q $b" >> $D/q4-q9-ab.log
      dotnet ${!b}/LinqStream.Benchmarks.dll --profile $q --seconds 10 2>&1 | grep '^run' >> $D/q4-q9-ab.log
    done; done; done
    python3 benchmarks/results/2026-12-05-speed15/summary.py $D/q4-q9-ab.log | tail -8 ;;
  rocksab) # rocks15's sweep change against main: q5 on the RocksDB backend (and the heap), alternated
    for pass in 1 2; do for b in main rocks15; do
      bdn rocks-$b-$pass ${!b} --filter '*StateBackendBenchmarks*Q5*' --inProcess --warmupCount 3 --iterationCount 5 --launchCount 1 --unrollFactor 1 --invocationCount 1 --inProcessMinutes 30
    done; done ;;
  sessions) # the one side-by-side suspect of 2026-12-05: sessions at 10k keys, db2b189 against main, alternated twice
    for pass in 1 2; do for b in old main; do
      bdn sessions-$b-$pass ${!b} --filter '*SessionCountBenchmarks.LinqStreamQuery*' '*SessionCountBenchmarks.HandWrittenLoop*' --inProcess --warmupCount 10 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1
    done; done ;;
  q4bdn) # q4 and q9 against their hand loops, BenchmarkDotNet in process (session 15's after-merges job), three builds
    for b in main base45 speed13; do
      bdn nexmark-$b ${!b} --filter '*Q4*LinqStreamQuery' '*Q4*HandWrittenLoop' '*Q9*LinqStreamQuery' '*Q9*HandWrittenLoop' \
        --inProcess --inProcessMinutes 20 --warmupCount 15 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1
    done ;;
  replay) OUT=$D bash benchmarks/results/2026-12-05-replay15/run.sh rounds sequential cpu ;;
  sidebyside) # the other engine rows the 2026-12-05 quiet table marked > 10 % slower, db2b189 against main
    for b in old main; do
      bdn rows-$b ${!b} --filter '*CheckpointCost.WithoutCheckpoints*' '*CompileBenchmarks.FilterProjectFirstResult*' '*SubscribeCacheBenchmarks.Second*' \
        '*CrossSiloExchangeBenchmarks.InProcessChannel*' '*RedisNexmark.InMemory*' '*IngressBenchmarks.LinqStreamQuery*' '*IngressBenchmarks.HandWrittenLoop*' \
        --inProcess --warmupCount 10 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1
    done ;;
esac; done
