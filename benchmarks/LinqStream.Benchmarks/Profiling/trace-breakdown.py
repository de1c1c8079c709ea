#!/usr/bin/env python3
"""Where the time of one `--profile` run goes, from a dotnet-trace speedscope file.

    dotnet dotnet-trace convert q7.nettrace --format speedscope -o q7      # writes q7.speedscope.json
    python3 benchmarks/LinqStream.Benchmarks/Profiling/trace-breakdown.py q7.speedscope.json

Keeps only the time under `RunLinqStream` (the query; not the input generation before it) and prints the frames with the
most exclusive and inclusive time, as a share of that time. The thread-time sampler records time per stack; the
pseudo-frames CPU_TIME / UNMANAGED_CODE_TIME at the leaves are folded into the managed frame above them ([native]).
"""
import collections
import json
import re
import sys


def short(name):
    if re.match(r'^[\w.\-]+!', name):
        name = name.split('!', 1)[1]
    name = name.replace('LinqStream.Benchmarks.Scenarios.Nexmark.', '')
    name = re.sub(r'(System\.Collections\.Generic\.|LinqStream\.(Physical|Runtime)\.(\w+\.)?)', '', name)
    return re.sub(r'\(.*', '()', name)[:110]


def main(path, top=16):
    data = json.load(open(path))
    raw = [f['name'] for f in data['shared']['frames']]
    names = [short(n) for n in raw]
    exclusive, inclusive, total = collections.Counter(), collections.Counter(), 0.0
    for profile in data['profiles']:
        stack, last = [], None
        for event in profile['events']:
            if last is not None and stack and any('RunLinqStream' in raw[i] for i in stack):
                dt = event['at'] - last
                total += dt
                real = [i for i in stack if names[i] not in ('CPU_TIME', 'UNMANAGED_CODE_TIME')]
                leaf = names[real[-1]] + (' [native]' if names[stack[-1]] == 'UNMANAGED_CODE_TIME' else '')
                exclusive[leaf] += dt
                for n in set(names[i] for i in real):
                    inclusive[n] += dt
            last = event['at']
            if event['type'] == 'O':
                stack.append(event['frame'])
            elif stack:
                stack.pop()
    if total == 0:
        sys.exit(f'{path}: no samples under RunLinqStream')
    print(f'{path}: {total:.0f} ms of samples in the query')
    print('-- exclusive')
    for n, t in exclusive.most_common(top):
        print(f'{100 * t / total:5.1f}%  {n}')
    print('-- inclusive (2 % and more, below the run loop)')
    for n, t in [x for x in inclusive.most_common(200) if 2 <= 100 * x[1] / total < 99][:top + 10]:
        print(f'{100 * t / total:5.1f}%  {n}')


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for file in sys.argv[1:]:
        main(file)
