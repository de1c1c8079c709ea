#!/usr/bin/env python3
"""Median over launches of each (build, row) speed-up (wall P = 1 / P = 2) in a par18-ab.sh log."""
import re, statistics, sys
from collections import defaultdict
build = None
rows = defaultdict(list)
for line in open(sys.argv[1], encoding='utf-8'):
    m = re.match(r'=== launch \d+ (\S+)', line)
    if m:
        build = m.group(1)
        continue
    cells = [c.strip() for c in line.strip().strip('|').split('|')] if line.startswith('|') else []
    if len(cells) >= 4 and cells[3].endswith('×') and build:
        try:
            rows[(build, cells[0])].append((float(cells[1]), float(cells[2]), float(cells[3][:-1])))
        except ValueError:
            pass
for (b, name), vals in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    ratios = [v[2] for v in vals]
    print(f"{b:6} {name[:95]:95} n={len(vals)} P1 {statistics.median(v[0] for v in vals):6.1f} P2 {statistics.median(v[1] for v in vals):6.1f} "
          f"speed-up median {statistics.median(ratios):.2f}x  ({', '.join(f'{r:.2f}' for r in ratios)})")
