#!/usr/bin/python3
"""PyTorch side of bench_optim: one optimizer step over 10M f32 parameters in four
tensors (4M + 3M + 2M + 1M), torch.set_num_threads(2), foreach on and off.

Prints the median step time over repetitions, and the bandwidth with the same byte
counts as bench_optim (Adam 28 bytes/param, SGD-momentum and RMSprop 20).
  OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_optim.py [--reps 5] [--threads 2]
"""
import argparse
import statistics

import torch

from torch_common import time_per_call

SIZES = [4_000_000, 3_000_000, 2_000_000, 1_000_000]
PARAMS = sum(SIZES)


def make_params():
    ps = []
    for n in SIZES:
        p = torch.randn(n, requires_grad=True)
        p.grad = torch.randn(n) * 1e-2
        ps.append(p)
    return ps


def time_step(opt, reps, min_time=0.5):
    """Median seconds per step; the first call allocates the state outside the timing."""
    return statistics.median(time_per_call(opt.step, min_time) for _ in range(reps))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cases = [
        ("adam", lambda ps, fe: torch.optim.Adam(ps, lr=1e-3, foreach=fe), 28),
        ("adamw", lambda ps, fe: torch.optim.AdamW(ps, lr=1e-3, foreach=fe), 28),
        ("sgd_momentum", lambda ps, fe: torch.optim.SGD(ps, lr=1e-2, momentum=0.9, foreach=fe), 20),
        ("rmsprop", lambda ps, fe: torch.optim.RMSprop(ps, lr=1e-2, foreach=fe), 20),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {PARAMS} f32 params")
    for name, make, bytes_per_param in cases:
        for foreach in (False, True):
            with torch.no_grad():
                t = time_step(make(make_params(), foreach), args.reps)
            print(f"{name:14s} foreach={foreach!s:5s} {t * 1e3:8.2f} ms  "
                  f"{PARAMS * bytes_per_param / t / 1e9:6.2f} GB/s")


if __name__ == "__main__":
    main()
