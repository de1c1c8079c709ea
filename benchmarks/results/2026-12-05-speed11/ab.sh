#!/bin/bash
# A/B of main's build (/tmp/speed11-main: main's build of 496d220, the engine of 1a98de4) against this branch's (AFTER_DIR), alternated: --profile runs of
# LinqStream's version only, process CPU per event per run. Waits while /work/notes/QUIET exists.
# Usage: ab.sh AFTER_DIR SECONDS ROUNDS QUERY...
after=$1; seconds=$2; rounds=$3; shift 3
for round in $(seq 1 $rounds); do
  for q in "$@"; do
    for b in /tmp/speed11-main $after; do
      while [ -f /work/notes/QUIET ]; do sleep 30; done
      echo "== round $round $q $(basename $b) $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
      dotnet $b/LinqStream.Benchmarks.dll --profile $q --seconds $seconds 2>&1 | grep '^run'
    done
  done
done
