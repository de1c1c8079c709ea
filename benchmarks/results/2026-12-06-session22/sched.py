"""Per run of a perf-sched.sh record: idle time per core, each thread's time on a core, its sleeps and runnable waits, who woke whom;
then idle per 10 ms bucket and when each source task last left a core.  usage: python3 sched.py PERF_DATA"""
import re, sys, collections
from schedlib import sched_events, split_runs, switch

BUCKET = 0.01  # seconds
names = {}
buckets = []
for run in split_runs(sched_events(sys.argv[1])):
    t0, t1 = run[0][0], run[-1][0]
    oncpu = {}  # cpu -> (tid, since)
    busy = collections.Counter(); idle = collections.Counter()
    idle_in = collections.Counter()  # bucket -> idle seconds (both cores)
    last_source = {}  # source task -> when it last left a core
    sleeps = collections.defaultdict(list)  # tid -> sleep durations
    sleepstart = {}
    wakers = collections.Counter()
    runq_wait = collections.defaultdict(float); woke = {}
    for t, cpu, evn, tr, comm, tid in run:
        if evn.endswith('sched_switch'):
            pc, pp, ps, nc, np = switch(tr)
            names[pp] = pc; names[np] = nc
            if cpu in oncpu:
                tid0, since = oncpu[cpu]
                (idle if tid0 == 0 else busy)[(cpu, tid0)] += t - since
                x = since
                while tid0 == 0 and x < t:  # spread the idle interval over its buckets
                    k = int((x - t0) / BUCKET)
                    end = min(t, t0 + (k + 1) * BUCKET)
                    if end <= x:
                        end = min(t, x + 1e-6)
                    idle_in[k] += end - x
                    x = end
            oncpu[cpu] = (np, t)
            if 'sour' in pc:
                last_source[pp] = t - t0
            if ps.startswith('S') or ps.startswith('D'):
                sleepstart[pp] = t
            if np in woke:
                runq_wait[np] += t - woke.pop(np)
        elif evn.endswith('sched_wakeup'):
            m = re.search(r'comm=(.+?) pid=(\d+)', tr); wp = int(m.group(2))
            if wp in sleepstart:
                sleeps[wp].append(t - sleepstart.pop(wp))
            woke[wp] = t
            wakers[(names.get(tid, comm)[:12], m.group(1)[:12])] += 1
    print(f"=== run span {(t1 - t0) * 1000:.1f} ms; idle per cpu:", {c: f"{1000 * sum(v for (cc, _), v in idle.items() if cc == c):.1f}ms" for c in (0, 1)})
    per = collections.Counter()
    for (c, tid), v in busy.items():
        per[tid] += v
    for tid, v in per.most_common():
        sl = sleeps.get(tid, [])
        print(f"  {names.get(tid, '?')[:16]:16s} {tid}: on cpu {v * 1000:6.1f} ms, sleeps {len(sl):4d} total {1000 * sum(sl):6.1f} ms, waited runnable {1000 * runq_wait.get(tid, 0):6.1f} ms")
    print("  wakeups (waker->wakee):", dict(wakers.most_common(8)))
    buckets.append(' '.join(f"{1000 * idle_in[k]:4.1f}" for k in range(max(idle_in) + 1)) + ' | sources last off cpu at ' + str({k: f"{1000 * v:.0f}" for k, v in last_source.items()}))
print("idle by 10 ms bucket, and when each source ended")
print('\n'.join(buckets))
