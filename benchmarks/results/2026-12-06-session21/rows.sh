#!/bin/bash
# Session 21: issue #16's other rows with this session's channels: the tumbling counts (forward chained; hash exchange, two phases),
# the stateless job with a sink per task, the q5 job (alignment p99). Three launches.
exec "$(dirname "$0")/launches.sh" "${LOG:-rows.log}" 3 \
  "=TumblingCountPerKeyForwardArrays (2 arrays by key, declared: forward exchange, chained)" \
  "=TumblingCountPerKeyKeyPartitionedArraysHashed (the same 2 arrays, not declared: hash exchange, two phases)" \
  "=StatelessSinkPerTaskCheckpointed (job, 2 partitions)" \
  "=Q5HotItemsPartitionedCheckpointed (job)"
