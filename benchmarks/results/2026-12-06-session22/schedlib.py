"""Shared by sched.py and bothidle.py: the scheduler events of a perf-sched.sh record, and their split into runs."""
import os, re, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '2026-12-06-session21'))
from timeline import split_runs  # noqa: E402,F401 (sched.py takes it from here)


def sched_events(path):
    """(time, cpu, event, trace, comm, tid) of every event, in time order."""
    out = subprocess.run(['perf', 'script', '-i', path, '-F', 'comm,tid,cpu,time,event,trace'], capture_output=True, text=True).stdout
    pattern = re.compile(r'\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)')
    found = (pattern.match(line) for line in out.splitlines())
    return sorted((float(m.group(4)), int(m.group(3)), m.group(5), m.group(6), m.group(1), int(m.group(2))) for m in found if m)

