#!/usr/bin/env python3
"""Writes fixtures/bf16/rounding_cases.json: float32 -> bfloat16 by PyTorch.

Each case is a float32 bit pattern and the bfloat16 bit pattern PyTorch gives
it with `t.to(torch.bfloat16)`; src/train/bf16_test.ts checks horizon's
host-side rounding against them bit for bit. The generator also checks torch
against a few lines of integer arithmetic (round to nearest even on the
bit pattern), so the fixture has two independent witnesses.

NaN inputs are listed apart: torch's vectorised CPU conversion writes 0xFFFF
for them while its scalar conversion writes 0x7FC0, so only "NaN stays NaN"
is a contract.

Run with Debian's python3-torch (not a pyenv python):
    /usr/bin/python3 tools/reference/make_bf16_cases.py
"""

import json
import os
import random
import struct

import torch

SEED = 20240611


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def is_nan_bits(u):
    return (u & 0x7FFFFFFF) > 0x7F800000


def int_rne(u):
    # Independent witness: round-to-nearest-even on the 32-bit pattern.
    hi, lo = u >> 16, u & 0xFFFF
    if lo > 0x8000 or (lo == 0x8000 and hi & 1):
        hi += 1
    return hi & 0xFFFF


def torch_bf16(bits):
    signed = [b - (1 << 32) if b >= 1 << 31 else b for b in bits]
    t = torch.tensor(signed, dtype=torch.int32).view(torch.float32)
    return [int(v) & 0xFFFF for v in t.to(torch.bfloat16).view(torch.int16).tolist()]


def inputs():
    rng = random.Random(SEED)
    out = []
    # Signed zeros and infinities.
    out += [0x00000000, 0x80000000, 0x7F800000, 0xFF800000]
    # Every power of two, subnormal ones included, both signs.
    for e in range(-149, 128):
        b = f32_bits(2.0**e)
        out += [b, b | 0x80000000]
    # Ties and near-ties after even and odd kept halves, normal and subnormal.
    his = [0x3F80, 0x3F81, 0x0000, 0x0001, 0x007F, 0x0080, 0x0081, 0x7F7E, 0x7F7F]
    his += [rng.randrange(0, 0x7F80) for _ in range(40)]
    for hi in his:
        for lo in (0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF):
            for sign in (0, 0x80000000):
                out.append(sign | (hi << 16) | lo)
    # The top of the range: max float32, max bf16, the smallest value that
    # rounds to infinity (a tie after the odd 0x7F7F) and the one below it.
    out += [0x7F7FFFFF, 0x7F7F0000, 0x7F7F8000, 0x7F7F7FFF, 0xFF7F8000, 0xFF7FFFFF]
    # The subnormal/normal boundary.
    out += [0x00800000, 0x007FFFFF, 0x007F8000, 0x007F7FFF, 0x80800000, 0x807FFFFF]
    # Random bit patterns (uniform over all exponents) ...
    while len(out) < 3500:
        u = rng.getrandbits(32)
        if not is_nan_bits(u):
            out.append(u)
    # ... and values of the magnitudes training sees.
    for scale in (1.0, 0.02, 1e-3, 3e-6, 1e-8, 100.0):
        for _ in range(250):
            out.append(f32_bits(rng.gauss(0.0, scale)))
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "fixtures", "bf16", "rounding_cases.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)

    bits = inputs()
    got = torch_bf16(bits)
    for u, b in zip(bits, got):
        assert b == int_rne(u), f"torch and integer RNE disagree on {u:#010x}"

    nans = [0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FBFFFFF]
    nan_out = torch_bf16(nans)
    for b in nan_out:
        assert (b & 0x7FFF) > 0x7F80, f"torch turned a NaN into {b:#06x}"

    doc = {
        "generator": "tools/reference/make_bf16_cases.py",
        "torch": torch.__version__,
        "note": "cases: [float32 bits, bfloat16 bits] from torch "
        "t.to(torch.bfloat16), checked against integer round-to-nearest-even. "
        "nanInputs: float32 NaN bit patterns (torch gives some NaN; the bits "
        "differ between its scalar and vector paths).",
        "cases": [[u, b] for u, b in zip(bits, got)],
        "nanInputs": nans,
    }
    with open(path, "w") as f:
        f.write("{\n")
        for key in ("generator", "torch", "note"):
            f.write(f" {json.dumps(key)}: {json.dumps(doc[key])},\n")
        f.write(' "nanInputs": ' + json.dumps(doc["nanInputs"]) + ",\n")
        f.write(' "cases": [\n')
        f.write(",\n".join(f"  [{u}, {b}]" for u, b in doc["cases"]))
        f.write("\n ]\n}\n")
    print("wrote", path, len(bits), "cases")


if __name__ == "__main__":
    main()
