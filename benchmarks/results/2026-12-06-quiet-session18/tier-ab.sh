#!/bin/bash
# #16 diagnosis: q5 at P = 1 and P = 2 under three runtime configurations, alternating launches.
# usage: tier-ab.sh BIN OUT [LAUNCHES]
BIN=$1; OUT=$2; N=${3:-5}
for i in $(seq 1 "$N"); do
  for cfg in default pgo0 tc0; do
    case $cfg in
      default) envs=() ;;
      pgo0) envs=(DOTNET_TieredPGO=0) ;;
      tc0) envs=(DOTNET_TieredCompilation=0) ;;
    esac
    echo "=== launch $i $cfg $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
    env "${envs[@]}" dotnet "$BIN/LinqStream.Benchmarks.dll" --parallelism --runs 3 --rounds 2 "=Q5HotItemsPartitioned" >> "$OUT" 2>&1
  done
done
echo "=== done $(date -u +%H:%M:%S)" >> "$OUT"
