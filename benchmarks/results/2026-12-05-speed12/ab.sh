#!/bin/bash
# usage: ab.sh SECONDS ROUNDS "Q..." BUILD_A BUILD_B ... : alternates builds query by query (--profile loop), prints a header per block
# summary of a log (ab.sh's and ab2.sh's): ../2026-12-05-speed8/summarize.py LOG
secs=$1; rounds=$2; queries=$3; shift 3
for r in $(seq 1 $rounds); do
 for q in $queries; do
  for b in "$@"; do
   echo "== round $r $q $b $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
   dotnet /tmp/speed12/$b/LinqStream.Benchmarks.dll --profile $q --seconds $secs 2>&1 | grep '^run'
  done
 done
done
