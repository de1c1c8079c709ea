#!/bin/bash
# speed8's A/B loop (../2026-12-05-speed8/ab.sh) with main's build in /tmp/speed14-main (the lead's build of main, d610f31's code)
# instead of /tmp/speed8-before, one round at a time; with HAND=1 each round then runs the branch build's --hand loop of every
# query. Waits while /work/notes/QUIET exists. Usage: ab.sh AFTER_DIR SECONDS ROUNDS QUERY...; summary:
# ../2026-12-05-speed8/summarize.py LOG (the logs of this directory were taken with main, branch and hand blocks per query in turn).
here=$(dirname "$0")
after=$1; seconds=$2; rounds=$3; shift 3
for round in $(seq 1 $rounds); do
  sed -e 's#/tmp/speed8-before#/tmp/speed14-main#' -e "s#seq 1 \$rounds#echo $round#" "$here/../2026-12-05-speed8/ab.sh" | bash -s -- "$after" "$seconds" 1 "$@"
  for q in ${HAND:+"$@"}; do
    while [ -f /work/notes/QUIET ]; do sleep 30; done
    echo "== round $round $q hand $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet "$after/LinqStream.Benchmarks.dll" --profile "$q" --hand --seconds "$seconds" 2>&1 | grep '^run'
  done
done
