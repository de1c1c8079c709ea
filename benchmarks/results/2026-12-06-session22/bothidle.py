"""(Two cores: the machine these traces come from.) When both cores of a perf-sched.sh record were idle at once (> 0.1 ms), and the wake-up that ended it.  usage: python3 bothidle.py PERF_DATA"""
import re, sys
from schedlib import sched_events, switch
ev = sched_events(sys.argv[1])
state={0:0,1:0}; since=None; t0=ev[0][0]; prev=t0; tot=0; lastwake=None; lastsleep={}
for t,cpu,e,tr,comm,tid in ev:
    if t-prev>0.02: t0=t; print('---- run')
    prev=t
    if e.endswith('sched_switch'):
        pc,pp,ps,nc,nxt=switch(tr)
        if ps.startswith('S'): lastsleep[pc[:14]+str(pp)]=t
        was=state[0]==0 and state[1]==0
        state[cpu]=nxt
        now=state[0]==0 and state[1]==0
        if now and not was: since=t
        if was and not now and since is not None:
            d=(t-since)*1000
            if d>0.1:
                tot+=d; print(f"both idle {d:5.2f} ms at {1000*(since-t0):6.1f} ms; ended by {nc} {nxt}; last wakeup: {lastwake}")
            since=None
    elif e.endswith('sched_wakeup'):
        m=re.search(r'comm=(.+?) pid=(\d+)',tr)
        lastwake=(comm[:14], tid, '->', m.group(1)[:14], m.group(2), f"slept {1000*(t-lastsleep.get(m.group(1)[:14]+m.group(2),t)):.2f} ms")
print('total', tot)
