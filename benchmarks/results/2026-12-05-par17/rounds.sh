#!/bin/bash
# usage: rounds.sh BUILD_DIR LOG [ENV=VALUE...] -- [ARGS...]
# One launch of the q5 partitioned case (partitions apart, the default) measured twice in one process (--rounds 2):
# round 1 is the case as the first of its process, round 2 the same case after it ran (issue #16, par17).
build=$1; log=$2; shift 2
envs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
[ "$1" == "--" ] && shift
echo "=== $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) build $build env ${envs[*]} args $*" >> $log
env "${envs[@]}" dotnet $build/LinqStream.Benchmarks.dll --parallelism --runs 3 --rounds 2 "$@" "=Q5HotItemsPartitioned" >> $log 2>&1
echo "=== end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $log
