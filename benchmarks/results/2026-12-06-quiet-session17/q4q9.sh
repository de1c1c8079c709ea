#!/bin/bash
# Quiet q4/q9 against their hand loops, BenchmarkDotNet in process, three separate runs (one run of q4 cannot be trusted: its
# gen-2 collections dominate, session 16). usage: q4q9.sh BIN_DIR NAME [RUNS]
BIN=$1; NAME=$2; RUNS=${3:-3}
D=$(cd "$(dirname "$0")" && pwd)
for i in $(seq 1 "$RUNS"); do
  dir=/tmp/q17/$NAME-$i; mkdir -p "$dir"
  (cd "$dir" && echo "=== $NAME run $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" && \
    dotnet "$BIN/LinqStream.Benchmarks.dll" --filter '*Q4*LinqStreamQuery' '*Q4*HandWrittenLoop' '*Q9*LinqStreamQuery' '*Q9*HandWrittenLoop' \
      --inProcess --inProcessMinutes 20 --warmupCount 15 --iterationCount 10 --launchCount 1 --unrollFactor 1 --invocationCount 1 \
      --memory --artifacts "$dir" --exporters csv; echo "=== end $(date -u +%H:%M:%S)") > "$D/q4q9-$NAME-$i.log" 2>&1
  grep -E '^\| ' "$D/q4q9-$NAME-$i.log"
done
