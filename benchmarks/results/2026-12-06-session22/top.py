"""Top stacks (DEPTH frames) of a perf record, per thread kind.  usage: python3 top.py PERF_DATA [DEPTH] [N]"""
import re,collections,sys,subprocess
out=subprocess.run(['perf','script','-i',sys.argv[1],'-F','comm,tid,time,ip,sym'],capture_output=True,text=True).stdout
depth=int(sys.argv[2]) if len(sys.argv)>2 else 1
c=collections.Counter(); n=0
for s in out.split('\n\n'):
    lines=[l for l in s.strip().split('\n') if l.strip()]
    if not lines: continue
    m=re.match(r'\s*(.+?)\s+(\d+)\s+([\d.]+):',lines[0])
    if not m: continue
    fr=[]
    for f in lines[1:]:
        f=re.sub(r'/\* MT: 0x[0-9a-f]+ \*/','',f)
        mm=re.search(r'^\s*[0-9a-f]+\s+(.*)$',f.strip())
        if not mm: continue
        x=mm.group(1); x=re.sub(r'`\d+\[[^\]]*(\[[^\]]*\][^\]]*)*\]','',x); x=re.sub(r'\(.*','',x)
        x=x.split('::')[-1] if '::' in x else x.split(' ')[-1]
        fr.append(x[:40])
    c[(m.group(1)[:12],' < '.join(fr[:depth]))]+=1; n+=1
print('samples',n)
for k,v in c.most_common(int(sys.argv[3]) if len(sys.argv)>3 else 30): print(v,k[0],'|',k[1])
