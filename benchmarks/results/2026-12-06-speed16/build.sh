#!/bin/bash
# Builds the projects given (default: the benchmarks), one at a time (Release), waiting while /work/notes/QUIET exists; logs to /tmp/speed16/build-*.log.
cd "$(dirname "$0")/../../.."
mkdir -p /tmp/speed16
for p in ${@:-benchmarks/LinqStream.Benchmarks}; do
  while [ -f /work/notes/QUIET ]; do sleep 30; done
  name=$(basename $p)
  echo "== build $p $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  dotnet build $p -c Release > /tmp/speed16/build-$name.log 2>&1
  rc=$?
  grep -E "error|warn|Elapsed|Build succeeded" /tmp/speed16/build-$name.log | sort -u | head -20
  echo "rc=$rc $(date -u +%H:%M:%S)"
  [ $rc -eq 0 ] || exit $rc
done
