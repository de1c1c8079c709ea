"""The two source tasks of each run of a perf record side by side (first-made, second-made): samples per stack of DEPTH frames.  usage: python3 bythread.py PERF_DATA [DEPTH]"""
import re,collections,sys,subprocess
out=subprocess.run(['perf','script','-i',sys.argv[1],'-F','comm,tid,time,ip,sym'],capture_output=True,text=True).stdout
per=collections.defaultdict(collections.Counter); tot=collections.Counter()
depth=int(sys.argv[2]) if len(sys.argv)>2 else 1
for s in out.split('\n\n'):
    lines=[l for l in s.strip().split('\n') if l.strip()]
    if not lines: continue
    m=re.match(r'\s*(.+?)\s+(\d+)\s+([\d.]+):',lines[0])
    if not m or 'sour' not in m.group(1): continue
    tid=int(m.group(2))
    fr=[]
    for f in lines[1:]:
        f=re.sub(r'/\* MT: 0x[0-9a-f]+ \*/','',f)
        mm=re.search(r'^\s*[0-9a-f]+\s+(.*)$',f.strip())
        if not mm: continue
        n=mm.group(1); n=re.sub(r'\s*\([^)]*\)\s*$','',n) 
        n=re.sub(r'`\d+\[[^\]]*(\[[^\]]*\][^\]]*)*\]','',n); n=re.sub(r'\(.*','',n)
        n=n.split('::')[-1] if '::' in n else n.split(' ')[-1]
        fr.append(n[:40])
    per[tid][' < '.join(fr[:depth])]+=1; tot[tid]+=1
tids=sorted(per)
# pair tids: runs have 2 sources each: group consecutive tids
pairs=[tids[i:i+2] for i in range(0,len(tids),2)]
agg=[collections.Counter(),collections.Counter()]
for p in pairs:
    for k,t in enumerate(p): agg[k].update(per[t])
keys=set(agg[0])|set(agg[1])
print('first-created source vs second:', sum(agg[0].values()), sum(agg[1].values()))
for k in sorted(keys,key=lambda k:-(agg[0][k]+agg[1][k]))[:30]: print(f"{agg[0][k]:4d} {agg[1][k]:4d}  {k}")
