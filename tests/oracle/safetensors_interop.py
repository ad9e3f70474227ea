#!/usr/bin/python3
"""safetensors interop between PyTorch and descent.

Run with Debian's python3-torch (see README.md). The `safetensors` package is not a
Debian package, so this script carries a small reader and writer that follow the
format and the validation of the reference implementation (used when `safetensors`
is not importable; when it is, `check` also reads the file with
safetensors.torch.load_file).

  /usr/bin/python3 tests/oracle/safetensors_interop.py write
      writes tests/data/safetensors/from_torch.safetensors (torch tensors of every
      dtype, 0-dim and empty ones included) and from_torch.expected.txt (the same
      values in the golden-fixture text format, floats as exact f64 decimals)
  /usr/bin/python3 tests/oracle/safetensors_interop.py check FILE
      reads a file written by descent's test (tests/test_safetensors.cpp,
      TorchReadsDescentFile) and compares every tensor bit for bit with what torch
      expects; exits non-zero on any difference
"""
import json
import math
import os
import struct
import sys
import zlib

try:
    import numpy as np
    import torch
except ImportError:
    sys.exit("safetensors_interop.py needs PyTorch and numpy: apt-get install python3-torch")

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "safetensors")
SEED = 20240611
MAX_HEADER = 100_000_000

# safetensors name -> (torch dtype, numpy dtype of the raw bytes, fixture dtype)
DTYPES = {
    "F64": (torch.float64, np.float64, "f64"),
    "F32": (torch.float32, np.float32, "f64"),
    "F16": (torch.float16, np.int16, "f64"),
    "BF16": (torch.bfloat16, np.int16, "f64"),
    "I64": (torch.int64, np.int64, "i64"),
    "I32": (torch.int32, np.int32, "i64"),
    "BOOL": (torch.bool, np.bool_, "bool"),
}
NAME_OF = {v[0]: k for k, v in DTYPES.items()}
# Same-size integer views used to compare floats bit for bit (NaN payloads included).
BITS = {torch.float64: torch.int64, torch.float32: torch.int32, torch.float16: torch.int16,
        torch.bfloat16: torch.int16}


def torch_tensors():
    """The tensors of from_torch.safetensors: for each dtype a matrix, a 0-dim scalar
    and an empty tensor, plus special values (inf, nan, -0, subnormals, extremes)."""
    g = torch.Generator().manual_seed(SEED)
    out = {}
    short = {"F64": "f64", "F32": "f32", "F16": "f16", "BF16": "bf16", "I64": "i64",
             "I32": "i32", "BOOL": "bool"}
    for st, (dt, _, _) in DTYPES.items():
        p = short[st]
        if dt.is_floating_point:
            out[p + ".matrix"] = (torch.randn(3, 5, generator=g, dtype=torch.float64) * 4).to(dt)
            out[p + ".scalar"] = torch.tensor(-2.75, dtype=dt)
            fi = torch.finfo(dt)
            out[p + ".special"] = torch.tensor(
                [math.inf, -math.inf, math.nan, -0.0, 0.0, fi.max, -fi.max, fi.tiny,
                 fi.tiny / 4, fi.eps], dtype=torch.float64).to(dt)
        elif dt == torch.bool:
            out[p + ".matrix"] = torch.rand(2, 3, 4, generator=g) > 0.5
            out[p + ".scalar"] = torch.tensor(True)
        else:
            ii = torch.iinfo(dt)
            out[p + ".matrix"] = torch.randint(-1000, 1000, (4, 3), generator=g, dtype=dt)
            out[p + ".scalar"] = torch.tensor(-7, dtype=dt)
            out[p + ".special"] = torch.tensor([ii.min, ii.max, 0, -1, 1], dtype=dt)
        out[p + ".empty"] = torch.zeros(0, 3, dtype=dt)
    out["f32.5d"] = torch.arange(2 * 1 * 3 * 1 * 2, dtype=torch.float32).reshape(2, 1, 3, 1, 2)
    return out


def descent_made_tensors():
    """What the C++ test adds, made the same way in torch (views, so descent must copy
    them to contiguous memory before writing)."""
    return {
        "descent.transposed": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(),
        "descent.sliced": torch.arange(20, dtype=torch.int64)[3:17:2],
        "descent.expanded": torch.tensor([1.5, -2.0], dtype=torch.float64).expand(3, 2),
    }


# The StateDict numbers and strings the C++ test stores (see the header of
# core/state_dict_file.h for the encoding).
EXPECTED_NUMBERS = {"lr": 1e-3, "step": 12345.0, "third": 1.0 / 3.0, "tiny": 5e-324,
                    "neg_zero": -0.0, "big": 2.0 ** 60, "inf": math.inf}
EXPECTED_STRINGS = {"name": "adam", "unicode": "\u00e9\u00e8 \u4e2d \U0001f600 \"q\" \\ \n"}


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata):
    """Writes like safetensors.torch.save_file: largest elements first, then by name;
    header padded with spaces to a multiple of 8."""
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header = {"__metadata__": metadata} if metadata else {}
    offset, blobs = 0, []
    for name, t in items:
        b = raw_bytes(t)
        header[name] = {"dtype": NAME_OF[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))


def fail(msg):
    sys.exit(f"safetensors_interop.py: {msg}")


