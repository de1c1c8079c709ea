"""Per run of a perf record (samples with comm, tid, time): how busy two cores were, in B ms buckets.
usage: python3 timeline.py PERF_DATA [BUCKET_MS]   (runs are split at gaps of more than 20 ms between samples)"""
import collections, re, subprocess, sys


def load_runs(path):
    """The samples (time, comm, tid) of each run, in time order."""
    out = subprocess.run(['perf', 'script', '-i', path, '-F', 'comm,tid,time'], capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r'\s*(.+?)\s+(\d+)\s+([\d.]+):', line)
        if m:
            rows.append((float(m.group(3)), m.group(1).strip(), int(m.group(2))))
    rows.sort()
    return split_runs(rows)


def split_runs(rows, gap=0.02):
    """Rows (time first, in time order) split into runs at gaps of more than `gap` seconds (also session 22's schedlib.py)."""
    runs, cur = [], [rows[0]]
    for r in rows[1:]:
        if r[0] - cur[-1][0] > gap:
            runs.append(cur)
            cur = [r]
        else:
            cur.append(r)
    runs.append(cur)
    return runs


if __name__ == '__main__':
    bucket = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    for run in load_runs(sys.argv[1]):
        t0, t1 = run[0][0], run[-1][0]
        kinds = collections.Counter(c[:6] for _, c, _ in run)
        b = collections.defaultdict(collections.Counter)
        for t, c, tid in run:
            b[int((t - t0) * 1000 / bucket)][c[:6]] += 1
        first_src = min(t for t, c, _ in run if c.startswith('LinqSt'))
        last_src = max(t for t, c, _ in run if 'sour' in c)
        util = [sum(b[k].values()) / (2 * bucket) for k in sorted(b)]
        print(f"run {1000*(t1-t0):6.1f} ms  samples {dict(kinds)}  main-alone {1000*(first_src-t0):5.1f} ms  "
              f"after-last-source {1000*(t1-last_src):5.1f} ms  util {' '.join(f'{u:.0%}' for u in util)}")
