import re,collections,sys,subprocess
out=subprocess.run(['perf','script','-i',sys.argv[1],'--comms',sys.argv[2],'-F','tid,time,ip,sym'],capture_output=True,text=True).stdout
samples=out.split('\n\n')
c=collections.Counter()
def nm(f):
    f=re.sub(r'/\* MT: 0x[0-9a-f]+ \*/','',f)
    m=re.search(r'\[(?:LinqStream|LinqStream.Benchmarks)\] (\S+?)\(',f)
    if not m: return None
    n=m.group(1)
    n=re.sub(r'`\d+\[[^\]]*(\[[^\]]*\][^\]]*)*\]','',n)
    return n.split('.')[-1] if '::' not in n else n.split('.')[-1]
depth=int(sys.argv[3]) if len(sys.argv)>3 else 5
for s in samples:
    lines=[l.strip() for l in s.strip().split('\n') if l.strip()]
    if len(lines)<2: continue
    names=[n for n in (nm(f) for f in lines[1:]) if n]
    leaf=lines[1][:60]
    c[' < '.join(names[:depth])]+=1
for k,v in c.most_common(40): print(v,k[:300])
