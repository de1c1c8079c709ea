#!/bin/bash
# Session 21: q5 with the channels blocking at once when the run's threads outnumber the cores (the new default) against spinning
# first (the old default, forced), in the same five launches; q5 first, then the spinning q5 (as run; later scripts alternate).
exec "$(dirname "$0")/launches.sh" "${LOG:-spin-ab.log}" 5 "=Q5HotItemsPartitioned" "=Q5HotItemsPartitioned, channels spin before they block (as before session 21)"
