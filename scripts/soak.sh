#!/usr/bin/env bash
# Soak test of checkpointed jobs under faults (issue #23). NOT run by CI: it takes MINUTES (default 20).
#
#   [FAULTS=6] scripts/soak.sh [MINUTES] [EVENTS]         e.g. nice -n 10 scripts/soak.sh 20 200000
#
# Starts its own redis-server (appendonly, fsync always) and nats-server (JetStream) on free ports, writes EVENTS generated bids
# into each once, and runs the window job of LinqStream.Recovery.Host (`connector` mode) from each server's input to a new output
# stream, once without faults (the reference) and then round after round, alternating Redis and NATS, while random faults hit it:
#   job-kill      kill -9 of the job, which is started again at once (it restores from its last checkpoint)
#   server-kill   Redis: kill -9 then restart on the same data; NATS: SIGTERM then restart (nats-server 2.9 may lose
#                 acknowledged writes on kill -9, see docs/connectors.md)
#   server-pause  SIGSTOP for 1-8 s, then SIGCONT
# Every round's output is read back and compared with the reference line by line. The log ends with one summary line:
#   soak: R rounds (redis A, nats B), identical I, different D, failed F; faults: J job kills, K server kills, P pauses; M min
# Exit status 0 only when every round was identical. Needs the Release build of tests/LinqStream.Recovery.Host.
set -uo pipefail

minutes=${1:-20}
events=${2:-200000}
faults=${FAULTS:-6}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# LINQSTREAM_SOAK_HOST: a copy of the host to run, so that rebuilding the repository during a long soak does not change it.
host="${LINQSTREAM_SOAK_HOST:-$root/artifacts/bin/LinqStream.Recovery.Host/release/LinqStream.Recovery.Host.dll}"
[[ -f "$host" ]] || { echo "build it first: dotnet build tests/LinqStream.Recovery.Host -c Release" >&2; exit 2; }
redis_bin="$(command -v redis-server || echo /usr/bin/redis-server)"
nats_bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
work="$(mktemp -d -t linqstream-soak.XXXXXX)"
log() { echo "$(date -u +%H:%M:%S) $*"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

redis_port=$(free_port); nats_port=$(free_port)
mkdir -p "$work/redis" "$work/nats"
start_redis() {
    "$redis_bin" --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --save '' --appendonly yes --appendfsync always \
        --daemonize no --logfile "$work/redis.log" &
    redis_pid=$!
    wait_port "$redis_port"
    # Listening is not ready: a restarted server answers LOADING while it reads its data back.
    for _ in $(seq 1 200); do [[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" == PONG ]] && return 0; sleep 0.05; done
}
start_nats() {
    "$nats_bin" -a 127.0.0.1 -p "$nats_port" -js -sd "$work/nats" -l "$work/nats.log" &
    nats_pid=$!
    wait_port "$nats_port"
}
stop_all() {
    kill -CONT "${redis_pid:-0}" "${nats_pid:-0}" 2>/dev/null
    kill -9 "${job_pid:-0}" 2>/dev/null
    kill "${redis_pid:-0}" "${nats_pid:-0}" 2>/dev/null
    wait 2>/dev/null
}
trap 'stop_all; log "work directory kept: $work"' EXIT
start_redis; start_nats
server_of() { [[ $1 == redis ]] && echo "127.0.0.1:$redis_port" || echo "nats://127.0.0.1:$nats_port"; }
run_host() { dotnet "$host" "$@"; }

for kind in redis nats; do
    run_host produce --kind "$kind" --server "$(server_of "$kind")" --stream bids --events "$events" >"$work/produce-$kind.log" 2>&1 \
        || { log "produce on $kind failed:"; cat "$work/produce-$kind.log"; exit 1; }
    run_host connector --kind "$kind" --server "$(server_of "$kind")" --input bids --output reference --checkpoints "$work/ck-reference-$kind" \
        >"$work/reference-$kind.log" 2>&1 || { log "reference run on $kind failed:"; cat "$work/reference-$kind.log"; exit 1; }
    run_host dump --kind "$kind" --server "$(server_of "$kind")" --stream reference --file "$work/reference-$kind.txt" >/dev/null
    log "reference $kind: $(tail -1 "$work/reference-$kind.log"); $(wc -l <"$work/reference-$kind.txt") lines"
done
if ! cmp -s "$work/reference-redis.txt" "$work/reference-nats.txt"; then
    log "the Redis and NATS reference runs differ"; exit 1
fi

hurt_server() { # kind action
    local kind=$1 action=$2
    if [[ $kind == redis ]]; then
        case $action in
            kill) kill -9 "$redis_pid"; wait "$redis_pid" 2>/dev/null; sleep 0.$((RANDOM % 9)); start_redis ;;
            pause) kill -STOP "$redis_pid"; sleep $((1 + RANDOM % 8)); kill -CONT "$redis_pid" ;;
        esac
    else
        case $action in
            kill) kill -TERM "$nats_pid"; wait "$nats_pid" 2>/dev/null; sleep 0.$((RANDOM % 9)); start_nats ;;
            pause) kill -STOP "$nats_pid"; sleep $((1 + RANDOM % 8)); kill -CONT "$nats_pid" ;;
        esac
    fi
}

