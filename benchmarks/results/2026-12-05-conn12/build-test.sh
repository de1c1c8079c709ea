#!/bin/bash
# conn12: one build cycle (sequential, one project at a time), then the tests this branch touches.
cd /work/wt/conn12
wait_quiet() { while [ -f /work/notes/QUIET ]; do sleep 30; done; }
log=benchmarks/results/2026-12-05-conn12
set -o pipefail
for p in benchmarks/LinqStream.Benchmarks tests/LinqStream.Tests tests/LinqStream.Connectors.Tests tests/LinqStream.Recovery.Tests; do
  wait_quiet
  echo "== build $p $(date -u +%T) $(uptime)"
  dotnet build $p -c Release 2>&1 | grep -E "error|Warn|warn|Elapsed|Build succeeded" | tail -30 || exit 1
done
echo "== builds done $(date -u +%T) $(uptime)"
