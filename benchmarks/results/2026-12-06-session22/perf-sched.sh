#!/bin/bash
# Session 22: perf record of scheduler events (switches, wake-ups, migrations; every one: -c 1) around the measured runs at P (usage as par15-perf.sh: BUILD_DIR P OUT CASE...). Read with sched.py (per run: each thread's time on a core, its sleeps and runnable waits, idle per 10 ms, when each source task ended) and bothidle.py (when both cores idled, and what woke them).
PERF_EVENTS="-c 1 -e sched:sched_switch -e sched:sched_wakeup -e sched:sched_migrate_task" exec "$(dirname "$0")/../2026-12-05-par15/par15-perf.sh" "$@"
