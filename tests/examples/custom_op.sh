#!/usr/bin/env bash
# custom_op's finite-difference gradient check passes and its model learns the spirals.
#   custom_op.sh <custom_op binary> <work dir>
source "$(dirname "$0")/common.sh"
bin=$1 work=$2
mkdir -p "$work"
"$bin" >"$work/custom_op.log" 2>&1 || { cat "$work/custom_op.log"; fail "custom_op failed"; }
grep -q '^gradcheck: .* passed$' "$work/custom_op.log" || fail "no passing gradient check"
assert_cmp "$(result_value "$work/custom_op.log" grad_err)" "<" 1e-6 "gradient error"
assert_cmp "$(result_value "$work/custom_op.log" train_loss)" "<" \
  "$(result_value "$work/custom_op.log" first_loss)" "loss fell"
assert_cmp "$(result_value "$work/custom_op.log" test_acc)" ">" 0.9 "spiral test accuracy"