started=$SECONDS
rounds=0; identical=0; different=0; failed=0; job_kills=0; server_kills=0; pauses=0; by_redis=0; by_nats=0
while (( SECONDS - started < minutes * 60 )); do
    rounds=$((rounds + 1))
    kind=$([[ $((rounds % 2)) == 1 ]] && echo redis || echo nats)
    [[ $kind == redis ]] && by_redis=$((by_redis + 1)) || by_nats=$((by_nats + 1))
    out="out-$rounds"; ck="$work/ck-$rounds"; jlog="$work/job-$rounds.log"
    # dotnet itself in the background (not a shell function), so that $job_pid is the job's process and kill -9 really kills it.
    start_job() { dotnet "$host" connector --kind "$kind" --server "$(server_of "$kind")" --input bids --output "$out" --checkpoints "$ck" --every 5000 >>"$jlog" 2>&1 & job_pid=$!; }
    start_job
    r_jobs=0; r_kills=0; r_pauses=0; rc=
    # Up to FAULTS faults per round, 1-5 s apart; then the job is left to finish (a restarted job needs time to make progress).
    while true; do
        sleep "$((1 + RANDOM % 4)).$((RANDOM % 10))"
        if ! kill -0 "$job_pid" 2>/dev/null; then wait "$job_pid"; rc=$?; break; fi
        (( r_jobs + r_kills + r_pauses >= faults )) && continue
        case $((RANDOM % 4)) in
            0) kill -9 "$job_pid"; wait "$job_pid" 2>/dev/null; echo "--- killed" >>"$jlog"; start_job; r_jobs=$((r_jobs + 1)) ;;
            1) hurt_server "$kind" kill; r_kills=$((r_kills + 1)) ;;
            2) hurt_server "$kind" pause; r_pauses=$((r_pauses + 1)) ;;
            3) ;;
        esac
        # Bound: a round that has not ended after 10 minutes is a hang.
        if (( SECONDS - started > minutes * 60 + 600 )); then kill -9 "$job_pid"; rc=hang; break; fi
    done
    job_kills=$((job_kills + r_jobs)); server_kills=$((server_kills + r_kills)); pauses=$((pauses + r_pauses))
    if [[ $rc != 0 ]]; then
        failed=$((failed + 1)); verdict="FAILED (exit $rc): $(grep -v '^ ' "$jlog" | tail -2 | tr '\n' ' ')"
    else
        run_host dump --kind "$kind" --server "$(server_of "$kind")" --stream "$out" --file "$work/$out.txt" >/dev/null 2>&1
        if cmp -s "$work/reference-$kind.txt" "$work/$out.txt"; then
            identical=$((identical + 1)); verdict="identical"
        else
            different=$((different + 1)); verdict="DIFFERENT ($(wc -l <"$work/$out.txt") lines against $(wc -l <"$work/reference-$kind.txt"))"
        fi
    fi
    log "round $rounds $kind: $r_jobs job kills, $r_kills server kills, $r_pauses pauses, $(grep -c '^restored\|warning' "$jlog" 2>/dev/null || true) restores/warnings -> $verdict"
done

summary="soak: $rounds rounds (redis $by_redis, nats $by_nats), identical $identical, different $different, failed $failed; faults: $job_kills job kills, $server_kills server kills, $pauses pauses; $(( (SECONDS - started) / 60 )) min"
log "$summary"
(( different == 0 && failed == 0 && rounds > 0 ))
