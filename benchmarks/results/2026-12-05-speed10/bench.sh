#!/bin/bash
# usage: bench.sh BUILD_DIR OUT_DIR LABEL WARMUP ITER FILTER...
build=$1; out=$2; label=$3; warm=$4; iter=$5; shift 5
mkdir -p $out/$label && cd $out/$label
{ echo "== $label $(date -u +%FT%TZ) build=$build"; uptime; } 
dotnet $build/LinqStream.Benchmarks.dll --filter "$@" --inProcessMinutes 30 --warmupCount $warm --iterationCount $iter --launchCount 1 --unrollFactor 1 --invocationCount 1 2>&1 | grep -v "^WorkloadWarmup\|^WorkloadActual\|^OverheadWarmup\|^OverheadActual\|^WorkloadPilot\|^OverheadJitting\|^WorkloadJitting\|^// AfterActualRun\|^// BeforeActualRun"
{ echo "== end $(date -u +%FT%TZ)"; uptime; }
