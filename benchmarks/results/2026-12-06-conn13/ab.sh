#!/bin/bash
# Run inside .ci/servers.sh: main's build (before; copied to /tmp/conn13-main/release before this branch was built) and conn13's
# build (after), alternating, q5, own readers, record decoder. PASSES, RUNS, CONNECTORS, BASE and MINE may be set.
base=${BASE:-/tmp/conn13-main/release}
mine=${MINE:-/work/wt/conn13/artifacts/bin/LinqStream.Benchmarks/release}
for i in ${PASSES:-1 2}; do
  echo "== before (main) pass $i: $(date -u +%T) $(uptime)"; dotnet $base/LinqStream.Benchmarks.dll --connector-cpu --runs ${RUNS:-5} --reader own --decoder record ${CONNECTORS:-redis nats} q5
  echo "== after (conn13) pass $i: $(date -u +%T) $(uptime)"; dotnet $mine/LinqStream.Benchmarks.dll --connector-cpu --runs ${RUNS:-5} --reader own --decoder record ${CONNECTORS:-redis nats} q5
done
echo "== end $(date -u +%T) $(uptime)"
