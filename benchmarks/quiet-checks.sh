#!/usr/bin/env bash
# The issue targets that the console modes measure (not BenchmarkDotNet), in one go, into benchmarks/results/DATE-NAME/:
#
#   benchmarks/quiet-checks.sh NAME [parallelism] [pause] [connectors] [exchange]   (no section: all four)
#
#   parallelism  #16: `--parallelism --runs 5 --barriers --threads` (every case; P = 1 against P = 2, wall and CPU per event,
#                CPU per thread name, the JIT left in the measured runs, barrier alignment of the jobs)
#   pause        #18: the checkpoint pause of a job at 1 GB of RocksDB state (1.2M keys x 300 characters, 10 checkpoints)
#   connectors   #19: client CPU per event of NEXMark q5 read from Redis and NATS (own readers, record and hand decoders)
#   exchange     #17: the cross-silo exchange microbenchmark (BenchmarkDotNet, in process)
#   table        #19's no-regression check: every BenchmarkDotNet class (Redis and NATS up), the job of the 2026-12-04 full
#                table (one warm-up, three iterations of one invocation; about 80 minutes), its table written to
#                table/RESULTS.md (`--report --replace`), then compared row by row with the repository's table
#                (`benchmarks/compare-tables.py`: rows more than 10 % slower are marked; re-measure those side by side with
#                the older build before calling one a regression — this job is not steady on every row). Not in the default set.
#
# Only meaningful on a quiet machine: each log starts with the load average, and the script refuses to start above a load
# of 3 unless FORCE=1. Builds the benchmarks once (Release) first.
set -euo pipefail
name=${1:?usage: benchmarks/quiet-checks.sh NAME [parallelism] [pause] [connectors] [exchange]}
shift
sections=("$@")
((${#sections[@]})) || sections=(parallelism pause connectors exchange)
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/benchmarks/results/$(date -u +%F)-$name"
mkdir -p "$out"
load=$(cut -d' ' -f1 /proc/loadavg)
if [[ ${FORCE:-0} != 1 ]] && awk -v l="$load" 'BEGIN { exit !(l > 3) }'; then
    echo "load average $load > 3: not a quiet machine (FORCE=1 to measure anyway)" >&2
    exit 1
fi
dotnet build "$root/benchmarks/LinqStream.Benchmarks" -c Release -v q -nologo >/dev/null
dll="$root/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll"
run() {
    local log=$1
    shift
    { echo "// load average at start: $(cat /proc/loadavg); $(date -u +%FT%TZ); $(git -C "$root" rev-parse --short HEAD)"
      "$@" 2>&1
      echo "// load average at end: $(cat /proc/loadavg)"; } | tee "$out/$log"
}
for section in "${sections[@]}"; do
    case $section in
        parallelism) run parallelism.log dotnet "$dll" --parallelism --runs 5 --barriers --threads ;;
        pause) run checkpoint-pause-1gb.log dotnet "$dll" --checkpoint-pause --job --keys 1200000 --key-bytes 300 --touches 2 --checkpoints 10 ;;
        connectors) run connector-cpu-q5.log "$root/.ci/servers.sh" dotnet "$dll" --connector-cpu --runs 5 --reader own --decoder record,hand redis nats q5 ;;
        exchange) (cd "$out" && run cross-silo-exchange.log dotnet "$dll" --filter '*CrossSiloExchangeBenchmarks*' --inProcess --warmupCount 5 --iterationCount 15 --launchCount 1 --unrollFactor 1 --invocationCount 1) ;;
        table) (cd "$out" && run full-table.log "$root/.ci/servers.sh" dotnet "$dll" --filter '*' --warmupCount 1 --iterationCount 3 --launchCount 1 --unrollFactor 1 --invocationCount 1)
               mkdir -p "$out/table"
               dotnet "$dll" --report --replace --no-chart --artifacts "$out/BenchmarkDotNet.Artifacts/results" --out "$out/table"
               python3 "$root/benchmarks/compare-tables.py" "$root/benchmarks/RESULTS.md" "$out/table/RESULTS.md" | tee "$out/table-compared.md" || true ;;
        *) echo "unknown section '$section'" >&2; exit 2 ;;
    esac
done
echo "logs in $out"
