#!/usr/bin/env python3
"""Summarizes an ab.sh log: per block (round, query, build) the median and best CPU ns/event of its runs after the first
`skip` (default 2: the first runs of a process carry its JIT tiering), and per (query, build) the median of the block medians."""
import re, statistics, sys
from collections import defaultdict

skip = int(sys.argv[2]) if len(sys.argv) > 2 else 2
blocks, order = [], []
for line in open(sys.argv[1]):
    m = re.match(r'== round (\d+) (\S+) (\S+) \S+ load (\S+)', line)
    if m:
        blocks.append({'round': int(m[1]), 'q': m[2], 'build': m[3], 'load': m[4], 'cpu': []})
        continue
    m = re.search(r'CPU ([\d.]+) ns/event', line)
    if m and blocks:
        blocks[-1]['cpu'].append(float(m[1]))
per = defaultdict(list)
for b in blocks:
    runs = b['cpu'][skip:] or b['cpu']
    if not runs:
        continue
    med = statistics.median(runs)
    per[(b['q'], b['build'])].append(med)
    print(f"round {b['round']} {b['q']:4} {b['build']:16} load {b['load']:>6}  median {med:7.1f}  best {min(runs):7.1f}  ({len(runs)} runs)")
print()
for (q, build), meds in sorted(per.items()):
    print(f"{q:4} {build:16} median of block medians {statistics.median(meds):7.1f}  ({len(meds)} blocks: {', '.join(f'{x:.1f}' for x in meds)})")
