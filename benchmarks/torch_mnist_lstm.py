#!/usr/bin/python3
"""PyTorch reference for examples/mnist_lstm: the same model (LSTM(28, 128) over the 28
rows, last hidden state -> Linear(128, 10)), Adam, batch 128, gradient clipping at 1.0,
normalised inputs, 2 threads. Reads the IDX files with numpy; trains --epochs and prints
"result: epoch_s=... test_acc=... last_loss=...".

  /usr/bin/python3 benchmarks/torch_mnist_lstm.py --data datasets/fashion-mnist [--amp]
"""
import argparse
import time

import numpy as np
import torch

from torch_common import idx_path, read_idx


def load(data, prefix):
    x = read_idx(idx_path(data, f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255.0
    y = read_idx(idx_path(data, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


class RowLstm(torch.nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.lstm = torch.nn.LSTM(28, hidden, batch_first=True)
        self.fc = torch.nn.Linear(hidden, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x.reshape(-1, 28, 28))
        return self.fc(h[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--amp", action="store_true", help="bf16 CPU autocast")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "t10k")
    if a.limit:
        xtr, ytr, xte, yte = xtr[:a.limit], ytr[:a.limit], xte[:a.limit], yte[:a.limit]
    mean, std = xtr.mean(), xtr.std()
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    model = RowLstm()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    times, loss = [], float("nan")
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        for idx in torch.randperm(len(xtr)).split(128):
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.amp):
                out = model(xtr[idx])
            l = torch.nn.functional.cross_entropy(out.float(), ytr[idx])
            l.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            loss = l.item()
        times.append(time.perf_counter() - t0)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.amp):
        acc = (model(xte).float().argmax(1) == yte).float().mean().item()
    print(f"result: epoch_s={np.median(times):.4f} test_acc={acc:.4f} last_loss={loss:.4f}")


if __name__ == "__main__":
    main()
