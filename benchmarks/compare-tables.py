#!/usr/bin/env python3
"""Compares two results tables (the `--report` section of RESULTS.md) row by row: issue #19's no-regression check.

    benchmarks/compare-tables.py OLD NEW [--limit 1.10]

OLD and NEW are RESULTS.md files (e.g. `git show db2b189:benchmarks/RESULTS.md > /tmp/old.md`, and the file `--report --out DIR`
wrote for a new run). Prints every row of OLD with its ns/event in both and NEW / OLD; rows slower by more than the limit are
marked, rows missing from NEW are listed. Exits 1 when a row is slower than the limit or missing, 0 otherwise.
"""
import re
import sys


def table(path):
    rows = {}
    inside = False
    for line in open(path, encoding="utf-8"):
        if "results-table:begin" in line:
            inside = True
            continue
        if "results-table:end" in line:
            break
        if not inside or not line.startswith("|") or line.startswith("|---") or line.startswith("| Benchmark"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4:
            continue
        try:
            ns = float(cells[3].replace(",", ""))
        except ValueError:
            continue
        rows[(cells[0], cells[1], cells[2])] = ns
    return rows


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    limit = float(argv[argv.index("--limit") + 1]) if "--limit" in argv else 1.10
    old, new = table(argv[1]), table(argv[2])
    if not old:
        print(f"no results table in {argv[1]}")
        return 2
    slower, missing = [], []
    print(f"| Benchmark | Parameters | Method | old ns/event | new ns/event | new / old | |")
    print("|---|---|---|--:|--:|--:|---|")
    for key, before in old.items():
        if key not in new:
            missing.append(key)
            continue
        after = new[key]
        ratio = after / before if before > 0 else float("inf")
        mark = "**slower**" if ratio > limit else ""
        if ratio > limit:
            slower.append((key, ratio))
        print(f"| {key[0]} | {key[1]} | {key[2]} | {before:,.2f} | {after:,.2f} | {ratio:.2f} | {mark} |")
    for key in missing:
        print(f"missing from the new table: {' / '.join(k for k in key if k)}")
    print(f"{len(old)} rows compared, {len(slower)} slower than {limit:.2f}x, {len(missing)} missing")
    return 1 if slower or missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
