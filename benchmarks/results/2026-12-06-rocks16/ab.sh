#!/bin/sh
# q5 on RocksDB, main's build against this branch's, alternated: ab.sh MAIN_BIN BRANCH_BIN [ROUNDS]
# (each a release bin directory of LinqStream.Benchmarks; RUNS=N runs per script, default 4)
here=$(dirname "$0")
main=$1; branch=$2; rounds=${3:-2}
sed "s#BIN#$main#g; s#LABEL#main#g" "$here/q5.fsx.in" > /tmp/rocks16-q5-main.fsx
sed "s#BIN#$branch#g; s#LABEL#rocks16#g" "$here/q5.fsx.in" > /tmp/rocks16-q5-branch.fsx
for r in $(seq 1 "$rounds"); do
  echo "== round $r $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  dotnet fsi /tmp/rocks16-q5-main.fsx
  dotnet fsi /tmp/rocks16-q5-branch.fsx
done
