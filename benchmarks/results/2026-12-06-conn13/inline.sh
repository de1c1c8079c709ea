#!/bin/bash
# Run inside .ci/servers.sh: where main's pool work items come from. The same build (main's) with the runtime's socket events
# handled on its epoll thread (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1: no pool work item per socket event) and without:
# the difference is the work items the sockets' events cost. NATS q5, own reader, record decoder.
base=${BASE:-/tmp/conn13-main/release}
for i in ${PASSES:-1}; do
  echo "== main, default $(date -u +%T) $(uptime)"; dotnet $base/LinqStream.Benchmarks.dll --connector-cpu --runs ${RUNS:-3} --reader own --decoder record ${CONNECTORS:-nats} q5
  echo "== main, inline socket completions $(date -u +%T) $(uptime)"; DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 dotnet $base/LinqStream.Benchmarks.dll --connector-cpu --runs ${RUNS:-3} --reader own --decoder record ${CONNECTORS:-nats} q5
done
echo "== end $(date -u +%T) $(uptime)"
