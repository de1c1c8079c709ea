#!/bin/bash
# CPU ns/event of the measured runs of every perf-stat log here, with its load: perf stat task-clock / (runs x 10M events), and
# the median of the runs' own process-CPU readings (10 ms resolution; robust to the one run in ten that another process's burst hits).
cd "$(dirname "$0")"
for f in cold-*.log second-*.log; do
  [ -f "$f" ] || continue
  case=$(sed -n 2p $f | sed 's/.*measured runs of \([a-z]*\):.*/\1/')
  ms=$(grep -E "msec task-clock" $f | awk '{print $1}' | tr -d ,)
  runs=$(grep -cE "^run [0-9]+ $case:" $f)
  load=$(head -1 $f | sed 's/.*load average: \([0-9.]*\),.*/\1/'); load2=$(tail -1 $f | sed 's/.*load average: \([0-9.]*\),.*/\1/')
  med=$(grep -E "^run [0-9]+ $case:" $f | sed 's/.*CPU \([0-9.]*\).*/\1/' | sort -n | awk '{a[NR]=$1} END{ if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); }')
  awk -v n="${f%.log}" -v ms="$ms" -v r="$runs" -v l="$load" -v l2="$load2" -v med="$med" 'BEGIN{ if (r>0 && ms!="") printf "%-24s %6.2f CPU ns/event (task-clock), median run %5.2f (%d runs; load %s -> %s)\n", n, ms*1e6/(r*1e7), med, r, l, l2; else printf "%-24s incomplete\n", n }'
done
