#!/usr/bin/env python3
"""PyTorch side of bench_cuda, on the same GPU, for side-by-side numbers.

Medians over repetitions (ms per call), each timed from its start to a
torch.cuda.synchronize() after it, after a warm-up:
  matmul_4096_{f32,tf32,bf16}   a @ b
  adam_100M_{foreach,fused}     torch.optim.Adam step over 100M f32 parameters in 8 tensors
  copy_100M                     dst.copy_(src), 100M f32 (device to device)
  lstm_train_100_64_512_512     y, _ = lstm(x); y.sum().backward() (cuDNN), f32
  lstm_bf16_100_64_512_512      the same with the forward under bf16 autocast

Run with the interpreter that has a CUDA torch (PyTorch 2.x):
  python3 benchmarks/torch_cuda.py [--reps 5]
"""
import argparse

import torch

from torch_common import report as report_any


def report(name, fn, reps, min_time=0.5, extra=None):
    report_any(name, fn, reps, min_time, torch.cuda.synchronize, extra)




def matmul(reps):
    n = 4096
    for tag, dt, tf32 in (("f32", torch.float32, False), ("tf32", torch.float32, True),
                          ("bf16", torch.bfloat16, False)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a = torch.randn(n, n, device="cuda").to(dt)
        b = torch.randn(n, n, device="cuda").to(dt)
        report(f"matmul_4096_{tag}", lambda: a @ b, reps,
               extra=lambda ms: f"{2 * n**3 / ms / 1e9:.1f} TFLOP/s")
    torch.backends.cuda.matmul.allow_tf32 = False


def adam_and_copy(reps):
    n = 100_000_000
    ps = [torch.randn(n // 8, device="cuda", requires_grad=True) for _ in range(8)]
    for p in ps:
        p.grad = torch.randn_like(p) * 1e-2
    for tag, kw in (("foreach", {"foreach": True}), ("fused", {"fused": True})):
        opt = torch.optim.Adam(ps, lr=1e-3, **kw)
        report(f"adam_100M_{tag}", opt.step, reps,
               extra=lambda ms: f"{28 * n / ms / 1e6:.0f} GB/s at 28 B/param")
    src = torch.randn(n, device="cuda")
    dst = torch.empty_like(src)
    report("copy_100M", lambda: dst.copy_(src), reps,
           extra=lambda ms: f"{8 * n / ms / 1e6:.0f} GB/s at 8 B/float")


def lstm(reps):
    T, N, I, H = 100, 64, 512, 512
    m = torch.nn.LSTM(I, H).cuda()
    x = torch.randn(T, N, I, device="cuda")

    def step(bf16):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            y, _ = m(x)
        y.float().sum().backward()
        for p in m.parameters():
            p.grad = None

    report(f"lstm_train_{T}_{N}_{I}_{H}", lambda: step(False), reps)
    report(f"lstm_bf16_{T}_{N}_{I}_{H}", lambda: step(True), reps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, medians of {args.reps}")
    matmul(args.reps)
    adam_and_copy(args.reps)
    lstm(args.reps)


if __name__ == "__main__":
    main()
