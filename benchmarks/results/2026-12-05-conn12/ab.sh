#!/bin/bash
# inside .ci/servers.sh: main's build (before, 45c04e8 copied to /tmp/conn12-base) and conn12's build (after), alternating,
# Redis and NATS q5, own reader, record decoder.
base=/tmp/conn12-base/release
mine=/work/wt/conn12/artifacts/bin/LinqStream.Benchmarks/release
for i in ${PASSES:-1 2}; do
  echo "== before (main 45c04e8) pass $i: $(date -u +%T) $(uptime)"; dotnet $base/LinqStream.Benchmarks.dll --connector-cpu --runs ${RUNS:-5} --reader own --decoder record ${CONNECTORS:-redis nats} q5
  echo "== after (conn12) pass $i: $(date -u +%T) $(uptime)"; dotnet $mine/LinqStream.Benchmarks.dll --connector-cpu --runs ${RUNS:-5} --reader own --decoder record ${CONNECTORS:-redis nats} q5
done
echo "== end $(date -u +%T) $(uptime)"
