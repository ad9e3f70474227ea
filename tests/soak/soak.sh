#!/usr/bin/env bash
# Soak test: a training run killed with SIGKILL at random moments and resumed from its
# checkpoint each time, until it finishes, ends with the same parameters — byte for
# byte — as an uninterrupted run; the checkpoint folder holds no temporary files from
# the killed saves; and the uninterrupted run's memory stays flat.
#   soak.sh <soak_train binary> <work dir> [steps] [every] [seed] [kills] [max delay s]
# Each of the first `kills` attempts is killed a random 0..max delay after it wrote a
# new checkpoint (so every kill follows progress, however loaded the machine, and some
# land in the middle of a save); the next attempt is left to finish.
# CI runs it short (6,000 steps, a checkpoint every 50, 6 kills). The long run, for a
# release or after touching checkpoints, the loader or the allocator (about 25 minutes
# on 2 cores):
#   OMP_NUM_THREADS=2 tests/soak/soak.sh build/tests/soak_train /tmp/soak 200000 500 1 400 2
# The thread count must be fixed (OMP_NUM_THREADS): oneDNN's sums depend on it.
set -euo pipefail
source "$(dirname "$0")/../examples/common.sh"
bin=$1 work=$2 steps=${3:-6000} every=${4:-50} seed=${5:-$RANDOM} want_kills=${6:-6}
max_delay=${7:-0.1}
[[ -n "${OMP_NUM_THREADS:-}" ]] || export OMP_NUM_THREADS=2
rm -rf "$work" && mkdir -p "$work"
RANDOM=$seed
echo "soak: $steps steps, a checkpoint every $every, $want_kills kills (seed $seed)"

"$bin" --dir "$work/straight" --steps "$steps" --every "$every" >"$work/straight.log" 2>&1 ||
  { cat "$work/straight.log"; fail "the uninterrupted run failed"; }

ckpt=$work/killed/last.safetensors
stamp() { stat -c %.9Y "$ckpt" 2>/dev/null || echo none; }
kills=0 attempts=0
while [[ ! -f "$work/killed/final.safetensors" ]]; do
  ((++attempts <= 10 * want_kills + 10)) || fail "no attempt finished in $attempts tries"
  before=$(stamp)
  "$bin" --dir "$work/killed" --steps "$steps" --every "$every" >>"$work/killed.log" 2>&1 &
  pid=$!
  if ((kills < want_kills)); then
    # Wait for a new checkpoint (or the end of the run), then a random delay, then kill.
    while kill -0 "$pid" 2>/dev/null && [[ $(stamp) == "$before" ]]; do sleep 0.005; done
    sleep "$(echo "$max_delay * $((RANDOM % 1000)) / 1000" | bc -l)"
    if kill -9 "$pid" 2>/dev/null; then
      ((++kills))
      wait "$pid" 2>/dev/null || true
      continue
    fi
  fi
  wait "$pid" || { tail -5 "$work/killed.log"; fail "a resumed run failed"; }
done
resumes=$(grep -c '^resumed' "$work/killed.log" || true)
echo "ok: finished after $kills kills ($resumes resumes from a checkpoint)"
assert_cmp "$resumes" ">=" "$kills" "every kill was followed by a resume from a checkpoint"

cmp "$work/straight/final.safetensors" "$work/killed/final.safetensors" ||
  fail "the killed-and-resumed run's parameters differ from the uninterrupted run's"
echo "ok: final parameters byte-identical to the uninterrupted run's"

debris=$(find "$work/killed" -name '*.tmp.*' | wc -l)
assert_cmp "$debris" "==" 0 "no temporary files left by the killed saves"

early=$(sed -n 's/^rss_kb step=[0-9]* kb=//p' "$work/straight.log" | head -1)
late=$(sed -n 's/^rss_kb step=[0-9]* kb=//p' "$work/straight.log" | tail -1)
assert_cmp "$late" "<=" "$((early + 16384))" \
  "memory flat: RSS at the end (kB) within 16 MB of RSS at a quarter of the steps ($early kB)"
