#!/usr/bin/env python3
# usage: tiers.py REPORT.txt  (perf report --sort comm,sym -g none --stdio): sample share per thread name and per code tier
# (the perf map's [Tier0], [Tier1], [OSR], [Instrumented...] tags, DOTNET_PerfMapShowOptimizationTiers=1), kernel and native.
import re, sys, collections
by = collections.Counter(); comms = collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r'\s*([\d.]+)%\s+(.*?)\s+\[([k.])\]\s+(.*)$', line)
    if not m: continue
    pct, comm, kind, sym = float(m.group(1)), m.group(2).strip(), m.group(3), m.group(4)
    t = re.findall(r'\[([A-Za-z0-9-]+)\]\s*$', sym)
    tier = 'kernel' if kind == 'k' else (t[0] if t else 'native/other')
    by[(comm, tier)] += pct; comms[comm] += pct
for comm, total in comms.most_common():
    parts = ', '.join(f'{tier} {p:.1f}' for (c, tier), p in sorted(by.items(), key=lambda kv: -kv[1]) if c == comm)
    print(f'{comm:16s} {total:5.1f}%  {parts}')
