#!/usr/bin/env bash
# The examples' command lines refuse what they cannot mean, with exit code 2 and a
# message naming the flag, before reading any data: junk or negative integers, NaN or
# negative numbers, unknown words and flags, and switches given values other than
# true/false. "--resume=false" means off.
#   flags.sh <mnist_mlp binary> <char_lstm binary> <work dir>
source "$(dirname "$0")/common.sh"
mlp=$1 char=$2 work=$3
rm -rf "$work" && mkdir -p "$work"

refused() {  # $1: expected message (grep -E), rest: the command line
  local want=$1
  shift
  local rc=0
  "$@" --data "$work/no-data" >"$work/out.log" 2>&1 || rc=$?
  [[ $rc == 2 ]] || { cat "$work/out.log"; fail "$(basename "$1") ${*:2}: exit $rc, expected 2"; }
  grep -Eq -- "$want" "$work/out.log" ||
    { cat "$work/out.log"; fail "$(basename "$1") ${*:2}: expected a message matching '$want'"; }
  echo "ok: $(basename "$1") ${*:2} -> $(head -1 "$work/out.log")"
}

refused "--epochs: got -3, expected > 0" "$mlp" --epochs -3
refused "--epochs: got '1abc'" "$mlp" --epochs 1abc
refused "Could not convert: --epochs = 2.5" "$mlp" --epochs 2.5
refused "--batch-size: got 0, expected > 0" "$mlp" --batch-size 0
refused "--lr: got -1, expected > 0" "$mlp" --lr -1
refused "--lr: got 'inf'" "$mlp" --lr inf
refused "--clip: got 'nan', expected a finite number >= 0" "$mlp" --clip nan
refused "--seed: got -1, expected >= 0" "$mlp" --seed -1
refused "--optimizer: nope not in" "$mlp" --optimizer nope
refused "--resume" "$mlp" --resume=maybe
refused "--nope" "$mlp" --nope 1
refused "--epochs" "$mlp" --epochs
refused "--dropout: got 1, expected in \[0, 1\)" "$char" --dropout 1
refused "--temperature: got 0, expected > 0" "$char" --temperature 0
refused "--layers: got 0, expected > 0" "$char" --layers 0

# --resume=false is off: without --checkpoint it is no error (--resume alone is one).
rc=0
"$mlp" --data "$work/no-data" --resume=false >"$work/off.log" 2>&1 || rc=$?
grep -q "Idx::load" "$work/off.log" || { cat "$work/off.log"; fail "--resume=false was not off"; }
"$mlp" --data "$work/no-data" --resume >"$work/on.log" 2>&1 && fail "--resume alone passed"
grep -q "got --resume without --checkpoint" "$work/on.log" || { cat "$work/on.log"; fail "--resume"; }
echo "ok: --resume=false is off, --resume is on"

"$mlp" --help >"$work/help.log" || fail "--help exited non-zero"
grep -q -- "--epochs INT" "$work/help.log" || { cat "$work/help.log"; fail "--help lists no --epochs"; }
echo "ok: --help"
