#!/bin/bash
# usage: perf-rounds.sh BUILD_DIR OUT [ENV=VALUE...]: perf record (CLOCK_MONOTONIC) of the P = 2 measured runs of both rounds of
# q5 apart (--rounds 2), then one report per round, cut at the "// round 2 of 2, from monotonic S s" line (issue #16, par17).
build=$1; out=$2; shift 2
d=$(mktemp -d); mkfifo $d/ctl $d/ack
echo "=== $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) env $*" > $out.log
env "$@" DOTNET_PerfMapEnabled=1 DOTNET_PerfMapShowOptimizationTiers=1 DOTNET_EnableWriteXorExecute=0 LINQSTREAM_PERF_CTL=$d/ctl LINQSTREAM_PERF_ACK=$d/ack LINQSTREAM_PERF_P=2 \
  perf record -k CLOCK_MONOTONIC -F 999 -g -D -1 --control fifo:$d/ctl,$d/ack -o $out.data -- dotnet $build/LinqStream.Benchmarks.dll --parallelism --runs 3 --rounds 2 "=Q5HotItemsPartitioned" >> $out.log 2>&1
echo "=== end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $out.log
rm -rf $d
cut=$(grep -o 'round 2 of 2, from monotonic [0-9.]*' $out.log | awk '{print $NF}')
for r in 1 2; do
  t=$([ $r = 1 ] && echo ",$cut" || echo "$cut,")
  perf report -i $out.data --time $t --no-children --sort comm,dso --stdio 2>/dev/null | grep -v '^$' | head -40 > $out-round$r-comm-dso.txt
  perf report -i $out.data --time $t --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^$' | head -80 > $out-round$r-sym.txt
  perf report -i $out.data --time $t --no-children --sort comm,sym --stdio -g none 2>/dev/null | grep -v '^$' > /tmp/par17-comm-sym.txt
  head -80 /tmp/par17-comm-sym.txt > $out-round$r-comm-sym.txt
  python3 $(dirname $0)/tiers.py /tmp/par17-comm-sym.txt > $out-round$r-tiers.txt
done
