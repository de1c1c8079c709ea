#!/bin/bash
# the session-18 table's flagged engine rows (and their classes' hand loops), old db2b189 vs main, alternating: sbs-all.sh LABELS...
F=('*Q3LocalItemSuggestion.LinqStreamQuery*' '*Q3LocalItemSuggestion.HandWrittenLoop*' '*Q8NewUsers.LinqStreamQuery*' '*Q8NewUsers.LinqStreamJoinPlan*' '*Q8NewUsers.HandWrittenLoop*'
   '*CheckpointCost.WithoutCheckpoints*' '*CompileBenchmarks.FilterProjectFirstResult*' '*FilterProjectBenchmarks.LinqStreamQuery*' '*FilterProjectBenchmarks.HandWrittenLoop*'
   '*ParallelismBenchmarks.TumblingCountPerKeyCheckpointed*' '*RedisNexmark.InMemory*' '*SessionCountBenchmarks.LinqStreamQuery*'
   '*StateBackendBenchmarks.Q11*' '*StateBackendBenchmarks.Q5*' '*StateBackendBenchmarks.Sessions1MKeys*' '*SubscribeCacheBenchmarks*')
for label in "$@"; do
  case $label in old*) dir=/work/wt/old1204 ;; *) dir=/work/main ;; esac
  /work/main/.ci/servers.sh /work/notes/sbs.sh "$label" "$dir" "${F[@]}"
done
