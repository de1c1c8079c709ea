"""Shared by this folder's scripts: the scheduler events of a perf-sched.sh record and their split into runs (sched.py, bothidle.py), and the stacks of a CPU-sample record (top.py, bythread.py)."""
import os, re, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '2026-12-06-session21'))
from timeline import split_runs  # noqa: E402,F401 (sched.py takes it from here)


def sched_events(path):
    """(time, cpu, event, trace, comm, tid) of every event, in time order."""
    out = subprocess.run(['perf', 'script', '-i', path, '-F', 'comm,tid,cpu,time,event,trace'], capture_output=True, text=True).stdout
    pattern = re.compile(r'\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)')
    found = (pattern.match(line) for line in out.splitlines())
    return sorted((float(m.group(4)), int(m.group(3)), m.group(5), m.group(6), m.group(1), int(m.group(2))) for m in found if m)



_SWITCH = re.compile(r'prev_comm=(.+?) prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=(.+?) next_pid=(\d+)')


def switch(trace):
    """A sched_switch's (prev_comm, prev_pid, prev_state, next_comm, next_pid)."""
    m = _SWITCH.search(trace)
    return m.group(1), int(m.group(2)), m.group(3), m.group(4), int(m.group(5))


def stacks(path):
    """(comm, tid, frames) of every CPU sample of a perf record with stacks (par15-perf.sh): frames leaf first, each a short method name."""
    out = subprocess.run(['perf', 'script', '-i', path, '-F', 'comm,tid,time,ip,sym'], capture_output=True, text=True).stdout
    for sample in out.split('\n\n'):
        lines = [line for line in sample.strip().split('\n') if line.strip()]
        m = re.match(r'\s*(.+?)\s+(\d+)\s+([\d.]+):', lines[0]) if lines else None
        if not m:
            continue
        frames = []
        for f in lines[1:]:
            f = re.sub(r'/\* MT: 0x[0-9a-f]+ \*/', '', f)
            mm = re.search(r'^\s*[0-9a-f]+\s+(.*)$', f.strip())
            if not mm:
                continue
            n = re.sub(r'\s*\([^)]*\)\s*$', '', mm.group(1))
            n = re.sub(r'`\d+\[[^\]]*(\[[^\]]*\][^\]]*)*\]', '', n)
            n = re.sub(r'\(.*', '', n)
            frames.append((n.split('::')[-1] if '::' in n else n.split(' ')[-1])[:40])
        yield m.group(1), int(m.group(2)), frames
