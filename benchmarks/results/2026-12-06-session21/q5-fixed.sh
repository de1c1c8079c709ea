#!/bin/bash
# Session 21: q5 over 2 partitions, whole (5M events) and the first fifth of each partition (1M events), in the same launches:
# a run's time = fixed + per-event × events, at P = 1 and P = 2. Five launches, the two cases' order alternating.
exec "$(dirname "$0")/launches.sh" "${LOG:-q5-fixed.log}" 5 --alternate "=Q5HotItemsPartitioned" "=Q5HotItemsPartitioned, the first fifth of each partition (against the whole case: a run's fixed time and its time per event)"
