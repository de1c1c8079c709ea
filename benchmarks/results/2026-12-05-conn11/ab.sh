#!/bin/bash
# inside .ci/servers.sh: main's build (before) and conn11's build (after), alternating, NATS q5 own/record
base=/tmp/conn11-base/release
mine=/work/wt/conn11/artifacts/bin/LinqStream.Benchmarks/release
for i in ${PASSES:-1 2}; do
  echo "== before (main d610f31) pass $i: $(uptime)"; dotnet $base/LinqStream.Benchmarks.dll --connector-cpu --runs 3 --reader own --decoder record nats q5
  echo "== after (conn11) pass $i: $(uptime)"; dotnet $mine/LinqStream.Benchmarks.dll --connector-cpu --runs 3 --reader own --decoder record nats q5
done
echo "== end $(uptime)"
