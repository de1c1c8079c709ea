#!/bin/bash
# the rows the first side-by-side pair (old1/main1) did not clear, again: sbs-suspects.sh LABELS...
F=('*StateBackendBenchmarks.Sessions1MKeys*' '*StateBackendBenchmarks.Q5*')
for label in "$@"; do
  case $label in old*) dir=/work/wt/old1204 ;; *) dir=/work/main ;; esac
  /work/main/.ci/servers.sh /work/notes/sbs.sh "$label" "$dir" "${F[@]}"
done
