#!/usr/bin/env python3
"""Writes the safetensors regression corpus: tests/data/safetensors/corpus/*.safetensors
and expected.txt (one line per file: the file name, then OK or a substring of the
descent::Error message the reader must throw). tests/test_safetensors_fuzz.cpp
(SafetensorsFuzz.RegressionCorpus) replays every file.

Standard library only:  python3 tests/oracle/safetensors_corpus.py
Each case is an edge the format allows or one way a file can be broken; inputs the
fuzzer ever finds mishandled belong here too (add a case, rerun, commit).
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "safetensors", "corpus")


def image(header, buffer=b"", length=None, pad=True):
    h = header.encode("utf-8") if isinstance(header, str) else header
    if pad:
        h += b" " * (-(8 + len(h)) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + buffer


def entry(name, dtype, shape, begin, end):
    return (f'"{name}":{{"dtype":"{dtype}","shape":{list(shape)},'
            f'"data_offsets":[{begin},{end}]}}').replace(" ", "")


F32_2 = entry("w", "F32", [2], 0, 8)
ONE_F32 = struct.pack("<2f", 1.5, -2.0)

CASES = {
    # ---- accepted ----
    "ok_empty_header": (image("{}"), "OK"),
    "ok_unpadded": (image("{" + F32_2 + "}", ONE_F32, pad=False), "OK"),
    "ok_metadata_only": (image('{"__metadata__":{"a":"b","":""}}'), "OK"),
    "ok_escaped_names": (image('{"\\u00e9\\ud83d\\ude00\\n":{"dtype":"I32","shape":[],'
                               '"data_offsets":[0,4]},"\u4e2d":{"dtype":"BOOL","shape":[0],'
                               '"data_offsets":[4,4]}}', b"\x07\0\0\0"), "OK"),
    "ok_empty_tensors_share_offsets": (
        image("{" + entry("a", "F64", [0, 5], 0, 0) + "," + entry("b", "F16", [3, 0], 0, 0) +
              "," + F32_2 + "," + entry("c", "I64", [0], 8, 8) + "}", ONE_F32), "OK"),
    "ok_whitespace_everywhere": (image(' \n{ "w" :\t{ "shape" : [ 2 ] , "data_offsets" : '
                                       '[ 0 , 8 ] , "dtype" : "F32" } }\r\n', ONE_F32), "OK"),
    "ok_eight_dims": (image("{" + entry("w", "F32", [1] * 6 + [2, 1], 0, 8) + "}", ONE_F32),
                      "OK"),
    # ---- the length field ----
    "short_file": (b"\x05\0\0\0\0", "file is 5 bytes, shorter than the 8-byte header length"),
    "zero_header_length": (struct.pack("<Q", 0), "invalid JSON header at byte 0: expected a value"),
    "length_past_file": (image("{}", length=1000), "header length 1000 reaches past the end"),
    "length_absurd": (image("{}", length=2**64 - 1), "exceeds the limit of 100000000 bytes"),
    "length_too_short": (image("{" + F32_2 + "}", ONE_F32, length=5),
                         "expected a value, got the end of the header"),
    # ---- JSON ----
    "deep_nesting": (image('{"a":' + "[" * 5000 + "]" * 5000 + "}"), "nesting deeper than 64"),
    "huge_integer": (image("{" + entry("w", "F32", [2], 0, 8).replace("[2]", "[1" + "0" * 30 + "]")
                           + "}", ONE_F32), "integer does not fit in 64 bits"),
    "float_in_shape": (image('{"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', ONE_F32),
                       "only integers are supported"),
    "lone_surrogate": (image('{"\\ud800":{}}'), "high surrogate \\ud800 without"),
    "invalid_utf8": (image(b'{"\xc0\xaf":{}}'), "invalid UTF-8 at byte 2"),
    "nul_padding": (image(b"{}" + b"\0" * 6, pad=False), "unexpected '\\x00' after the end"),
    "trailing_garbage": (image("{} x"), "unexpected 'x' after the end of the JSON value"),
    "unterminated": (image('{"w":{"dtype":"F3'), "unterminated string"),
    "top_level_string": (image('"{}"'), "header is a string, expected a JSON object"),
    "literal_true": (image('{"w":true}'), "expected an object, array, string or integer"),
    # ---- entries ----
    "duplicate_names": (image("{" + F32_2 + "," + F32_2 + "}", ONE_F32), 'duplicate key "w"'),
    "missing_offsets": (image('{"w":{"dtype":"F32","shape":[2]}}', ONE_F32),
                        'missing field "data_offsets"'),
    "unknown_field": (image('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"pad":[]}}',
                            ONE_F32), 'unknown field "pad"'),
    "unknown_dtype": (image("{" + entry("w", "Q8", [2], 0, 8) + "}", ONE_F32),
                      "unknown dtype 'Q8'"),
    "foreign_dtype": (image("{" + entry("w", "F8_E4M3", [8], 0, 8) + "}", ONE_F32),
                      "dtype F8_E4M3 is not supported by descent"),
    "negative_dim": (image("{" + entry("w", "F32", [-2], 0, 8) + "}", ONE_F32),
                     "shape has negative dim -2"),
    "nine_dims": (image("{" + entry("w", "F32", [1] * 8 + [2], 0, 8) + "}", ONE_F32),
                  "shape has 9 dims, at most 8 allowed"),
    "shape_overflow": (image("{" + entry("w", "F32", [2**32, 2**32], 0, 8) + "}", ONE_F32),
                       "overflows 64-bit sizes"),
    # zero elements, but the row-major strides of the other dims would overflow int64
    "empty_with_huge_dims": (image("{" + entry("w", "F32", [0, 2**62, 2**62], 0, 0) + "}"),
                             "overflows 64-bit sizes"),
    "empty_with_huge_dims_zero_last": (
        image("{" + entry("w", "I64", [2**62, 2**62, 0], 0, 0) + "}"), "overflows 64-bit sizes"),
    "size_mismatch": (image("{" + entry("w", "F64", [2], 0, 8) + "}", ONE_F32),
                      "data_offsets [0, 8] hold 8 bytes, but shape [2] of F64 needs 16"),
    "metadata_number": (image('{"__metadata__":{"n":3}}'),
                        "metadata 'n' is an integer, expected a string"),
    "bool_byte_2": (image("{" + entry("m", "BOOL", [2], 0, 2) + "}", b"\x02\x01"),
                    "BOOL element 0 is byte 2, expected 0 or 1"),
    # ---- offsets ----
    "offsets_reversed": (image("{" + entry("w", "F32", [0], 8, 0) + "}", ONE_F32),
                         "end before they begin"),
    "offsets_past_buffer": (image("{" + F32_2 + "}", ONE_F32[:4]),
                            "reach past the data buffer (4 bytes)"),
    "offsets_overlap": (image("{" + F32_2 + "," + entry("v", "F32", [1], 4, 8) + "}", ONE_F32),
                        "overlap tensor"),
    "offsets_hole": (image("{" + entry("w", "F32", [1], 4, 8) + "}", ONE_F32),
                     "leave bytes [0, 4) of the buffer unused"),
    "trailing_bytes": (image("{" + F32_2 + "}", ONE_F32 + b"\0" * 8),
                       "the tensors end at byte 8 of the data buffer, but it holds 16 bytes"),
    "huge_offsets": (image("{" + entry("w", "F32", [2**61], 2**62, 2**62 + 2**63 - 8) + "}",
                           ONE_F32), "integer does not fit in 64 bits"),
}


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    lines = ["# <file> OK | <file> <substring of the expected error>; written by "
             "tests/oracle/safetensors_corpus.py"]
    for name, (data, expect) in sorted(CASES.items()):
        with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
            f.write(data)
        lines.append(f"{name}.safetensors {expect}")
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} files to {OUT}")


if __name__ == "__main__":
    main()
