"""Top stacks (DEPTH frames) of a perf record, per thread kind.  usage: python3 top.py PERF_DATA [DEPTH] [N]"""
import collections, sys
from schedlib import stacks

depth = int(sys.argv[2]) if len(sys.argv) > 2 else 1
c = collections.Counter(); n = 0
for comm, tid, frames in stacks(sys.argv[1]):
    c[(comm[:12], ' < '.join(frames[:depth]))] += 1; n += 1
print('samples', n)
for k, v in c.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 30):
    print(v, k[0], '|', k[1])
