import sys, collections, re
# perf script -F comm,tid,ip,sym,dso output: a header line per sample then stack lines
leaf=collections.Counter(); incl=collections.Counter(); total=0
cur=[]; 
def flush():
    global total
    if not cur: return
    total+=1
    leaf[cur[0]]+=1
    for f in set(cur): incl[f]+=1
for line in sys.stdin:
    line=line.rstrip('\n')
    if not line.strip():
        flush(); cur=[]; continue
    if line.startswith('\t') or line.startswith(' '):
        parts=line.strip().split(None,1)
        sym=parts[1] if len(parts)>1 else '?'
        sym=re.sub(r'\s*\(.*?\)\s*$','',sym)  # drop dso
        sym=re.sub(r'\+0x[0-9a-f]+$','',sym)
        sym=re.sub(r'\[OptimizedTier1\]|\[Optimized\]|\[Tier0\]|\[Tier1\]|\[QuickJitted\]|\[OSR\]','',sym)
        cur.append(sym[:160])
    else:
        flush(); cur=[]
flush()
n=int(sys.argv[1]) if len(sys.argv)>1 else 40
filt=sys.argv[2] if len(sys.argv)>2 else None
print('samples',total)
print('--- leaf')
for k,v in leaf.most_common(n): print(f'{100*v/total:5.1f}% {k}')
print('--- inclusive')
for k,v in incl.most_common(n): print(f'{100*v/total:5.1f}% {k}')
