import sys,re,collections
target=sys.argv[1]; depth=int(sys.argv[2]) if len(sys.argv)>2 else 1
c=collections.Counter(); total=0
buf=[]
def clean(l):
    parts=l.strip().split(None,1); sym=parts[1] if len(parts)>1 else '?'
    sym=re.sub(r'\s*\(.*?\)\s*$','',sym); sym=re.sub(r'\+0x[0-9a-f]+$','',sym)
    sym=re.sub(r'\[LinqStream[^\]]*\] ','',sym); sym=re.sub(r'LinqStream\.','',sym)
    sym=re.sub(r'`\d+\[[^\]]*\]+','',sym)
    return sym[:150]
def flush():
    global total
    st=[clean(l) for l in buf[1:]]
    for i,f in enumerate(st):
        if target in f:
            total+=1
            c[' <- '.join(st[i:i+depth+1])]+=1
            break
for line in sys.stdin:
    if line.strip()=='':
        if buf: flush()
        buf=[]
    else: buf.append(line)
print('total',total)
for k,v in c.most_common(15): print(v,k)
