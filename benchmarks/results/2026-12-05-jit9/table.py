import re,sys,statistics
# Markdown rows from --profile ... --jit logs: JIT methods/ms in runs 1, 2, 5, 10, 20, the last run that compiled >= 10 methods,
# the total after run 1, and the median CPU ns/event of runs 2-20 and of the last 20 runs.
for f in sys.argv[1:]:
    runs={}; jits={}
    for line in open(f):
        m=re.match(r'run (\d+): ([\d.]+) s, ([\d.]+) M events/s, CPU ([\d.]+) ns/event',line)
        if m: runs[int(m[1])]=float(m[4])
        m=re.match(r'\s+jit in run (\d+): (\d+) methods, ([\d.]+) ms',line)
        if m: jits[int(m[1])]=(int(m[2]),float(m[3]))
    n=max(runs); last=max([r for r in jits if jits[r][0]>=10] or [1])
    cells=" | ".join(f"{jits[r][0]} / {jits[r][1]:.0f}" if r in jits else "–" for r in (1,2,5,10,20))
    after=(sum(jits[r][0] for r in jits if r>1), sum(jits[r][1] for r in jits if r>1))
    med=lambda rs: statistics.median([runs[r] for r in rs if r in runs])
    print(f"| `{f}` | {n} | {cells} | {last} | {after[0]} / {after[1]:.0f} | {med(range(2,21)):.1f} | {med(range(n-19,n+1)):.1f} |")
