"""Shared by the PyTorch benchmark scripts (run as benchmarks/<script>.py, so this
module is on their path): calibrated timing and the IDX reader."""
import gzip
import os
import statistics
import time

import numpy as np


def time_per_call(fn, min_time=0.5, sync=None):
    """Seconds per call of fn: after one warm-up call, calibrated batches until one
    runs at least min_time. sync (e.g. torch.cuda.synchronize) runs after each batch,
    so that queued GPU work is counted."""
    fn()
    if sync:
        sync()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if sync:
            sync()
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return dt / n
        n = max(n * 2, int(n * min_time / max(dt, 1e-9) * 1.2))


def report(name, fn, reps, min_time=0.5, sync=None, extra=None):
    """Prints the median, min and max ms per call over reps calibrated runs; extra(ms)
    may add a rate."""
    ts = [time_per_call(fn, min_time, sync) * 1e3 for _ in range(reps)]
    med = statistics.median(ts)
    tail = f"  {extra(med)}" if extra else ""
    print(f"{name:28s} median {med:9.3f} ms  (min {min(ts):.3f}, max {max(ts):.3f}, "
          f"{reps} reps){tail}")


def idx_path(data, name):
    """data/name or data/name.gz, whichever exists."""
    for candidate in (name, name + ".gz"):
        if os.path.exists(os.path.join(data, candidate)):
            return os.path.join(data, candidate)
    raise FileNotFoundError(f"{data}: no {name}[.gz]")


def read_idx(path):
    """An IDX file of unsigned bytes (raw or .gz) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08, f"{path}: not a ubyte IDX file"
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
