# Helpers for the example tests (sourced). Exit code 77 tells ctest the test skipped.
set -euo pipefail

need_data() {  # $1: a folder that must hold the idx files
  if ! compgen -G "$1/train-images-idx3-ubyte*" >/dev/null; then
    echo "SKIP: no data in $1 (run scripts/get-data --only fashion)"
    exit 77
  fi
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# The value of `key` in the `result:` line of a log file.
result_value() {  # $1: log, $2: key
  local v
  v=$(grep '^result:' "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p")
  [[ -n "$v" ]] || fail "no $2 in the result line of $1"
  echo "$v"
}

# The value in column `name` of row `row` (1 = the first data row) of a CSV file.
csv_value() {  # $1: file, $2: row, $3: column name
  awk -F, -v row="$2" -v col="$3" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    NR == row + 1 { if (!c) exit 1; print $c; found = 1 }
    END { if (!found) exit 1 }' "$1" || fail "no column $3 / row $2 in $1"
}

# Asserts that awk's comparison `$1 $2 $3` holds (numbers), with a message.
assert_cmp() {  # $1 value, $2 operator, $3 value, $4 what
  awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }" || fail "$4: expected $1 $2 $3"
  echo "ok: $4 ($1 $2 $3)"
}
