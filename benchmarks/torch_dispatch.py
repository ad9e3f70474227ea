#!/usr/bin/python3
"""PyTorch side of bench_dispatch and bench_matmul, for side-by-side numbers.

Measures, with torch.set_num_threads(2) and medians over repetitions:
  add_no_grad_16    c = a + b on two 16-element f32 tensors, no autograd
  fwd_bwd_4op_16    y = ((a * b) + a).exp().sum(); y.backward() with requires_grad
  fwd_4op_grad_16   the same forward only
  matmul_f32_N      a @ b, N×N f32, N in 256, 512, 1024, 2048 (GFLOP/s)
  matmul_bf16_1024  a @ b, 1024² bf16

Run with the interpreter that has torch (Debian's python3-torch):
  OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_dispatch.py [--reps 5]
"""
import argparse
import statistics

import torch

from torch_common import time_per_call


def median_of(fn, reps):
    return statistics.median(time_per_call(fn) for _ in range(reps))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--sizes", default="256,512,1024,2048",
                        help="f32 matmul sizes (Debian's torch runs f32 on generic BLAS: slow)")
    parser.add_argument("--no-dispatch", action="store_true", help="skip the dispatch part")
    parser.add_argument("--no-matmul", action="store_true", help="skip the matmul part")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, medians of {args.reps}")

    if not args.no_dispatch:
        dispatch(args.reps)
    if not args.no_matmul:
        sizes = [int(n) for n in args.sizes.split(",") if n]
        matmuls(args.reps, sizes)


def dispatch(reps):
    a = torch.randn(16)
    b = torch.randn(16)

    def add():
        a + b

    t = median_of(add, reps)
    print(f"add_no_grad_16      {t * 1e9:10.0f} ns")

    ga = torch.randn(16, requires_grad=True)
    gb = torch.randn(16, requires_grad=True)

    def fwd_bwd():
        y = ((ga * gb) + ga).exp().sum()
        y.backward()
        ga.grad = None
        gb.grad = None

    t = median_of(fwd_bwd, reps)
    print(f"fwd_bwd_4op_16      {t * 1e9:10.0f} ns")

    def fwd():
        ((ga * gb) + ga).exp().sum()

    t = median_of(fwd, reps)
    print(f"fwd_4op_grad_16     {t * 1e9:10.0f} ns")


def matmuls(reps, sizes):
    for n, dtype in [(n, torch.float32) for n in sizes] + [(1024, torch.bfloat16)]:
        x = torch.randn(n, n).to(dtype)
        y = torch.randn(n, n).to(dtype)
        t = median_of(lambda: x @ y, reps)
        name = f"matmul_{'f32' if dtype == torch.float32 else 'bf16'}_{n}"
        print(f"{name:<19} {t * 1e6:10.1f} us  {2 * n**3 / t * 1e-9:7.1f} GFLOP/s")


if __name__ == "__main__":
    main()
