#!/usr/bin/env bash
# Starts redis-server and nats-server (JetStream) on 127.0.0.1, on free ports, with their data in a temporary directory,
# for the connector tests (tests/LinqStream.Connectors.Tests) and benchmarks.
#
#   source .ci/servers.sh          starts both, exports LINQSTREAM_REDIS / LINQSTREAM_NATS, stops them when the shell exits
#   .ci/servers.sh COMMAND ARGS    runs COMMAND with both servers up and the variables set, then stops them
#
# Installs Debian's redis-server and nats-server with apt-get when they are missing (as root, or through sudo).
# LINQSTREAM_REDIS=127.0.0.1:PORT and LINQSTREAM_NATS=nats://127.0.0.1:PORT; a test run without them starts its own servers.

linqstream_servers_install() {
    local missing=()
    command -v redis-server >/dev/null 2>&1 || [[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
    command -v nats-server >/dev/null 2>&1 || [[ -x /usr/sbin/nats-server ]] || missing+=(nats-server)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    echo "== installing ${missing[*]} with apt-get"
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "== cannot install ${missing[*]}: not root and no sudo; install them, or tests start nothing" >&2
            return 1
        fi
        sudo=(sudo -n)
    fi
    "${sudo[@]}" apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

linqstream_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

linqstream_wait_port() {
    local port=$1 name=$2
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "== $name did not listen on 127.0.0.1:$port within 10 s" >&2
    return 1
}

linqstream_servers_stop() {
    local pid
    for pid in "${LINQSTREAM_REDIS_PID:-}" "${LINQSTREAM_NATS_PID:-}"; do
        if [[ -n "$pid" ]]; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ -n "${LINQSTREAM_SERVERS_DIR:-}" ]]; then
        rm -rf "$LINQSTREAM_SERVERS_DIR"
    fi
    unset LINQSTREAM_REDIS_PID LINQSTREAM_NATS_PID LINQSTREAM_SERVERS_DIR LINQSTREAM_REDIS LINQSTREAM_NATS
}

linqstream_servers_start() {
    linqstream_servers_install || return 1
    local redis_bin nats_bin
    redis_bin="$(command -v redis-server || echo /usr/bin/redis-server)"
    nats_bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
    LINQSTREAM_SERVERS_DIR="$(mktemp -d -t linqstream-servers.XXXXXX)"
    mkdir -p "$LINQSTREAM_SERVERS_DIR/redis" "$LINQSTREAM_SERVERS_DIR/nats"

    local redis_port nats_port
    redis_port="$(linqstream_free_port)"
    "$redis_bin" --port "$redis_port" --bind 127.0.0.1 --dir "$LINQSTREAM_SERVERS_DIR/redis" --save '' --appendonly no \
        --daemonize no --logfile "$LINQSTREAM_SERVERS_DIR/redis.log" &
    LINQSTREAM_REDIS_PID=$!
    nats_port="$(linqstream_free_port)"
    "$nats_bin" -a 127.0.0.1 -p "$nats_port" -js -sd "$LINQSTREAM_SERVERS_DIR/nats" -l "$LINQSTREAM_SERVERS_DIR/nats.log" &
    LINQSTREAM_NATS_PID=$!
    export LINQSTREAM_REDIS_PID LINQSTREAM_NATS_PID LINQSTREAM_SERVERS_DIR

    linqstream_wait_port "$redis_port" redis-server || { linqstream_servers_stop; return 1; }
    linqstream_wait_port "$nats_port" nats-server || { linqstream_servers_stop; return 1; }
    export LINQSTREAM_REDIS="127.0.0.1:$redis_port"
    export LINQSTREAM_NATS="nats://127.0.0.1:$nats_port"
    echo "== servers: LINQSTREAM_REDIS=$LINQSTREAM_REDIS LINQSTREAM_NATS=$LINQSTREAM_NATS (data in $LINQSTREAM_SERVERS_DIR)"
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: start now, stop when the sourcing shell exits.
    if linqstream_servers_start; then
        trap linqstream_servers_stop EXIT
    else
        echo "== connector servers not started; the connector tests will try to start their own" >&2
    fi
else
    set -euo pipefail
    if (($# == 0)); then
        echo "usage: source .ci/servers.sh | .ci/servers.sh COMMAND [ARGS...]" >&2
        exit 2
    fi
    linqstream_servers_start
    trap linqstream_servers_stop EXIT
    set +e
    "$@"
    status=$?
    exit "$status"
fi
