#!/usr/bin/env bash
# A/B of issue #16's q5 command, alternating main's benchmark build (copied to /tmp/par18-main/release before any build of
# this branch) and this branch's, one launch each per pass: `--parallelism --runs 3 --threads` over q5 and its job.
# Usage (repository root): PASSES="1 2 3" benchmarks/results/2026-12-06-par18/ab.sh > LOG
set -u
MAIN=${MAIN:-/tmp/par18-main/release}
MINE=${MINE:-artifacts/bin/LinqStream.Benchmarks/release}
for pass in ${PASSES:-1 2 3}; do
  for build in main par18; do
    dir=$MAIN; [ "$build" = par18 ] && dir=$MINE
    echo "=== pass $pass $build $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet "$dir/LinqStream.Benchmarks.dll" --parallelism --runs 3 --threads "=Q5HotItemsPartitioned" "=Q5HotItemsPartitionedCheckpointed (job)"
    echo "=== end pass $pass $build $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
