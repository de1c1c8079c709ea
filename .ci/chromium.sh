#!/usr/bin/env bash
# Installs Debian's chromium when it is missing, for the dashboard's browser test (tests/LinqStream.Operations.Tests,
# DashboardBrowserTests: headless Chromium over the DevTools protocol). Idempotent and quiet; sourced by .ci/run.
#
#   source .ci/chromium.sh      installs if needed and exports LINQSTREAM_CHROMIUM
#   .ci/chromium.sh             the same, as a command

linqstream_chromium_install() {
    local binary
    for binary in "${LINQSTREAM_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
        if [[ -n "$binary" && -x "$binary" ]]; then
            export LINQSTREAM_CHROMIUM="$binary"
            return 0
        fi
    done

    echo "== installing chromium with apt-get (for the dashboard's browser test)"
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "== cannot install chromium: not root and no sudo; the browser test will fail and say so" >&2
            return 1
        fi
        sudo=(sudo -n)
    fi
    "${sudo[@]}" apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null || return 1
    export LINQSTREAM_CHROMIUM=/usr/bin/chromium
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    linqstream_chromium_install || echo "== chromium not installed; the dashboard's browser test will fail" >&2
else
    set -euo pipefail
    linqstream_chromium_install
    echo "== chromium: $LINQSTREAM_CHROMIUM"
fi
