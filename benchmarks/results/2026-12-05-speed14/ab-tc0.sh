#!/bin/bash
# ab.sh with DOTNET_TieredCompilation=0 for every block: the per-event code is fully optimized from run 1 and the runtime's
# tier-up thread (jit9: a quarter to a half of the process's CPU in the first tens of runs, in both builds) is out of the
# process CPU, so the two engines' CPU per event can be compared on a loaded machine. Usage as ab.sh.
export DOTNET_TieredCompilation=0
exec "$(dirname "$0")/ab.sh" "$@"
