#!/usr/bin/env bash
# Stress check for flakes: runs the mocha suite RUNS times in a row (default 10) while a CPU
# burner keeps every core busy, and prints pass/fail per run. Exits non-zero if any run failed.
# The burners are bounded in time (BURN_SECONDS, default: 2 h) and are stopped when the
# script ends, however it ends.
#
#   scripts/stress.sh            # 10 runs
#   RUNS=3 scripts/stress.sh     # fewer
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-10}
burn_seconds=${BURN_SECONDS:-7200}
cores=$(nproc)
logs=$(mktemp -d "${TMPDIR:-/tmp}/veza-stress-XXXXXX")
burners=()

stop_burners() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap stop_burners EXIT INT TERM

# One busy loop per core, each ending by itself after burn_seconds.
for _ in $(seq "$cores"); do
  timeout "$burn_seconds" sh -c 'while :; do :; done' &
  burners+=("$!")
done
echo "stress: ${cores} busy loops running (pids ${burners[*]}, at most ${burn_seconds}s); ${runs} mocha runs; logs in ${logs}"

passed=0
failed=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  log="${logs}/run-${i}.log"
  npm run --silent mocha > "$log" 2>&1   # as npm test runs it: two workers
  status=$?
  secs=$(( $(date +%s) - start ))
  totals=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -Eo '^ +[0-9]+ (passing|failing|pending)' | tr -s ' ' | tr '\n' ',' | sed 's/^ //; s/,$//; s/, / /g')
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "run ${i}/${runs}: pass (${totals}; ${secs}s)"
    rm -f "$log"
  else
    failed=$((failed + 1))
    echo "run ${i}/${runs}: FAIL (exit ${status}; ${totals}; ${secs}s; log kept: ${log})"
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -A15 -E '^ +[0-9]+\) ' | head -60
  fi
done
echo "stress: ${passed} passed, ${failed} failed (runs of the whole mocha suite under ${cores} busy loops)"
[ "$failed" -eq 0 ] && rmdir "$logs" 2>/dev/null; [ "$failed" -eq 0 ]
