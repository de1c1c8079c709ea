# speed8's summary (median and best CPU ns/event of each block of ab.sh's log, the first two runs left out) plus the median of
# the block's last 10 runs (past most of the runtime's tier-up, which jit9 found busy for the first tens of runs of a query).
import re, statistics, sys
rows, block = [], None
for line in open(sys.argv[1]):
    m = re.match(r'== round (\d+) (\S+) (\S+) (\S+) load (\S+)', line)
    if m:
        block = [m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), []]
        rows.append(block)
        continue
    m = re.search(r'CPU ([\d.]+) ns/event', line)
    if m and block:
        block[5].append(float(m.group(1)))
for r, q, build, at, load, cpu in rows:
    kept = cpu[2:] if len(cpu) > 3 else cpu
    if kept:
        print(f'round {r} {q:4} {build:14} {at} load {load:6} runs {len(cpu):3}  median {statistics.median(kept):6.1f}  best {min(kept):6.1f}  last-10 median {statistics.median(cpu[-10:]):6.1f}')
