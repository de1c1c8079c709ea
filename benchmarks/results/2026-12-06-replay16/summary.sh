#!/bin/bash
# CPU ns/event of the measured runs (perf stat task-clock / (runs x 10M events)) of every perf-stat log here, with its load.
cd "$(dirname "$0")"
for f in cold-*.log second-*.log; do
  [ -f "$f" ] || continue
  case=$(sed -n 2p $f | sed 's/.*measured runs of \([a-z]*\):.*/\1/')
  ms=$(grep -E "msec task-clock" $f | awk '{print $1}' | tr -d ,)
  runs=$(grep -cE "^run [0-9]+ $case:" $f)
  load=$(head -1 $f | sed 's/.*load average: \([0-9.]*\),.*/\1/'); load2=$(tail -1 $f | sed 's/.*load average: \([0-9.]*\),.*/\1/')
  awk -v n="${f%.log}" -v ms="$ms" -v r="$runs" -v l="$load" -v l2="$load2" 'BEGIN{ if (r>0 && ms!="") printf "%-24s %6.2f CPU ns/event (%d runs; load %s -> %s)\n", n, ms*1e6/(r*1e7), r, l, l2; else printf "%-24s incomplete\n", n }'
done
