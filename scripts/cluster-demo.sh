#!/usr/bin/env bash
# LinqStream on an Orleans cluster, end to end (issue #17; docs/cluster.md):
#   starts its own redis-server on a free port of 127.0.0.1 (appendfsync always) and 3 `linqstream silo` processes with Redis
#   clustering; writes EVENTS NEXMark bids into 4 Redis stream partitions; runs NEXMark q5 (scripts/q5.csx) once in one process
#   (`linqstream run ... --sink`) as the reference; submits the same script to the cluster, kills the silo that runs it with
#   SIGKILL after its second checkpoint, waits for the job to complete on another silo, and checks that the cluster's output
#   stream equals the reference entry for entry (ids 0-1, 0-2, ... and values: no loss, no duplicate). Prints the recovery time
#   (SIGKILL to the new epoch starting on another silo, from the silos' timestamped logs).
# The input is held until the kill: the killed job reads 4 streams that hold only the first half of each partition when it is
#   submitted (each source is `redis://.../bids-K?count=N`: it follows its stream and ends after N events), and the second half is
#   written only after the SIGKILL. So the job cannot end before the kill, whatever the machine's speed (it did, on warm silos).
# Usage: scripts/cluster-demo.sh [EVENTS] [PARALLELISM]   (default 400000, none). Needs redis-server and a Release build of src/LinqStream.Cli.
# With PARALLELISM (Milestone 2): the job is submitted with --parallelism PARALLELISM (4 source tasks, one per partition, and
#   PARALLELISM keyed tasks as grains over the 3 silos), first once without a kill (timed, against the single-process run:
#   events/s of both, a contended machine), then again with a silo that runs tasks but not the job's coordinator killed after the
#   second checkpoint: the job rolls back to its last checkpoint under epoch 2.
# Exit code 0 when the outputs are identical. Everything it starts is stopped when it exits; its files are under $WORK.
set -euo pipefail
EVENTS=${1:-400000}
PARALLELISM=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI="$ROOT/artifacts/bin/LinqStream.Cli/release/LinqStream.Cli.dll"
[[ -f "$CLI" ]] || { echo "cluster-demo: build the CLI first: dotnet build src/LinqStream.Cli -c Release" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "cluster-demo: redis-server is not installed (apt-get install redis-server)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/lsq-cluster-demo.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  [[ -n "${REDIS_PID:-}" ]] && kill -TERM "$REDIS_PID" 2>/dev/null || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
# One process stamps a silo's lines (a `date` per line fell minutes behind at load 40 when a silo logged warnings with stack traces:
# the recovery time, read from these stamps, came out 209 s where the submit saw the take-over after 51 s).
stamp() { perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%.6f %s", time, $_'; }

declare -A SILO_PIDS
REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save "" --appendonly yes --appendfsync always \
  --daemonize no --logfile "$WORK/redis/redis.log" &
REDIS_PID=$!
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
R="redis://127.0.0.1:$REDIS_PORT"
ID="demo$$"
echo "cluster-demo: redis-server on $R, cluster id $ID, files in $WORK"

SOURCES=()
HELD=()
SPREAD=()
EVERY=40000
[[ -n "$PARALLELISM" ]] && EVERY=$(( EVENTS / 20 ))
declare -A COUNT
for k in 0 1 2 3; do
  dotnet "$CLI" produce --target "$R/$ID:all-$k" --events "$EVENTS" --partition "$k/4" --quiet
  SOURCES+=(--source "$R/$ID:all-$k")
  COUNT[$k]=$(redis-cli -p "$REDIS_PORT" XLEN "$ID:all-$k")
  HELD+=(--source "$R/$ID:bids-$k?count=${COUNT[$k]}")
done
echo "cluster-demo: $EVENTS bids in 4 partitions $ID:all-0..3 (${COUNT[0]}, ${COUNT[1]}, ${COUNT[2]}, ${COUNT[3]})"
if [[ -n "$PARALLELISM" ]]; then
  SPREAD=(--parallelism "$PARALLELISM")
  echo "cluster-demo: the job is spread over $PARALLELISM keyed tasks (and 4 source tasks, one per partition)"
fi

# Copies a part of each partition $ID:all-K into the job's input $ID:bids-K (new ids, the same data in the same order):
# 'half' its first half, 'rest' the entries after it.
# Copies entries of each partition all-K into bids-K in chunks of 2,000 (a Lua script per chunk, from the last id copied): one script
# over a whole partition kept Redis busy for seconds at load 40, so the silos' membership and job registry could not reach it
# ("BUSY Redis is busy running a script") right after the kill, which delayed the take-over.
declare -A COPIED
copy_entries() {
  local k n want copied from last
  for k in 0 1 2 3; do
    n=${COUNT[$k]}
    if [[ "$1" == half ]]; then want=$(( n / 2 )); from="-"; else want=$(( n - n / 2 )); from="(${COPIED[$k]:--}"; fi
    [[ "$from" == "(-" ]] && from="-"
    copied=0
    while (( copied < want )); do
      local chunk=$(( want - copied < 2000 ? want - copied : 2000 ))
      last=$(redis-cli -p "$REDIS_PORT" --no-raw EVAL "local e = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2]) for i = 1, #e do redis.call('XADD', KEYS[2], '*', unpack(e[i][2])) end if #e == 0 then return '' end return e[#e][1]" \
        2 "$ID:all-$k" "$ID:bids-$k" "$from" "$chunk" | tr -d '"')
      [[ -n "$last" ]] || { echo "cluster-demo: partition $k ran out after $copied of $want entries" >&2; exit 1; }
      COPIED[$k]=$last
      from="($last"
      copied=$(( copied + chunk ))
    done
  done
}

start=$(now)
dotnet "$CLI" run "$ROOT/scripts/q5.csx" "${SOURCES[@]}" --time dateTime --max-delay 1s --sink "$R/$ID:reference" --quiet
single=$(python3 -c "print(f'{$(now)-$start:.1f}')")
echo "cluster-demo: single-process reference written to $ID:reference in $single s"

for i in 0 1 2; do
  # Process substitution, not a pipe: $! is the silo's own process id (cleanup and the kill below need it).
  dotnet "$CLI" silo --cluster "$R" --cluster-id "$ID" --port $((21111 + i)) --gateway-port $((31111 + i)) > >(stamp >"$WORK/silo-$i.log") 2>&1 &
  SILO_PIDS[$((21111 + i))]=$!
  PIDS+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 600); do grep -q "silo: up" "$WORK/silo-$i.log" && break; sleep 0.1; done
  grep -q "silo: up" "$WORK/silo-$i.log" || { echo "cluster-demo: silo $i did not start:" >&2; cat "$WORK/silo-$i.log" >&2; exit 1; }
done
echo "cluster-demo: 3 silos up (ports 21111-21113)"

same_as_reference() { # STREAM: entry for entry (ids and values) equal to the reference
  redis-cli -p "$REDIS_PORT" --raw XRANGE "$ID:reference" - + >"$WORK/reference.txt"
  redis-cli -p "$REDIS_PORT" --raw XRANGE "$ID:$1" - + >"$WORK/$1.txt"
  local n
  n=$(redis-cli -p "$REDIS_PORT" XLEN "$ID:reference")
  if cmp -s "$WORK/reference.txt" "$WORK/$1.txt" && (( n > 0 )); then
    echo "cluster-demo: identical: $n results in $ID:$1 and $ID:reference (same ids, same values)"
  else
    echo "cluster-demo: DIFFERENT: reference $n entries, $1 $(redis-cli -p "$REDIS_PORT" XLEN "$ID:$1"); see $WORK/{reference,$1}.txt" >&2
    diff "$WORK/reference.txt" "$WORK/$1.txt" | head -20 >&2
    exit 1
  fi
}

if [[ -n "$PARALLELISM" ]]; then
  # The same job without a kill, timed from submit to completion (both times include compiling the script and connecting).
  start=$(now)
  dotnet "$CLI" submit "$ROOT/scripts/q5.csx" --cluster "$R" --cluster-id "$ID" --job-id q5-clean "${SOURCES[@]}" --time dateTime --max-delay 1s \
    --sink "$R/$ID:clean" --checkpoint-every 40000 --checkpoint-interval 2s "${SPREAD[@]}" --wait >"$WORK/clean.log" 2>&1 \
    || { echo "cluster-demo: the uninterrupted spread job did not complete:" >&2; cat "$WORK/clean.log" >&2; exit 1; }
  spread=$(python3 -c "print(f'{$(now)-$start:.1f}')")
  tail -1 "$WORK/clean.log"
  same_as_reference clean
  python3 -c "print(f'cluster-demo: q5, {$EVENTS:,} bids: one process {$single} s ({$EVENTS/$single:,.0f} events/s), 3 silos with $PARALLELISM keyed tasks {$spread} s ({$EVENTS/$spread:,.0f} events/s); wall time from start to end, load average '+open('/proc/loadavg').read().split()[0])"
  # Both wall times include compiling the script (once in the process; once per silo, and the tasks' starts, for the spread job).
  # The spread job's own rate while it read, from its status lines (the coordinator's poll of the source tasks, each second):
  peak=$(grep -oE "[0-9,]+ events/s" "$WORK/clean.log" | tr -d ',' | cut -d' ' -f1 | sort -n | tail -1)
  echo "cluster-demo: the spread job's status while it ran: at most ${peak:-0} events/s (one-second rates, after its tasks started)"
fi

# The killed run reads the held input: the first half of each partition now, the second half after the kill.
copy_entries half
echo "cluster-demo: the first half of each partition written to $ID:bids-0..3; the job reads them with ?count=N (the second half comes after the kill)"
dotnet "$CLI" submit "$ROOT/scripts/q5.csx" --cluster "$R" --cluster-id "$ID" --job-id q5 "${HELD[@]}" --time dateTime --max-delay 1s \
  --sink "$R/$ID:cluster" --checkpoint-every "$EVERY" --checkpoint-interval 2s "${SPREAD[@]}" --wait > >(stamp >"$WORK/submit.log") 2>&1 &
SUBMIT=$!
PIDS+=($SUBMIT)

# Wait for the second checkpoint, then kill the silo that runs the job. The job's checkpoint index in Redis is watched every 50 ms.
# The job cannot end before the kill: its sources wait for the second half of the input, written only after the SIGKILL.
victim=""
checkpoints="linqstream:$ID:job:q5:ckpts"
newest=0
for _ in $(seq 4800); do
  newest=$(redis-cli -p "$REDIS_PORT" ZREVRANGE "$checkpoints" 0 0 2>/dev/null || true)
  if [[ "$newest" =~ ^[0-9]+$ ]] && (( newest >= 2 )); then break; fi
  if grep -qE "completed|Failed" "$WORK/submit.log"; then echo "cluster-demo: the job ended before its second checkpoint (it cannot have read its whole input):" >&2; cat "$WORK/submit.log" >&2; exit 1; fi
  sleep 0.05
done
(( newest >= 2 )) || { echo "cluster-demo: no second checkpoint of job q5 within 4 minutes:" >&2; cat "$WORK/submit.log" >&2; exit 1; }
for _ in $(seq 100); do grep -qE "on S127\.0\.0\.1:[0-9]+" "$WORK/submit.log" && break; sleep 0.05; done
silo=$(grep -oE "on S127\.0\.0\.1:[0-9]+" "$WORK/submit.log" | head -1 | grep -oE "[0-9]+$" || true)
[[ -n "$silo" ]] || { echo "cluster-demo: the submit did not say which silo runs job q5:" >&2; cat "$WORK/submit.log" >&2; exit 1; }
if [[ -n "$PARALLELISM" ]]; then
  # Spread: kill a silo that runs tasks of the job but not its coordinator (every silo runs some of the keyed tasks).
  for port in 21111 21112 21113; do [[ "$port" != "$silo" ]] && { silo=$port; break; }; done
fi
victim=${SILO_PIDS[$silo]:-}
[[ -n "$victim" ]] || { echo "cluster-demo: no silo process on port $silo" >&2; exit 1; }
killed=$(now)
kill -KILL "$victim"
echo "cluster-demo: SIGKILL to the silo on port $silo (process $victim) after checkpoint $newest"
copy_entries rest
echo "cluster-demo: the second half of each partition written after the kill"

wait "$SUBMIT" || { sleep 0.5; echo "cluster-demo: the job did not complete:" >&2; cat "$WORK/submit.log" >&2; exit 1; }
sleep 0.5   # the log's stamping process writes the last lines
if [[ -n "$PARALLELISM" ]]; then
  # The coordinator stays; its epoch 2 starts new tasks (the source task's start is logged by the silo that runs it).
  pattern="Job q5 epoch ([2-9]|[1-9][0-9]+): source(-[0-9]+)? starts"
  what="SIGKILL to the source task of the next epoch starting: the whole job rolled back"
else
  # The first later epoch: usually 2, but an epoch can be taken by an activation that is itself stopped (two supervisors racing,
  # or a grain deactivated because the dead silo held its directory registration); the next one then runs the job.
  pattern="starts with epoch ([2-9]|[1-9][0-9]+)"
  what="SIGKILL to the next epoch starting on another silo"
fi
# The silos' console logger writes behind (seconds under load): the line may come after the submit saw the job complete.
took_over=""
for _ in $(seq 200); do
  took_over=$(grep -hE "$pattern" "$WORK"/silo-*.log | sort -n | head -1 | cut -d' ' -f1 || true)
  [[ -n "$took_over" ]] && break
  sleep 0.1
done
[[ -n "$took_over" ]] || { echo "cluster-demo: no silo logged a later epoch starting (did the job end before the kill took effect?):" >&2; cat "$WORK/submit.log" >&2; exit 1; }
sed 's/^[0-9.]* //' "$WORK/submit.log"
python3 -c "print(f'cluster-demo: recovery time {$took_over-$killed:.1f} s ($what)')"

same_as_reference cluster
