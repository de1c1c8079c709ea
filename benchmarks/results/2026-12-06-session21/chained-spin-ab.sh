#!/bin/bash
# Session 21: the tumbling count's chained forward row (issue #16's >= 1.8x row) with the rule of 8360709 (blocking at once on
# 2 cores) against spinning first (forced), in the same four launches, the order alternating.
exec "$(dirname "$0")/launches.sh" "${LOG:-chained-spin-ab.log}" 4 --alternate \
  "=TumblingCountPerKeyForwardArrays (2 arrays by key, declared: forward exchange, chained)" \
  "=TumblingCountPerKeyForwardArrays, channels spin before they block (as before session 21; chained)"
