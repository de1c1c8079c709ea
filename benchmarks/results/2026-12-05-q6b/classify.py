# Puts each sample of a `perf script -F comm,tid,ip,sym,dso` dump under the innermost of q6's parts its stack passes through (so a
# page fault, a store check or a compiled kernel counts for the operator that called it). Usage: classify.py < perf-TAG.script
import re, sys, collections
PARTS = [
    ('Over (OverRowsOperator)', r'OverRowsOperator`'),
    ("q6's second join: q9's winners with the auctions, for the seller", r'JoinOperator`4\[LinqStream\.Benchmarks\.Scenarios\.Nexmark\.AuctionBid,'),
    ('keyed fold (per bid fold, per close emission)', r'KeyedFoldOperator`'),
    ("q9's join: closes x bids (rewritten)", r'JoinOperator`4\[System\.__Canon,System\.__Canon,System\.Int64,LinqStream\.Physical\.Windows\.KeyedFold\.Closing'),
    ("filter and projection after q9's join", r'PipelineOperator`2\[LinqStream\.Physical\.Windows\.KeyedFold\.Closing'),
    ('ingress reorder (closes: Reorder 10 s)', r'IngressOrderer`|ReorderRuns`'),
    ('sources and fused ingress kernels', r'EnumerableSource`|PipelineOperator`'),
    ('query start-up (plan, compile, subscribe)', r'QStreamQuery`1\[[^\]]*\]::Subscribe|Physicalizer|KernelCompiler'),
]
counts = collections.Counter(); total = 0; stack = []; other = collections.Counter()
def flush():
    global total
    if not stack:
        return
    if not any('RunLinqStream' in f for f in stack):
        return  # only the query's own thread under the profile loop
    total += 1
    for name, pattern in PARTS:
        for f in stack:
            pass
    for f in stack:  # innermost first
        for name, pattern in PARTS:
            if re.search(pattern, f):
                counts[name] += 1
                return
    counts['other'] += 1
    other[stack[0][:120]] += 1
for line in sys.stdin:
    if line.startswith(('\t', ' ')) and line.strip():
        parts = line.strip().split(None, 1)
        stack.append(parts[1] if len(parts) > 1 else '?')
    else:
        flush(); stack = []
flush()
print(f'samples under RunLinqStream: {total}')
for name, _ in PARTS + [('other', '')]:
    print(f'{100 * counts[name] / max(total, 1):5.1f}%  {name}')
if '-v' in sys.argv:
    for k, v in other.most_common(15):
        print(v, k)
