#!/bin/bash
# Builds what speed15 changed and tests, one project at a time (Release), logging to /tmp/speed15-build-*.log.
cd "$(dirname "$0")/../../.."
for p in tests/LinqStream.Tests tests/LinqStream.Conformance.Tests benchmarks/LinqStream.Benchmarks src/LinqStream.Cli tests/LinqStream.Recovery.Tests; do
  while [ -f /work/notes/QUIET ]; do sleep 30; done
  name=$(basename $p)
  echo "== build $p $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  dotnet build $p -c Release > /tmp/speed15-build-$name.log 2>&1
  rc=$?
  grep -E "error|Warn|Elapsed|Build succeeded" /tmp/speed15-build-$name.log | grep -v "^\s*$" | sort -u | head -20
  echo "rc=$rc $(date -u +%H:%M:%S)"
  [ $rc -eq 0 ] || exit $rc
done
