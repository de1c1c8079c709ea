import re,collections,sys,subprocess
out=subprocess.run(['perf','script','-i',sys.argv[1],'-F','comm,tid,time'],capture_output=True,text=True).stdout
rows=[]
for line in out.splitlines():
    m=re.match(r'\s*(.+?)\s+(\d+)\s+([\d.]+):',line)
    if m: rows.append((float(m.group(3)),m.group(1).strip(),int(m.group(2))))
rows.sort()
runs=[];cur=[rows[0]]
for r in rows[1:]:
    if r[0]-cur[-1][0]>0.02: runs.append(cur);cur=[r]
    else: cur.append(r)
runs.append(cur)
for run in runs:
    t0=run[0][0]
    tids=[]
    for t,c,tid in run:
        if (c,tid) not in tids: tids.append((c,tid))
    line={k:['.']*40 for k in tids}
    for t,c,tid in run:
        ms=int((t-t0)*1000)
        if ms<40: line[(c,tid)][ms]='#'
    for k in tids:
        print(f"{k[0][:15]:15s} {k[1]} {''.join(line[k])}")
    print()
