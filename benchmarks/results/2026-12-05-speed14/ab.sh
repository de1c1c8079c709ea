#!/bin/bash
# speed8's A/B loop (../2026-12-05-speed8/ab.sh) for speed14: main's build (/tmp/speed14-main: the lead's build of main, d610f31's code)
# against this branch's build (AFTER_DIR), alternated: --profile runs of LinqStream's version only (or with HAND=1 also the
# hand-written loop of the same build), process CPU per event per run; waits while /work/notes/QUIET exists.
# Usage: ab.sh AFTER_DIR SECONDS ROUNDS QUERY...; summary: ../2026-12-05-speed8/summarize.py LOG
after=$1; seconds=$2; rounds=$3; shift 3
for round in $(seq 1 $rounds); do
  for q in "$@"; do
    for b in /tmp/speed14-main $after; do
      while [ -f /work/notes/QUIET ]; do sleep 30; done
      echo "== round $round $q $(basename $b) $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
      dotnet $b/LinqStream.Benchmarks.dll --profile $q --seconds $seconds 2>&1 | grep '^run'
    done
    if [ -n "$HAND" ]; then
      while [ -f /work/notes/QUIET ]; do sleep 30; done
      echo "== round $round $q hand $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
      dotnet $after/LinqStream.Benchmarks.dll --profile $q --hand --seconds $seconds 2>&1 | grep '^run'
    fi
  done
done
