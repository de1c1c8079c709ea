#!/bin/bash
# inside .ci/servers.sh: conn11's build, NATS q5 own/record, pull requests of 4,096 (default) against 16,384
mine=/work/wt/conn11/artifacts/bin/LinqStream.Benchmarks/release
echo "== BatchSize 4096: $(uptime)"; dotnet $mine/LinqStream.Benchmarks.dll --connector-cpu --runs 3 --reader own --decoder record nats q5
echo "== BatchSize 16384: $(uptime)"; LINQSTREAM_NATS_BATCH=16384 dotnet $mine/LinqStream.Benchmarks.dll --connector-cpu --runs 3 --reader own --decoder record nats q5
echo "== end $(uptime)"
