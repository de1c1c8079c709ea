#!/bin/bash
# Session 21's benchmark launches, one script for all of them:
#   launches.sh LOG N [--alternate] CASE...
# runs N launches of the console mode (--parallelism --runs 5, each case warmed >= 40 runs; more options in OPTS) over the given
# cases (=NAME: exactly that case), appending to LOG in this folder with a header per launch (time, load). With --alternate and
# two cases, even launches run them in the other order (a process's second case tends to run P = 1 slower: spin-ab.log).
# ROOT: the checkout whose build runs (default /work/main); OUTDIR: where LOG goes (default this folder; session 22 passed its own).
cd "${ROOT:-/work/main}"
OUT=${OUTDIR:-benchmarks/results/2026-12-06-session21}/$1
n=$2
shift 2
alternate=0
if [ "$1" = "--alternate" ]; then alternate=1; shift; fi
for i in $(seq 1 "$n"); do
  echo "=== launch $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
  cases=("$@")
  if [ $alternate = 1 ] && [ $((i % 2)) = 0 ]; then cases=("$2" "$1"); fi
  # shellcheck disable=SC2086
  dotnet artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll --parallelism --runs 5 $OPTS "${cases[@]}" 2>&1 | grep -v "^// checked" >> "$OUT"
done
echo "=== done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
