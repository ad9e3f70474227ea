#!/usr/bin/env python3
"""Writes the small IDX files tests/test_data_idx.cpp reads (python3 stdlib only).

Run from anywhere: python3 tests/data/idx/make_fixtures.py
Every folder holds one split; all but good/ have exactly one thing wrong.
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def idx(dims, values, type_code=0x08, magic=b"\x00\x00"):
    head = magic + bytes([type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return head + bytes(values)


def put(folder, name, data, gz=False):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    path = os.path.join(HERE, folder, name + (".gz" if gz else ""))
    if gz:
        data = gzip.compress(data, mtime=0)  # mtime 0: the same bytes on every run
    with open(path, "wb") as f:
        f.write(data)


# 4 train images of 2x3 pixels with known bytes; pixel p of image i is (i*6+p)*10 % 256
# with 255 and 0 included so both ends of [0, 1] are checked.
train_pixels = [(i * 6 + p) * 10 % 256 for i in range(4) for p in range(6)]
train_pixels[0], train_pixels[-1] = 0, 255
train_labels = [3, 0, 9, 1]
test_pixels = [255 - v for v in train_pixels[:12]]
test_labels = [7, 2]

images = idx([4, 2, 3], train_pixels)
labels = idx([4], train_labels)

# good/: raw train files, gzip-compressed test files.
put("good", "train-images-idx3-ubyte", images)
put("good", "train-labels-idx1-ubyte", labels)
put("good", "t10k-images-idx3-ubyte", idx([2, 2, 3], test_pixels), gz=True)
put("good", "t10k-labels-idx1-ubyte", idx([2], test_labels), gz=True)

put("bad_magic", "train-images-idx3-ubyte", idx([4, 2, 3], train_pixels, magic=b"\x08\x03"))
put("bad_magic", "train-labels-idx1-ubyte", labels)

put("bad_type", "train-images-idx3-ubyte", idx([4, 2, 3], train_pixels, type_code=0x0D))
put("bad_type", "train-labels-idx1-ubyte", labels)

put("truncated", "train-images-idx3-ubyte", images[:-5])
put("truncated", "train-labels-idx1-ubyte", labels)

put("trailing", "train-images-idx3-ubyte", images + b"\x00\x00\x00")
put("trailing", "train-labels-idx1-ubyte", labels)

put("mismatch", "train-images-idx3-ubyte", images)
put("mismatch", "train-labels-idx1-ubyte", idx([3], train_labels[:3]))

# Images stored as a 2-D (count, pixels) array: not (count, rows, cols).
put("bad_dims", "train-images-idx3-ubyte", idx([4, 6], train_pixels))
put("bad_dims", "train-labels-idx1-ubyte", labels)

put("zero_cols", "train-images-idx3-ubyte", idx([4, 2, 0], []))
put("zero_cols", "train-labels-idx1-ubyte", labels)

# A gzip stream cut in the middle.
put("bad_gz", "train-images-idx3-ubyte.gz", gzip.compress(images, mtime=0)[:-12])
put("bad_gz", "train-labels-idx1-ubyte", labels)

# Labels only: the images file is missing.
put("missing", "train-labels-idx1-ubyte", labels)
