#!/bin/bash
# speed15's ab.sh (../2026-12-05-speed15/ab.sh) with a hand-loop entry: a BUILD_DIR written DIR:hand runs --profile QUERY --hand
# (the hand-written loop) from that build, so the ratio to the hand loop comes from the same sitting. Waits while /work/notes/QUIET exists.
# Usage: ab.sh SECONDS ROUNDS "QUERY..." BUILD_DIR[:hand]...   Summary: python3 ../2026-12-05-speed15/summary.py LOG
seconds=$1; rounds=$2; queries=$3; shift 3
for round in $(seq 1 $rounds); do
  for q in $queries; do
    for entry in "$@"; do
      b=${entry%:hand}; extra=""; name=$(basename $b)
      if [ "$entry" != "$b" ]; then extra="--hand"; name="$name-hand"; fi
      while [ -f /work/notes/QUIET ]; do sleep 30; done
      echo "== round $round $q $name $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
      dotnet $b/LinqStream.Benchmarks.dll --profile $q --seconds $seconds $extra 2>&1 | grep '^run'
    done
  done
done
