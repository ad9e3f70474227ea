#!/usr/bin/python3
"""PyTorch side of bench_lstm and bench_batchnorm, for side-by-side numbers.

Measures, with torch.set_num_threads($OMP_NUM_THREADS, default 2) and medians over
repetitions (ms per call):
  lstm_train_T_N_I_H   y, _ = lstm(x); y.sum().backward(); grads reset to None
  lstm_bf16_T_N_I_H    the same step with the forward under CPU bf16 autocast
  lstm_infer_T_N_I_H   the forward under torch.no_grad()
  bn1d_train_N_C       (bn(x) * v).sum().backward() in training mode
  bn1d_eval_N_C        the same in eval mode
  bn1d_infer_N_C       the training forward under torch.no_grad()

Run with the interpreter that has torch (Debian's python3-torch):
  OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_nn.py [--reps 5] [--no-large]
"""
import argparse
import os

import torch

from torch_common import report




def lstm(T, N, I, H, reps, min_time):
    m = torch.nn.LSTM(I, H)
    x = torch.randn(T, N, I)

    def train():
        y, _ = m(x)
        y.sum().backward()
        for p in m.parameters():
            p.grad = None

    def train_bf16():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y, _ = m(x)
        y.float().sum().backward()
        for p in m.parameters():
            p.grad = None

    def infer():
        with torch.no_grad():
            m(x)

    tag = f"{T}_{N}_{I}_{H}"
    report(f"lstm_train_{tag}", train, reps, min_time)
    report(f"lstm_bf16_{tag}", train_bf16, reps, min_time)
    report(f"lstm_infer_{tag}", infer, reps, min_time)


def batchnorm(N, C, reps):
    bn = torch.nn.BatchNorm1d(C)
    x = torch.randn(N, C, requires_grad=True)
    v = torch.randn(N, C)

    def step():
        (bn(x) * v).sum().backward()
        x.grad = None
        bn.zero_grad(set_to_none=True)

    def infer():
        with torch.no_grad():
            bn(x)

    bn.train()
    report(f"bn1d_train_{N}_{C}", step, reps)
    report(f"bn1d_infer_{N}_{C}", infer, reps)
    bn.eval()
    report(f"bn1d_eval_{N}_{C}", step, reps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-large", action="store_true", help="skip the T100 N64 512/512 LSTM")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, medians of {args.reps}")
    lstm(28, 128, 28, 128, args.reps, 1.0)
    if not args.no_large:
        lstm(100, 64, 512, 512, args.reps, 3.0)
    batchnorm(128, 512, args.reps)


if __name__ == "__main__":
    main()
