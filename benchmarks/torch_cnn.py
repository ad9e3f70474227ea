#!/usr/bin/python3
"""PyTorch side of bench_conv, for side-by-side numbers on the same shapes and threads.

Measures, with torch.set_num_threads($OMP_NUM_THREADS, default 2) and medians over
repetitions (ms per call):
  conv_step_N_C_HW_O   y = conv2d(x, w, b, padding=1); y.backward(v); grads reset
  cnn_train_f32        mnist_cnn's network (width 32), one Adam step on 128 images
  cnn_train_bf16       the same step with the forward under CPU bf16 autocast

Run with the interpreter that has torch (Debian's python3-torch):
  OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_cnn.py [--reps 5]
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import report


def conv_step(N, C, HW, O, reps, min_time):
    x = torch.randn(N, C, HW, HW, requires_grad=True)
    w = (torch.randn(O, C, 3, 3) * 0.1).requires_grad_()
    b = torch.zeros(O, requires_grad=True)
    v = torch.randn(N, O, HW, HW)

    def step():
        y = F.conv2d(x, w, b, padding=1)
        y.backward(v)
        x.grad = w.grad = b.grad = None

    flops = 3 * 2.0 * N * O * HW * HW * C * 9
    report(f"conv_step_{N}_{C}_{HW}_{O}", step, reps, min_time,
           extra=lambda ms: f"{flops / (ms * 1e-3) * 1e-9:.1f} GFLOP/s")


def cnn(width=32):
    layers = [nn.Unflatten(1, (1, 28, 28))]
    for cin, cout in ((1, width), (width, 2 * width)):
        for c in (cin, cout):
            layers += [nn.Conv2d(c, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU()]
        layers.append(nn.MaxPool2d(2))
    layers += [nn.Flatten(), nn.Linear(2 * width * 7 * 7, 10)]
    return nn.Sequential(*layers)


def cnn_step(reps, min_time, bf16):
    model = cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(128, 784)
    y = torch.randint(0, 10, (128,))

    def step():
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    report(f"cnn_train_{'bf16' if bf16 else 'f32'}", step, reps, min_time,
           extra=lambda ms: f"{128 / (ms * 1e-3):.0f} samples/s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.5)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    for shape in ((128, 32, 28, 32), (128, 32, 14, 64)):
        conv_step(*shape, args.reps, args.min_time)
    cnn_step(args.reps, args.min_time, False)
    cnn_step(args.reps, args.min_time, True)


if __name__ == "__main__":
    main()
