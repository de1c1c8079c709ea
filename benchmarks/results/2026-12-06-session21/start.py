"""Per run of a perf record: which thread had a sample in each of the first 40 ms (one character per ms).
usage: python3 start.py PERF_DATA"""
import sys
from timeline import load_runs

for run in load_runs(sys.argv[1]):
    t0 = run[0][0]
    tids = []
    for _, c, tid in run:
        if (c, tid) not in tids:
            tids.append((c, tid))
    line = {k: ['.'] * 40 for k in tids}
    for t, c, tid in run:
        ms = int((t - t0) * 1000)
        if ms < 40:
            line[(c, tid)][ms] = '#'
    for k in tids:
        print(f"{k[0][:15]:15s} {k[1]} {''.join(line[k])}")
    print()
