#!/usr/bin/env bash
# Soak test: a training run killed with SIGKILL at random moments and resumed from its
# checkpoint each time, until it finishes, ends with the same parameters — byte for
# byte — as an uninterrupted run; the checkpoint folder holds no temporary files from
# the killed saves; and the uninterrupted run's memory stays flat.
#   soak.sh <soak_train binary> <work dir> [steps] [every] [seed] [window seconds]
# Kills come 10-40% of a window after each start; the window is the uninterrupted
# run's length unless given.
# CI runs it short (6,000 steps, a checkpoint every 50). The long run, for a release or
# after touching checkpoints, the loader or the allocator (about 10 minutes on 2 cores):
#   OMP_NUM_THREADS=2 tests/soak/soak.sh build/tests/soak_train /tmp/soak 200000 500 1 5
# The thread count must be fixed (OMP_NUM_THREADS): oneDNN's sums depend on it.
set -euo pipefail
source "$(dirname "$0")/../examples/common.sh"
bin=$1 work=$2 steps=${3:-6000} every=${4:-50} seed=${5:-$RANDOM} window=${6:-}
[[ -n "${OMP_NUM_THREADS:-}" ]] || export OMP_NUM_THREADS=2
rm -rf "$work" && mkdir -p "$work"
RANDOM=$seed
echo "soak: $steps steps, a checkpoint every $every, kill times from seed $seed"

start=$(date +%s.%N)
"$bin" --dir "$work/straight" --steps "$steps" --every "$every" >"$work/straight.log" 2>&1 ||
  { cat "$work/straight.log"; fail "the uninterrupted run failed"; }
straight_s=$(echo "$(date +%s.%N) - $start" | bc)
window=${window:-$straight_s}

# Kill at a random moment within the run's length, over and over, until one attempt
# finishes on its own.
kills=0 attempts=0
while [[ ! -f "$work/killed/final.safetensors" ]]; do
  ((++attempts <= 1000)) || fail "no attempt finished in 1000 tries"
  "$bin" --dir "$work/killed" --steps "$steps" --every "$every" >>"$work/killed.log" 2>&1 &
  pid=$!
  percent=$((10 + RANDOM % 31))
  sleep "$(echo "$window * $percent / 100" | bc -l)"
  if kill -9 "$pid" 2>/dev/null; then
    ((++kills))
    wait "$pid" 2>/dev/null || true
  else
    wait "$pid" || { tail -5 "$work/killed.log"; fail "a resumed run failed"; }
  fi
done
resumes=$(grep -c '^resumed' "$work/killed.log" || true)
echo "ok: finished after $kills kills ($resumes resumes from a checkpoint)"
assert_cmp "$kills" ">=" 3 "the run was killed several times"
assert_cmp "$resumes" ">=" 2 "it resumed from a checkpoint several times"

cmp "$work/straight/final.safetensors" "$work/killed/final.safetensors" ||
  fail "the killed-and-resumed run's parameters differ from the uninterrupted run's"
echo "ok: final parameters byte-identical to the uninterrupted run's"

debris=$(find "$work/killed" -name '*.tmp.*' | wc -l)
assert_cmp "$debris" "==" 0 "no temporary files left by the killed saves"

early=$(sed -n 's/^rss_kb step=[0-9]* kb=//p' "$work/straight.log" | head -1)
late=$(sed -n 's/^rss_kb step=[0-9]* kb=//p' "$work/straight.log" | tail -1)
assert_cmp "$late" "<=" "$((early + 16384))" \
  "memory flat: RSS at the end (kB) within 16 MB of RSS at a quarter of the steps ($early kB)"
