#!/bin/bash
# speed8's A/B loop (../2026-12-05-speed8/ab.sh) over any number of builds: --profile runs of LinqStream's version only, the builds
# alternated within each round, process CPU per event per run; waits while /work/notes/QUIET exists. Extra environment (e.g.
# DOTNET_TieredCompilation=0) is passed through. Usage: ab.sh SECONDS ROUNDS "QUERY..." BUILD_DIR...
# Summary: python3 summary.py LOG (median and best CPU ns/event of each block, and each build's median of the block medians).
seconds=$1; rounds=$2; queries=$3; shift 3
for round in $(seq 1 $rounds); do
  for q in $queries; do
    for b in "$@"; do
      while [ -f /work/notes/QUIET ]; do sleep 30; done
      echo "== round $round $q $(basename $b) $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
      dotnet $b/LinqStream.Benchmarks.dll --profile $q --seconds $seconds 2>&1 | grep '^run'
    done
  done
done
