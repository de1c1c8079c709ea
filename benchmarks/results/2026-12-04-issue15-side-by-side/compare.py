import csv, glob, os, re, sys, statistics
# usage: [CMP_DIR=/tmp/cmp] compare.py LABELS... — the runs' artifacts under CMP_DIR/LABEL (run.sh's --artifacts)
CMP_DIR = os.environ.get('CMP_DIR', '/tmp/cmp')
def load(label):
    rows = {}
    for f in glob.glob(f'{CMP_DIR}/{label}/results/*-report.csv'):
        cls = os.path.basename(f).split('.')[-2].replace('-report','')
        with open(f) as fh:
            r = list(csv.DictReader(fh))
        for row in r:
            ks=list(row.keys()); params = ks[ks.index('WarmupCount')+1:ks.index('Mean')]
            key = cls + ' ' + row['Method'] + ' ' + ','.join(f'{k}={row[k]}' for k in params)
            m = row['Mean'].replace(',', '')
            if m in ('NA', '', '?'):  # a case that did not run in this build
                continue
            num, unit = m.split()
            v = float(num) * {'ns':1,'μs':1e3,'us':1e3,'ms':1e6,'s':1e9}[unit]
            rows[key] = (v, row['StdDev'], row['Allocated'])
    return rows
labels = sys.argv[1:]
data = {l: load(l) for l in labels}
keys = sorted(set().union(*[d.keys() for d in data.values()]))
olds = [l for l in labels if l.startswith('old')]; news = [l for l in labels if l.startswith('main')]
print('| Row | ' + ' | '.join(labels) + ' | main/old (mean of runs) |')
print('|---|' + '---|'*len(labels) + '---|')
for k in keys:
    vals = [data[l].get(k, (None,))[0] for l in labels]
    o = [data[l][k][0] for l in olds if k in data[l]]; n = [data[l][k][0] for l in news if k in data[l]]
    ratio = (statistics.mean(n)/statistics.mean(o)) if o and n else None
    fmt = lambda v: '' if v is None else (f'{v:,.1f}' if v < 1e5 else f'{v/1e6:,.3f} ms')
    print(f'| {k} | ' + ' | '.join(fmt(v) for v in vals) + f' | {ratio:.3f} |' if ratio else f'| {k} | ' + ' | '.join(fmt(v) for v in vals) + ' | |')
