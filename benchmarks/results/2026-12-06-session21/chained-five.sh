#!/bin/bash
# Session 21: issue #16's tumbling row (2 arrays by key, forward, chained) alone, five launches, nothing else running.
exec "$(dirname "$0")/launches.sh" "${LOG:-chained-five.log}" 5 "=TumblingCountPerKeyForwardArrays (2 arrays by key, declared: forward exchange, chained)"
