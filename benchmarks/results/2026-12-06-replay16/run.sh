#!/bin/bash
# replay16 (issue #19): the first query of a process. usage: run.sh STEP...  (from the worktree's root, after
# `dotnet build benchmarks/LinqStream.Benchmarks -c Release`). Every log starts and ends with uptime (the load when taken).
# BEFORE=DIR names a copy of the benchmark program's output with another engine's LinqStream.dll (session 16: "after" was commit
# b83a6d5's engine, QueryRunner.Step, and "before" main's; the branch's final engine is main's again, so for an A/B now build b83a6d5):
#   cp -r artifacts/bin/LinqStream.Benchmarks/release /tmp/before && cp OTHER/artifacts/bin/LinqStream/release/LinqStream.dll /tmp/before/
# (the harness is this branch's in both; only the engine differs).
set -u
root=$(git rev-parse --show-toplevel)
after=$root/artifacts/bin/LinqStream.Benchmarks/release
before=${BEFORE:-/tmp/replay16-before}
out=$root/benchmarks/results/2026-12-06-replay16
# CPU time (perf stat task-clock, exact, every thread of the process) of the measured runs only (PerfControl)
perfstat() { # NAME DLLDIR CASE ARGS...
  local name=$1 dir=$2 case=$3; shift 3; local d; d=$(mktemp -d); mkfifo $d/ctl $d/ack
  { echo "# $(date -u +%FT%TZ) $(uptime)"; echo "# $dir: perf stat -e task-clock, measured runs of $case: --ingress $*"
    LINQSTREAM_PERF_CTL=$d/ctl LINQSTREAM_PERF_ACK=$d/ack LINQSTREAM_PERF_CASE=$case \
      perf stat -e task-clock -D -1 --control fifo:$d/ctl,$d/ack -- dotnet $dir/LinqStream.Benchmarks.dll --ingress "$@"
    echo "# $(date -u +%FT%TZ) $(uptime)"; } > $out/$name.log 2>&1; rm -rf $d
  tail -1 $out/$name.log; }
# after the steps: ./summary.sh (CPU ns/event of each log's measured runs)
jit() { # NAME DLLDIR CASE...: which tier the drive loop and its callees ran at
  local name=$1 dir=$2; shift 2
  DOTNET_JitStdOutFile=/tmp/replay16-$name.jit DOTNET_JitDisasmSummary=1 dotnet $dir/LinqStream.Benchmarks.dll --ingress --cold --sequential --warmup 15 --runs 10 "$@" > /dev/null 2>&1
  grep -E "QueryRunner:(Run|Step)\(|ObserverSink\`1\[long\]:OnBatch|EnumerableSource\`1\[.*Tick\]:TryStep|PipelineOperator\`2\[.*Tick,long\]:TryPushFused" /tmp/replay16-$name.jit | sed 's/^ *[0-9]*: JIT compiled //' > $out/$name.log; cat $out/$name.log; }
for step in "$@"; do
  case $step in
    cold) # each case alone in its own process, as BenchmarkDotNet's default toolchain runs it: after the engine, before it
      for round in 1 2; do for c in array list batch; do
        perfstat cold-$c-after-$round $after $c --cold --sequential --warmup 15 --runs 10 $c
        perfstat cold-$c-before-$round $before $c --cold --sequential --warmup 15 --runs 10 $c
      done; done ;;
    second) # the array as the second query of the process (after the list), BenchmarkDotNet in-process's order for List
      for round in ${ROUNDS:-1 2}; do
        perfstat second-array-after-$round $after array --cold --sequential --warmup 15 --runs 10 list array
        perfstat second-array-before-$round $before array --cold --sequential --warmup 15 --runs 10 list array
      done ;;
    jit) jit jit-array-after $after array; jit jit-array-before $before array ;;
    bdn) # BenchmarkDotNet, each case in its own process (the default toolchain), 15 warm-ups + 10 iterations (wall time)
      # from the root: BenchmarkDotNet builds each case's boilerplate project from the repository
      (cd $root && { echo "# $(date -u +%FT%TZ) $(uptime)"; dotnet $after/LinqStream.Benchmarks.dll --artifacts /tmp/replay16-bdn \
        --filter '*IngressBenchmarks.LinqStreamQuery' '*IngressBenchmarks.EngineBatchToBatch' --warmupCount 15 --iterationCount 10 \
        --launchCount 1 --unrollFactor 1 --invocationCount 1; echo "# $(date -u +%FT%TZ) $(uptime)"; } > $out/bdn-out-of-process.log 2>&1)
      grep -E "^\| |^# " $out/bdn-out-of-process.log ;;
  esac
done
