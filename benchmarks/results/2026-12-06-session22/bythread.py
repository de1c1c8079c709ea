"""The two source tasks of each run of a perf record side by side (first-made, second-made): samples per stack of DEPTH frames.  usage: python3 bythread.py PERF_DATA [DEPTH]"""
import collections, sys
from schedlib import stacks

depth = int(sys.argv[2]) if len(sys.argv) > 2 else 1
per = collections.defaultdict(collections.Counter)
for comm, tid, frames in stacks(sys.argv[1]):
    if 'sour' in comm:
        per[tid][' < '.join(frames[:depth])] += 1
tids = sorted(per)
# Each run has 2 source tasks, made one after the other: pair consecutive thread ids.
agg = [collections.Counter(), collections.Counter()]
for pair in (tids[i:i + 2] for i in range(0, len(tids), 2)):
    for k, t in enumerate(pair):
        agg[k].update(per[t])
print('first-created source vs second:', sum(agg[0].values()), sum(agg[1].values()))
for k in sorted(set(agg[0]) | set(agg[1]), key=lambda k: (-(agg[0][k] + agg[1][k]), k))[:30]:
    print(f"{agg[0][k]:4d} {agg[1][k]:4d}  {k}")
