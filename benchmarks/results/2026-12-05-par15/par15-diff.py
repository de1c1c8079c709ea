import subprocess, re, sys, collections
def load(path, comm=None):
    args=['perf','report','-i',path,'--no-children','--sort','sym','--stdio','-g','none','-n','--percent-limit','0']
    if comm: args+=['--comms',comm]
    out=subprocess.run(args,capture_output=True,text=True).stdout
    d=collections.Counter()
    for line in out.splitlines():
        m=re.match(r'\s+([\d.]+)%\s+(\d+)\s+\[(.)\]\s+(.*)',line)
        if not m: continue
        name=m.group(4)
        name=re.sub(r'\[Anonymously Hosted DynamicMethods Assembly\] dynamicClass::','',name)
        name=re.sub(r'/\* MT: 0x[0-9a-f]+ \*/','',name)
        name=re.sub(r'^(instance )?\S+ ','',name) if not name.startswith('0x') else name
        name=re.sub(r'\[LinqStream\] |\[System.Private.CoreLib\] ','',name)
        name=name.replace('LinqStream.Benchmarks.Scenarios.Nexmark.','').replace('LinqStream.Parallel.TwoPhase.','').replace('LinqStream.Physical.Windows.','').replace('System.Int64','long')
        name=re.sub(r'\(.*','()',name)
        d[name[:120]]+=int(m.group(2))
    return d
a=load(sys.argv[1]); b=load(sys.argv[2])
ta=sum(a.values()); tb=sum(b.values())
print('total samples', ta, tb)
keys=sorted(set(a)|set(b), key=lambda k: -(a[k]+b[k]))
for k in keys[:45]:
    print(f'{a[k]:6d} {b[k]:6d} {b[k]-a[k]:+6d}  {k}')
