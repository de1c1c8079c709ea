#!/bin/bash
# Session 21: the same row with the spin forced, alone, five launches, nothing else running.
exec "$(dirname "$0")/launches.sh" "${LOG:-chained-five-spin.log}" 5 "=TumblingCountPerKeyForwardArrays, channels spin before they block (as before session 21; chained)"
