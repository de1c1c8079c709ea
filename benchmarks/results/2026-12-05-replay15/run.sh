#!/bin/bash
# replay15 (issue #19): replay from an array against the engine's batch-to-batch speed, order effects, and the array paths' A/B.
# usage: run.sh STEP...   (from the worktree's root, after: dotnet build tests/LinqStream.Tests -c Release, which builds the benchmarks)
# Every log starts and ends with uptime (the load when taken).
set -u
root=$(git rev-parse --show-toplevel)
dll=$root/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll
out=${OUT:-$root/benchmarks/results/2026-12-05-replay15}   # OUT=DIR writes the logs elsewhere (the lead's quiet runs of 2026-12-06)
log() { local name=$1; shift; { echo "# $(date -u +%FT%TZ) $(uptime)"; echo "# dotnet LinqStream.Benchmarks.dll $*"; dotnet $dll "$@"; echo "# $(date -u +%FT%TZ) $(uptime)"; } > $out/$name.log 2>&1; tail -8 $out/$name.log; }
perfrec() { # perf.data of one case's measured runs only (PerfControl), then its top symbols
  local name=$1 case=$2; shift 2; local d; d=$(mktemp -d); mkfifo $d/ctl $d/ack
  { echo "# $(date -u +%FT%TZ) $(uptime)"; echo "# perf record -F 999 -g, case $case: $*"
    DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 LINQSTREAM_PERF_CTL=$d/ctl LINQSTREAM_PERF_ACK=$d/ack LINQSTREAM_PERF_CASE=$case \
      perf record -F 999 -g -D -1 --control fifo:$d/ctl,$d/ack -o /tmp/replay15-$name.data -- dotnet $dll --ingress "$@"
    perf report -i /tmp/replay15-$name.data --no-children --sort symbol --stdio 2>/dev/null | grep -v '^$' | grep '%' | head -25
    echo "# $(date -u +%FT%TZ) $(uptime)"; } > $out/$name.log 2>&1; rm -rf $d; tail -30 $out/$name.log; }
perfstat() { # CPU time (task-clock, exact) of one case's measured runs only, the four cases interleaved in each process
  local name=$1 case=$2; shift 2; local d; d=$(mktemp -d); mkfifo $d/ctl $d/ack
  { echo "# $(date -u +%FT%TZ) $(uptime)"; echo "# perf stat -e task-clock, case $case: $*"
    LINQSTREAM_PERF_CTL=$d/ctl LINQSTREAM_PERF_ACK=$d/ack LINQSTREAM_PERF_CASE=$case \
      perf stat -e task-clock -D -1 --control fifo:$d/ctl,$d/ack -- dotnet $dll --ingress "$@"
    echo "# $(date -u +%FT%TZ) $(uptime)"; } > $out/$name.log 2>&1; rm -rf $d; grep -E "task-clock|^  [a-z-]+:" $out/$name.log; }
for step in "$@"; do
  case $step in
    quick) log quick-check --quick IngressBenchmarks ;;
    rounds) # round by round, both orders (each in its own process)
      log ingress-rounds-array-first --ingress --warmup 5 --runs 10 array array-staged list batch
      log ingress-rounds-list-first --ingress --warmup 5 --runs 10 list batch array-staged array ;;
    sequential) # case after case, as BenchmarkDotNet orders them: the first case of the process carries its cold start
      log ingress-sequential-in-place-first --ingress --sequential --warmup 15 --runs 10 array-in-place list array-staged batch
      log ingress-sequential-list-first --ingress --sequential --warmup 15 --runs 10 list array-in-place array-staged batch
      log ingress-sequential-in-place-alone --ingress --sequential --warmup 15 --runs 10 array-in-place batch ;;
    sweep) # where staging stops paying: the slice (batch size x 24 B) against the cache
      for b in 256 1024 2048 8192 21845 32768 131072; do log ingress-sweep-batch-$b --ingress --batch-size $b --warmup 5 --runs 7 array-in-place array-staged batch; done ;;
    all) log ingress-all-sources --ingress --warmup 5 --runs 10 array list enumerable observable batch ;;
    cpu) # 20 measured runs of each case per process, interleaved; task-clock of one case per process
      for c in array-in-place array-staged list batch; do perfstat cpu-$c $c --warmup 3 --runs 20 array-in-place array-staged list batch; done ;;
    perf)
      perfrec perf-array-in-place array-in-place --warmup 5 --runs 10 array-in-place
      perfrec perf-array-staged array-staged --warmup 5 --runs 10 array-staged
      perfrec perf-enumerable enumerable --warmup 5 --runs 10 enumerable ;;
    bdn) # BenchmarkDotNet in process, as the lead's quiet runs (artifacts in /tmp)
      mkdir -p /tmp/replay15-bdn && (cd /tmp/replay15-bdn && log bdn-ingress --filter '*IngressBenchmarks.LinqStreamQuery' '*IngressBenchmarks.EngineBatchToBatch' \
        --inProcess --inProcessMinutes 20 --warmupCount 15 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1) ;;
  esac
done
