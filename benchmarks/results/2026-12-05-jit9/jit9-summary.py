import re,sys,collections
lines=open(sys.argv[1]).read().splitlines()
pending=[]; seen=set(); out=[]
def cat(name):
    ns=name.split(':')[0]
    if ns.startswith('LinqStream.Benchmarks'): return 'console'
    if ns.startswith('LinqStream.'): return 'LinqStream'
    if 'Linq.Expressions' in ns or 'Dynamic.Utils' in ns: return 'S.L.Expressions'
    if ns.startswith('dynamicClass') or 'IL_STUB' in name: return 'dynamic'
    return 'other BCL'
for l in lines:
    m=re.match(r'\s*\d+: JIT compiled (.+) \[([^,\]]+)(?:,.*)?\]$',l)
    if m: pending.append((m[1],m[2])); continue
    m=re.match(r'run (\d+):.*CPU ([\d.]+) ns/event',l)
    if m:
        r=int(m[1]); cats=collections.Counter(cat(n) for n,t in pending); tiers=collections.Counter(t for n,t in pending)
        new=[n for n,t in pending if n not in seen]
        for n,t in pending: seen.add(n)
        out.append((r,len(pending),len(new),dict(cats),dict(tiers),float(m[2]),[n for n in new][:6], [n for n,t in pending if cat(n)=='LinqStream'][:8]))
        pending=[]
for r,total,new,cats,tiers,cpu,newn,ls in out:
    if r<=5 or r in (10,15,20,30,40) or total>=50:
        print(f"run {r}: {total} compiled, {new} never compiled before; CPU {cpu}; {cats}; {tiers}")
        if r>=2 and newn: print("   first-time:", newn)
        if r>=3 and ls: print("   LinqStream:", ls)
