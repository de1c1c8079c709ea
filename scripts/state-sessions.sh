#!/usr/bin/env bash
# Issue #18's Done-when, any size: a session window over KEYS distinct keys (all open until the input ends) under a 2 GB managed
# heap, on the heap backend and on RocksDB. Not run by CI (20M keys on RocksDB take far longer than a test may; see docs/state.md).
#   scripts/state-sessions.sh [KEYS] [STATE_DIR]      (defaults: 20000000, a temporary directory)
set -euo pipefail
KEYS=${1:-20000000}
STATE=${2:-$(mktemp -d)}
cd "$(dirname "$0")/.."
dotnet build tests/LinqStream.Recovery.Host -c Release >/dev/null
HOST=artifacts/bin/LinqStream.Recovery.Host/release/LinqStream.Recovery.Host.dll
uptime
for state in heap "rocksdb:$STATE"; do
  echo "== $state"
  set +e
  DOTNET_GCHeapHardLimit=0x80000000 /usr/bin/time -f "exit %x, %e s wall, %U s user, max RSS %M KB" dotnet "$HOST" sessions --keys "$KEYS" --state "$state"
  set -e
done
