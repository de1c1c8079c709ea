#!/bin/bash
# speed8's A/B loop (../2026-12-05-speed8/ab.sh) with main's build in /tmp/speed11-main (main's build of 496d220, the engine of
# 1a98de4) instead of /tmp/speed8-before: --profile runs of LinqStream's version only, alternated, process CPU per event per run;
# waits while /work/notes/QUIET exists. Usage: ab.sh AFTER_DIR SECONDS ROUNDS QUERY...; summary: ../2026-12-05-speed8/summarize.py LOG
here=$(dirname "$0")
sed 's#/tmp/speed8-before#/tmp/speed11-main#' "$here/../2026-12-05-speed8/ab.sh" | bash -s -- "$@"
