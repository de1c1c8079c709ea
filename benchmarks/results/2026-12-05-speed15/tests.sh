#!/bin/bash
# The tests speed15 ran (after build.sh), one project at a time, --no-build; result lines to tests.log here.
cd "$(dirname "$0")/../../.."
here=benchmarks/results/2026-12-05-speed15
run() {
  while [ -f /work/notes/QUIET ]; do sleep 30; done
  echo "== $1 --filter \"$2\" $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $here/tests.log
  dotnet test $1 -c Release --no-build --filter "$2" 2>&1 | grep -E "Passed!|Failed!|\[FAIL\]|error" | tee -a $here/tests.log
}
case "${1:-all}" in
  core|all) run tests/LinqStream.Tests "FullyQualifiedName~JoinKeyedFold|FullyQualifiedName~ExpiryJoinToKeyedFold|FullyQualifiedName~CloseQueue|FullyQualifiedName~PlanCacheTests|FullyQualifiedName~Join|FullyQualifiedName~KeyTable|FullyQualifiedName~LiveEvents|FullyQualifiedName~WithOptions|FullyQualifiedName~Optimiz|FullyQualifiedName~ArchitectureTests" ;;&
  conf|all) run tests/LinqStream.Conformance.Tests "FullyQualifiedName~KeyedFold|DisplayName~winning|FullyQualifiedName~Join|FullyQualifiedName~Expiry" ;;&
  rec|all) for i in 1 2 3; do run tests/LinqStream.Recovery.Tests "FullyQualifiedName~KilledAtRandomMoments"; done ;;
esac
