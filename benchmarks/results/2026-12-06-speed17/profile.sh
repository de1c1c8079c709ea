#!/usr/bin/env bash
# Allocated bytes per event and collections per run of q4 and q9, for each build given (speed17, session 17).
# usage: profile.sh SECONDS NAME=DIR [NAME=DIR ...]
#   DIR: a copy of artifacts/bin/LinqStream.Benchmarks/release (main's build copied to /tmp/speed17-main after GO).
# Each (build, query) runs `--profile Q --alloc --seconds SECONDS` in its own process: every run's line has its B/event and
# its gen-0/1/2 collections; the first run of a process grows the tables from nothing, the later ones show what a run
# allocates when the process already ran the query (deterministic: fine under load).
set -euo pipefail
seconds=$1; shift
for q in Q4 Q9; do
  for build in "$@"; do
    name=${build%%=*}; dir=${build#*=}
    echo "=== $name $q  $(date -u +%H:%M:%S)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet "$dir/LinqStream.Benchmarks.dll" --profile "$q" --alloc --seconds "$seconds"
  done
done
