"""Per run of a perf record (par15-perf.sh): one lane per thread, a digit per B ms bucket with that many 1 ms samples.  usage: python3 lanes.py PERF_DATA [B]"""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '2026-12-06-session21'))
from timeline import load_runs
runs = load_runs(sys.argv[1])
B=float(sys.argv[2]) if len(sys.argv)>2 else 2
for run in runs:
    t0=run[0][0]; tids=sorted(set((c[:12]+' '+str(t)) for _,c,t in run))
    nb=int((run[-1][0]-t0)*1000/B)+1
    print('--- run')
    for tid in tids:
        line=['.']*nb
        for t,c,ti in run:
            if c[:12]+' '+str(ti)==tid:
                k=int((t-t0)*1000/B); line[k]=str(min(9,(0 if line[k]=='.' else int(line[k]))+1))
        print(f"{tid:22s} {''.join(line)}")
