#!/bin/bash
# inside .ci/servers.sh: conn12's build, NATS and Redis q5 own/record, default spinning vs DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0, alternating
mine=/work/wt/conn12/artifacts/bin/LinqStream.Benchmarks/release
for i in ${PASSES:-1}; do
  echo "== default spin $(date -u +%T) $(uptime)"; dotnet $mine/LinqStream.Benchmarks.dll --connector-cpu --runs ${RUNS:-5} --reader own --decoder record ${CONNECTORS:-redis nats} q5
  echo "== spin limit 0 $(date -u +%T) $(uptime)"; DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 dotnet $mine/LinqStream.Benchmarks.dll --connector-cpu --runs ${RUNS:-5} --reader own --decoder record ${CONNECTORS:-redis nats} q5
done
echo "== end $(date -u +%T) $(uptime)"
