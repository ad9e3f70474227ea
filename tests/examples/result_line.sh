# Helpers for the example tests (sourced): run a program and read its result line.
#   out=$(run_example "$bin" --flag ...)       # fails the test when the program fails
#   acc=$(result_value "$out" test_acc)
#   expect "$acc > 0.4" "accuracy $acc should be well above chance"

run_example() {
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if ((rc != 0)); then
    echo "$out" | tail -n 20 >&2
    echo "FAIL: $* exited with $rc" >&2
    exit 1
  fi
  echo "$out"
}

result_value() {  # the value of key $2 on the "result:" line of output $1
  local v
  v=$(grep '^result:' <<<"$1" | tr ' ' '\n' | sed -n "s/^$2=//p")
  [[ -n "$v" ]] || { echo "FAIL: no $2 on the result line" >&2; exit 1; }
  echo "$v"
}

expect() {  # an awk condition, and what it means
  if awk "BEGIN { exit !($1) }"; then
    echo "ok: $2"
  else
    echo "FAIL: $2 ($1)" >&2
    exit 1
  fi
}
