#!/bin/bash
# Session 22: perf record of scheduler events (switches, wake-ups, migrations; every one: -c 1) around the measured runs at P (usage as par15-perf.sh: BUILD_DIR P OUT CASE...). Read with sched.py (per run: each thread's time on a core, its sleeps and runnable waits, idle per 10 ms, when each source task ended) and bothidle.py (when both cores idled, and what woke them).
build=$1; p=$2; out=$3; shift 3
d=$(mktemp -d); mkfifo $d/ctl $d/ack
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 LINQSTREAM_PERF_CTL=$d/ctl LINQSTREAM_PERF_ACK=$d/ack LINQSTREAM_PERF_P=$p \
  perf record -c 1 -e sched:sched_switch -e sched:sched_wakeup -e sched:sched_migrate_task -D -1 --control fifo:$d/ctl,$d/ack -o $out.data -- dotnet $build/LinqStream.Benchmarks.dll --parallelism --runs 3 "$@" > $out.log 2>&1
rm -rf $d
