#!/usr/bin/env bash
# char_lstm on the start of the text corpus: validation bits per character fall below
# the uniform log2(vocab) and below the first epoch's, and 1 epoch + resume 1 epoch
# reproduces 2 straight epochs exactly. Fails when the corpus is missing.
# Usage: char_lstm.sh BIN TEXT_FILE WORK_DIR
set -euo pipefail
source "$(dirname "$0")/result_line.sh"
bin=$1 text=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
common=(--data "$text" --limit 20000 --hidden 96 --embed 32 --layers 2 --sample-len 40 --seed 3)

out=$(run_example "$bin" "${common[@]}" --epochs 2 --metrics "$work/straight.csv")
bpc=$(result_value "$out" val_bpc)
first=$(result_value "$out" first_val_bpc)
uniform=$(result_value "$out" uniform_bpc)
expect "$bpc < $uniform - 1" "val_bpc $bpc is well below the uniform $uniform"
expect "$bpc < $first" "val_bpc fell from $first to $bpc"
grep -q -- '--- sample' <<<"$out" || { echo "FAIL: no sample printed" >&2; exit 1; }

run_example "$bin" "${common[@]}" --epochs 1 --checkpoint "$work/ckpt" >/dev/null
[[ -s "$work/ckpt/last.safetensors" ]] || { echo "FAIL: no checkpoint written" >&2; exit 1; }
out=$(run_example "$bin" "${common[@]}" --epochs 2 --checkpoint "$work/ckpt" --resume \
  --metrics "$work/resumed.csv")
grep -q 'resumed .* at epoch 1' <<<"$out" || { echo "FAIL: did not resume at epoch 1" >&2; exit 1; }
want=$(tail -n 1 "$work/straight.csv")
got=$(tail -n 1 "$work/resumed.csv")
[[ "$want" == "$got" ]] || { echo "FAIL: resumed epoch 2 '$got' != straight '$want'" >&2; exit 1; }
echo "ok: 1 + resumed 1 epochs equal 2 straight epochs exactly ($got)"

# Bad input is reported, not a crash.
if "$bin" --data "$text" --temperature 0 >"$work/err.txt" 2>&1; then
  echo "FAIL: --temperature 0 was accepted" >&2; exit 1
fi
grep -q 'expected > 0' "$work/err.txt" || { echo "FAIL: unclear --temperature error" >&2; exit 1; }
echo "ok: --temperature 0 rejected"

# A --prime the corpus cannot encode is refused before any training, not after an epoch.
if "$bin" "${common[@]}" --epochs 1 --prime $'\x01' >"$work/prime.txt" 2>&1; then
  echo "FAIL: an unencodable --prime was accepted" >&2; exit 1
fi
grep -q 'not in the vocabulary' "$work/prime.txt" || { cat "$work/prime.txt"; echo "FAIL: unclear --prime error" >&2; exit 1; }
if grep -q '^epoch 1' "$work/prime.txt"; then
  echo "FAIL: trained an epoch before rejecting --prime" >&2; exit 1
fi
echo "ok: a bad --prime is rejected before training"

# --monitor K: a CSV row every K steps with the LSTM's gradient norms and the head's output.
run_example "$bin" "${common[@]}" --epochs 1 --monitor 3 --monitor-csv "$work/monitor.csv" >/dev/null
head -n 1 "$work/monitor.csv" | grep -q 'lstm.weight_ih_l0.grad_norm' || { echo "FAIL: monitor CSV has no LSTM gradient norm" >&2; exit 1; }
head -n 1 "$work/monitor.csv" | grep -q 'head.act_std' || { echo "FAIL: monitor CSV has no head output statistics" >&2; exit 1; }
rows=$(($(wc -l <"$work/monitor.csv") - 1))
expect "$rows >= 2" "--monitor 3 wrote $rows rows"