def read_safetensors(path):
    """Reads and validates like the reference implementation; returns (tensors, metadata)."""
    data = open(path, "rb").read()
    if len(data) < 8:
        fail(f"{path}: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        fail(f"{path}: bad header length {n}")
    if (8 + n) % 8 != 0:
        fail(f"{path}: header length {n} leaves the data buffer unaligned")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict) or not data[8:9] == b"{":
        fail(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", {}) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        fail(f"{path}: metadata values must be strings")
    buf = data[8 + n:]
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    cursor, out = 0, {}
    for name, info in entries:
        if set(info) != {"dtype", "shape", "data_offsets"}:
            fail(f"{path}: tensor {name}: fields {sorted(info)}")
        dt, npdt, _ = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = info["shape"]
        numel = math.prod(shape)
        if begin != cursor or end - begin != numel * torch.tensor([], dtype=dt).element_size():
            fail(f"{path}: tensor {name}: offsets {begin, end} do not tile the buffer")
        if begin % torch.tensor([], dtype=dt).element_size() != 0:
            fail(f"{path}: tensor {name}: misaligned")
        cursor = end
        arr = np.frombuffer(buf[begin:end], dtype=npdt).copy()
        t = torch.from_numpy(arr)
        if dt in (torch.float16, torch.bfloat16):
            t = t.view(dt)
        out[name] = t.reshape(shape)
    if cursor != len(buf):
        fail(f"{path}: tensors end at {cursor}, buffer holds {len(buf)} bytes")
    return out, metadata


def fixture_value(x, kind):
    if kind == "bool":
        return "1" if x else "0"
    if kind == "i64":
        return str(int(x))
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return "%.17g" % x


def write_expected(path, tensors):
    lines = [f"# expected values of from_torch.safetensors (torch {torch.__version__}, "
             f"seed {SEED}); floats as exact f64"]
    for name, t in sorted(tensors.items()):
        kind = DTYPES[NAME_OF[t.dtype]][2]
        vals = t.double() if t.dtype.is_floating_point else t
        vals = [fixture_value(x, kind) for x in vals.reshape(-1).tolist()]
        lines.append(" ".join([name, kind, str(t.dim())] + [str(d) for d in t.shape] + vals))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype in BITS:
        return torch.equal(a.contiguous().view(BITS[a.dtype]), b.contiguous().view(BITS[b.dtype]))
    return torch.equal(a, b)


CRC_PREFIX = "descent.crc32."


def checksum_errors(path, names, checksums):
    """descent records the CRC-32 (zlib's) of every tensor's bytes in the metadata."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    errors = []
    if sorted(checksums) != sorted(names):
        errors.append(f"checksums for {sorted(checksums)}, tensors {sorted(names)}")
    for name in names:
        begin, end = header[name]["data_offsets"]
        crc = "%08x" % zlib.crc32(raw[8 + n + begin:8 + n + end])
        if checksums.get(name) != crc:
            errors.append(f"{name}: CRC-32 {crc}, metadata says {checksums.get(name)!r}")
    return errors


def check(path):
    got, metadata = read_safetensors(path)
    checksums = {k[len(CRC_PREFIX):]: v for k, v in metadata.items() if k.startswith(CRC_PREFIX)}
    metadata = {k: v for k, v in metadata.items() if not k.startswith(CRC_PREFIX)}
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        for k, t in load_file(path).items():
            if not same_bits(t, got[k]):
                fail(f"{path}: safetensors.torch.load_file disagrees on {k}")
    want = dict(torch_tensors())
    want.update(descent_made_tensors())
    errors = []
    if sorted(got) != sorted(want):
        errors.append(f"names differ: got {sorted(got)}, want {sorted(want)}")
    for name, w in want.items():
        if name in got and not same_bits(got[name], w):
            errors.append(f"{name}: got {got[name].dtype} {list(got[name].shape)} "
                          f"{got[name].tolist()}, want {w.dtype} {list(w.shape)} {w.tolist()}")
    if metadata.get("format") != "descent.state_dict.v1":
        errors.append(f"metadata format is {metadata.get('format')!r}")
    for k, v in EXPECTED_NUMBERS.items():
        s = metadata.get("number:" + k)
        if s is None or float(s) != v or math.copysign(1, float(s)) != math.copysign(1, v):
            errors.append(f"number {k}: got {s!r}, want {v!r}")
    for k, v in EXPECTED_STRINGS.items():
        if metadata.get("string:" + k) != v:
            errors.append(f"string {k}: got {metadata.get('string:' + k)!r}, want {v!r}")
    errors += checksum_errors(path, list(got), checksums)
    if errors:
        fail(f"{path}:\n  " + "\n  ".join(errors))
    print(f"{path}: {len(got)} tensors and {len(metadata)} metadata entries match torch; "
          f"{len(checksums)} CRC-32 checksums verified")


def main():
    torch.set_num_threads(1)
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        if len(sys.argv) != 3:
            sys.exit(__doc__)
        check(sys.argv[2])
    elif len(sys.argv) == 1 or sys.argv[1] == "write":
        os.makedirs(DATA, exist_ok=True)
        tensors = torch_tensors()
        write_safetensors(os.path.join(DATA, "from_torch.safetensors"), tensors, {"format": "pt"})
        write_expected(os.path.join(DATA, "from_torch.expected.txt"), tensors)
        # Our own reader must accept what our writer wrote.
        back, _ = read_safetensors(os.path.join(DATA, "from_torch.safetensors"))
        assert all(same_bits(back[k], t) for k, t in tensors.items())
        print(f"wrote {len(tensors)} tensors to {DATA}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
