#!/bin/bash
# usage: q5perf2.sh TAG EVENTS; --cluster-q5 local + spread at linger 0 and 20, 2 rounds; perf of round 2's two spread jobs
TAG=$1; EVENTS=$2; shift 2
OUT=/work/wt/orleans8/benchmarks/results/2026-12-05-orleans8
LOG=$OUT/cluster-q5-$TAG.log
cd /work/wt/orleans8
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
uptime > $LOG
dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --cluster-q5 --events $EVENTS --runs 2 --modes local,spread --lingers 0,20 "$@" >> $LOG 2>&1 &
PID=$!
echo "pid $PID"
for L in 0 20; do
  while kill -0 $PID 2>/dev/null; do
    if grep -q "submitting spread over 3 silos, P = 6, frame linger $L ms, round 2" $LOG; then
      sleep 1.5
      perf record -F 999 -g -p $PID -o /tmp/o8/perf-$TAG-$L.data -- sleep 5 > /tmp/o8/perf-$TAG-$L.rec.log 2>&1
      break
    fi
    sleep 0.2
  done
done
wait $PID
echo "exit $?" >> $LOG
uptime >> $LOG
