#!/usr/bin/env bash
# custom_optimizer's Signum trains the regression and resumes from its state dict exactly.
#   custom_optimizer.sh <custom_optimizer binary> <work dir>
source "$(dirname "$0")/common.sh"
bin=$1 work=$2
mkdir -p "$work"
"$bin" >"$work/custom_optimizer.log" 2>&1 || { cat "$work/custom_optimizer.log"; fail "custom_optimizer failed"; }
assert_cmp "$(result_value "$work/custom_optimizer.log" final_loss)" "<" \
  "$(result_value "$work/custom_optimizer.log" first_loss)" "loss fell"
assert_cmp "$(result_value "$work/custom_optimizer.log" final_loss)" "<" 0.05 "final loss"
assert_cmp "$(result_value "$work/custom_optimizer.log" resumed_equal)" "==" 1 "resume is exact"
