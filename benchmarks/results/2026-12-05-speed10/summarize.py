import re,sys,statistics as st
blocks=[];cur=None
for line in open(sys.argv[1]):
    m=re.match(r'=== (\w+) (\w+) (\S+) (\S+) (\S+) (\S+)',line)
    if m:
        cur=dict(build=m[1],q=m[2],t=m[3],load=m[4],runs=[]);blocks.append(cur);continue
    m=re.match(r'run (\d+): ([\d.]+) s, .*CPU ([\d.]+) ns/event',line)
    if m and cur: cur['runs'].append((int(m[1]),float(m[2]),float(m[3])))
print("| query | build | load at start | runs | wall ns/event, median of runs 3+ (best) | CPU ns/event, median of runs 3+ (best) | CPU, median of the last 10 |")
print("|---|---|--:|--:|--:|--:|--:|")
for b in blocks:
    r=[x for x in b['runs'] if x[0]>=3]
    if not r: continue
    n=5_000_000
    wall=[x[1]*1e9/n for x in r]; cpu=[x[2] for x in r]
    print(f"| {b['q']} | {b['build']} | {b['load']} | {len(b['runs'])} | {st.median(wall):.1f} ({min(wall):.1f}) | {st.median(cpu):.1f} ({min(cpu):.1f}) | {st.median(cpu[-10:]):.1f} |")
