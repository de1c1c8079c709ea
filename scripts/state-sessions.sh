#!/usr/bin/env bash
# Issue #18's Done-when, any size: a session window over KEYS distinct keys (all open until the input ends) under a 2 GB managed
# heap, on the heap backend and on RocksDB. Not run by CI (20M keys on RocksDB take far longer than a test may; see docs/state.md,
# "The 20M-key run"). Run it on a quiet machine; it prints the load average before and after each backend.
#   scripts/state-sessions.sh [KEYS] [STATE_DIR]      (defaults: 20000000, a temporary directory)
# Environment: MEMORY_EVERY=SECONDS (default 60) prints where the RocksDB run's memory is every SECONDS (MemoryProbe: resident,
# managed heap, malloc, RocksDB's own accounting) and after the job is disposed; BACKENDS="heap rocksdb" (default: both);
# LOG=FILE also appends everything to FILE.
set -euo pipefail
KEYS=${1:-20000000}
STATE=${2:-$(mktemp -d)}
MEMORY_EVERY=${MEMORY_EVERY:-60}
BACKENDS=${BACKENDS:-heap rocksdb}
LOG=${LOG:-/dev/null}
cd "$(dirname "$0")/.."
dotnet build tests/LinqStream.Recovery.Host -c Release >/dev/null
HOST=artifacts/bin/LinqStream.Recovery.Host/release/LinqStream.Recovery.Host.dll
{
  echo "== $(date -u +%FT%TZ) $KEYS keys, commit $(git rev-parse --short HEAD)"
  for backend in $BACKENDS; do
    if [ "$backend" = heap ]; then state=heap; probe=(); else state="rocksdb:$STATE"; probe=(--memory-every "$MEMORY_EVERY"); fi
    echo "== $state   $(uptime)"
    set +e
    DOTNET_GCHeapHardLimit=0x80000000 /usr/bin/time -f "exit %x, %e s wall, %U s user, %S s system, max RSS %M KB" \
      dotnet "$HOST" sessions --keys "$KEYS" --state "$state" "${probe[@]}"
    set -e
    echo "== after $state   $(uptime)"
  done
} 2>&1 | tee -a "$LOG"
