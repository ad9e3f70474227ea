"""PyTorch baseline for mnist_mlp: the same 784-512-256-10 MLP (BatchNorm1d, ReLU, He
init), batch 128, Adam (lr 1e-3), cross-entropy, one shuffled epoch over the 60,000
Fashion-MNIST training images, 2 threads (or on the GPU with --device cuda, with
--amp bf16 for bf16 autocast). Prints `result: epoch_s=... samples_per_s=...
train_loss=...`.
    /usr/bin/python3 benchmarks/torch_mnist_mlp.py [--data datasets/fashion-mnist] [--epochs 1]
    python3 benchmarks/torch_mnist_mlp.py --device cuda [--amp bf16]
"""
import argparse
import time

import numpy as np
import torch
from torch import nn

from torch_common import idx_path, read_idx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--amp", default="off", choices=["off", "bf16"])
    args = ap.parse_args()
    dev = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    x = read_idx(idx_path(args.data, "train-images-idx3-ubyte")).reshape(-1, 784)
    y = read_idx(idx_path(args.data, "train-labels-idx1-ubyte"))
    x = torch.from_numpy(x.astype(np.float32) / 255.0)
    x = (x - x.mean()) / x.std()  # the example normalises with the training set's stats
    y = torch.from_numpy(y.astype(np.int64))
    x, y = x.to(dev), y.to(dev)

    model = nn.Sequential(nn.Linear(784, 512), nn.BatchNorm1d(512), nn.ReLU(),
                          nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(),
                          nn.Linear(256, 10))
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    for _ in range(args.epochs):
        perm = torch.randperm(x.shape[0], device=dev)
        total, seen = 0.0, 0
        t0 = time.perf_counter()
        for i in range(0, x.shape[0], 128):
            idx = perm[i:i + 128]
            xb, yb = x[idx], y[idx]
            opt.zero_grad()
            with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.amp == "bf16"):
                loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
            seen += xb.shape[0]
        if dev.type == "cuda":
            torch.cuda.synchronize()
        epoch_s = time.perf_counter() - t0
    print(f"result: epoch_s={epoch_s:.4f} samples_per_s={seen / epoch_s:.4f} "
          f"train_loss={total / seen:.4f}")


if __name__ == "__main__":
    main()
