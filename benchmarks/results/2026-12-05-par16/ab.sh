#!/bin/bash
# usage: ab.sh BASE_DIR NEW_DIR OUT ROUNDS
# Alternates main's build (BASE_DIR) and this branch's (NEW_DIR): each launch runs q5 over 2 partitions with the partitions apart in
# memory and interleaved (main: the default case is interleaved and "each partition's events apart in memory" is apart; par16: the
# default case is apart and "partitions interleaved in one array (...)" is interleaved). Logs the load before each launch.
base=$1; new=$2; out=$3; rounds=${4:-2}
for r in $(seq 1 $rounds); do
  for which in base new; do
    dir=$base; [ $which = new ] && dir=$new
    echo "=== round $r $which $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $out
    dotnet $dir/LinqStream.Benchmarks.dll --parallelism --runs 5 --threads \
      "=Q5HotItemsPartitioned" "=Q5HotItemsPartitioned, each partition's events apart in memory" \
      "=Q5HotItemsPartitioned, partitions interleaved in one array (diagnostic: each source task reads every other object)" >> $out 2>&1
  done
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $out
