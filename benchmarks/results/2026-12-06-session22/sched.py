"""Per run of a perf-sched.sh record: idle time per core, each thread's time on a core, its sleeps and runnable waits, who woke whom;
then idle per 10 ms bucket and when each source task last left a core.  usage: python3 sched.py PERF_DATA"""
import re, sys, collections
from schedlib import sched_events, split_runs
ev = sched_events(sys.argv[1])
runs = split_runs(ev)
names={}
for run in runs:
    t0,t1=run[0][0],run[-1][0]
    oncpu={}  # cpu -> (tid, since)
    busy=collections.Counter(); idle=collections.Counter()
    sleeps=collections.defaultdict(list) # tid -> list of sleep durations
    sleepstart={}
    wakers=collections.Counter()
    runq_wait=collections.defaultdict(float); woke={}
    for t,cpu,evn,tr,comm,tid in run:
        if evn.endswith('sched_switch'):
            m=re.search(r'prev_comm=(.+?) prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=(.+?) next_pid=(\d+)',tr)
            pc,pp,ps,nc,np=m.group(1),int(m.group(2)),m.group(3),m.group(4),int(m.group(5))
            names[pp]=pc; names[np]=nc
            if cpu in oncpu:
                tid0,since=oncpu[cpu]
                (idle if tid0==0 else busy)[(cpu, tid0)]+=t-since
            oncpu[cpu]=(np,t)
            if ps.startswith('S') or ps.startswith('D'): sleepstart[pp]=t
            if np in woke: runq_wait[np]+=t-woke.pop(np)
        elif evn.endswith('sched_wakeup'):
            m=re.search(r'comm=(.+?) pid=(\d+)',tr); wp=int(m.group(2))
            if wp in sleepstart: sleeps[wp].append(t-sleepstart.pop(wp))
            woke[wp]=t
            wakers[(names.get(tid,comm)[:12], m.group(1)[:12])]+=1
    span=t1-t0
    print(f"=== run span {span*1000:.1f} ms; idle per cpu:", {c: f"{1000*sum(v for (cc,_),v in idle.items() if cc==c):.1f}ms" for c in (0,1)})
    per=collections.Counter()
    for (c,tid),v in busy.items(): per[tid]+=v
    for tid,v in per.most_common(): 
        sl=sleeps.get(tid,[])
        print(f"  {names.get(tid,'?')[:16]:16s} {tid}: on cpu {v*1000:6.1f} ms, sleeps {len(sl):4d} total {1000*sum(sl):6.1f} ms, waited runnable {1000*runq_wait.get(tid,0):6.1f} ms")
    print("  wakeups (waker->wakee):", dict(wakers.most_common(8)))
print("idle by 10 ms bucket, and when each source ended")
for run in runs:
    t0=run[0][0]; oncpu={}; b=collections.Counter(); last={}
    for t,cpu,evn,tr,comm,tid in run:
        if evn.endswith('sched_switch'):
            m=re.search(r'prev_comm=(.+?) prev_pid=(\d+) .*next_pid=(\d+)',tr)
            if cpu in oncpu and oncpu[cpu][0]==0:
                s=oncpu[cpu][1]
                # spread idle over buckets
                x=s
                while x<t:
                    k=int((x-t0)*100); end=min(t,t0+(k+1)/100)
                    if end<=x: end=min(t,x+1e-6)
                    b[k]+=end-x; x=end
            oncpu[cpu]=(int(m.group(3)),t)
            if 'sour' in m.group(1): last[int(m.group(2))]=t-t0
    print(' '.join(f"{1000*b[k]:4.1f}" for k in range(max(b)+1)), '| sources last off cpu at', {k: f"{1000*v:.0f}" for k,v in last.items()})
