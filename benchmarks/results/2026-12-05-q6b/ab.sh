#!/bin/bash
# speed8's A/B loop (../2026-12-05-speed8/ab.sh) with main's build copied to /tmp/q6b-main (main at 342b101's src and benchmarks,
# built by the lead at 17:01) against this branch's build in AFTER_DIR: --profile runs of LinqStream's version only (and, with
# HAND=1, the hand-written loop of AFTER_DIR's build after each pair), alternated, process CPU per event per run; waits while
# /work/notes/QUIET exists. Usage: [HAND=1] ab.sh AFTER_DIR SECONDS ROUNDS QUERY...; summary: ../2026-12-05-speed8/summarize.py LOG
after=$1; seconds=$2; rounds=$3; shift 3
for round in $(seq 1 $rounds); do
  for q in "$@"; do
    for b in /tmp/q6b-main $after; do
      while [ -f /work/notes/QUIET ]; do sleep 30; done
      echo "== round $round $q $(basename $b) $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
      dotnet $b/LinqStream.Benchmarks.dll --profile $q --seconds $seconds 2>&1 | grep '^run'
    done
    if [ -n "$HAND" ]; then
      while [ -f /work/notes/QUIET ]; do sleep 30; done
      echo "== round $round $q hand $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
      dotnet $after/LinqStream.Benchmarks.dll --profile $q --seconds $seconds --hand 2>&1 | grep '^run'
    fi
  done
done
