import re,sys,statistics
for f in sys.argv[1:]:
    runs={}; jits={}
    for line in open(f):
        m=re.match(r'run (\d+): ([\d.]+) s, ([\d.]+) M events/s, CPU ([\d.]+) ns/event',line)
        if m: runs[int(m[1])]=(float(m[2]),float(m[3]),float(m[4]))
        m=re.match(r'\s+jit in run (\d+): (\d+) methods, ([\d.]+) ms; kernel cache (\d+) hits, (\d+) misses',line)
        if m: jits[int(m[1])]=(int(m[2]),float(m[3]),int(m[4]),int(m[5]))
    n=max(runs) if runs else 0
    if n < 2: continue
    print(f"== {f}: {n} runs")
    pick=[r for r in (1,2,3,5,10,20,30,40,60,80) if r in jits]
    print("  run: methods/ms/CPU ns/event: "+"; ".join(f"{r}: {jits[r][0]}/{jits[r][1]:.0f}/{runs[r][2]:.1f}" for r in pick))
    last=[r for r in jits if jits[r][0]>=10]
    print(f"  last run with >=10 methods: {max(last) if last else '-'}; methods in runs 2..{n}: {sum(jits[r][0] for r in jits if r>1)}, {sum(jits[r][1] for r in jits if r>1):.0f} ms; kernel misses after run 1: {sum(jits[r][3] for r in jits if r>1)}")
    def med(rs): 
        v=[runs[r][2] for r in rs if r in runs]; return statistics.median(v) if v else float('nan')
    print(f"  CPU ns/event median: runs 2-20 {med(range(2,21)):.1f}, runs 21-60 {med(range(21,61)):.1f}, last 20 runs {med(range(n-19,n+1)):.1f}; wall M ev/s median last 20 {statistics.median([runs[r][1] for r in range(max(1,n-19),n+1)]):.1f}")
    zero=[runs[r][2] for r in jits if jits[r][0]==0 and r>1]; some=[runs[r][2] for r in jits if jits[r][0]>=20 and r>1]
    if zero and some: print(f"  CPU median of runs with 0 methods {statistics.median(zero):.1f} ({len(zero)}), with >=20 methods {statistics.median(some):.1f} ({len(some)})")
