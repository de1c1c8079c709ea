#!/usr/bin/env python3
"""Per (build, query) block of profile.sh's log: run 1 and the median of the later runs' B/event, and their collections."""
import re, statistics, sys

block = None
rows = {}
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"=== (\S+) (\S+)", line)
    if m:
        block = (m.group(1), m.group(2))
        rows[block] = []
        continue
    m = re.match(r"run (\d+): .*CPU ([\d.]+) ns/event, ([\d.]+) B/event, .*GC (\d+)/(\d+)/(\d+) \(gen 0/1/2\), paused (\d+) ms", line)
    if m and block:
        rows[block].append(tuple(float(x) for x in m.groups()))
print("build query | run 1 B/event, GC 0/1/2 | later runs: n, median B/event (min-max), GC 0/1/2 total, runs with a gen-2, median CPU ns/event")
for (build, q), runs in rows.items():
    if not runs:
        continue
    first, later = runs[0], runs[1:]
    text = f"{build} {q} | {first[2]:.1f}, {int(first[3])}/{int(first[4])}/{int(first[5])} |"
    if later:
        b = [r[2] for r in later]
        g = [sum(int(r[i]) for r in later) for i in (3, 4, 5)]
        text += f" {len(later)}, {statistics.median(b):.2f} ({min(b):.2f}-{max(b):.2f}), {g[0]}/{g[1]}/{g[2]}, {sum(1 for r in later if r[5] > 0)}, {statistics.median(r[1] for r in later):.1f}"
    print(text)
