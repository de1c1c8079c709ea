#!/bin/bash
# inside .ci/servers.sh: base binary, NATS q5 own/record, default spinning vs DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0, alternating
b=/tmp/conn11-base/release
for i in 1 2; do
  echo "== default spin $(uptime)"; dotnet $b/LinqStream.Benchmarks.dll --connector-cpu --runs 3 --reader own --decoder record nats q5
  echo "== spin limit 0 $(uptime)"; DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 dotnet $b/LinqStream.Benchmarks.dll --connector-cpu --runs 3 --reader own --decoder record nats q5
done
echo "== end $(uptime)"
