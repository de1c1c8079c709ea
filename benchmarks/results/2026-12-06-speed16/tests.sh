#!/bin/bash
# The tests speed16 ran (after build.sh), one project at a time, --no-build; result lines appended to tests.log here.
cd "$(dirname "$0")/../../.."
here=benchmarks/results/2026-12-06-speed16
run() {
  while [ -f /work/notes/QUIET ]; do sleep 30; done
  echo "== $1 --filter \"$2\" $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $here/tests.log
  dotnet test $1 -c Release --no-build --filter "$2" 2>&1 | grep -E "Passed!|Failed!|\[FAIL\]|error" | tee -a $here/tests.log
}
case "${1:-all}" in
  core|all) run tests/LinqStream.Tests "FullyQualifiedName~LinqStream.Tests.Physical.Join|FullyQualifiedName~JoinKeyedFold|FullyQualifiedName~ExpiryJoinToKeyedFold|FullyQualifiedName~KeyedFold|FullyQualifiedName~TemporalJoin|FullyQualifiedName~ArchitectureTests" ;;&
  conf|all) run tests/LinqStream.Conformance.Tests "FullyQualifiedName~KeyedFold|DisplayName~winning|FullyQualifiedName~Join|FullyQualifiedName~Expiry" ;;&
esac
