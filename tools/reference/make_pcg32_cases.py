#!/usr/bin/env python3
"""Writes fixtures/rng/pcg32_cases.json: reference draws for src/train/rng.ts.

An independent implementation of pcg-c-basic (M. E. O'Neill, pcg_basic.c) with
Python's arbitrary-precision integers, so it shares no code and no 32-bit
carry tricks with the TypeScript generator. It also derives, with the same
formulas the TypeScript module documents, the 53-bit floats and the
Box-Muller normals, using Python's math library (glibc) rather than V8's.

Run (no third-party packages needed):
    /usr/bin/python3 tools/reference/make_pcg32_cases.py
"""

import json
import math
import os
import sys

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
MULT = 6364136223846793005


class Pcg32:
    def __init__(self, initstate, initseq):
        # pcg32_srandom_r
        self.state = 0
        self.inc = ((initseq << 1) | 1) & MASK64
        self.next()
        self.state = (self.state + initstate) & MASK64
        self.next()

    def next(self):
        # pcg32_random_r: XSH-RR output of the OLD state.
        old = self.state
        self.state = (old * MULT + self.inc) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & MASK32
        rot = old >> 59
        return ((xorshifted >> rot) | (xorshifted << ((-rot) & 31))) & MASK32

    def bounded(self, bound):
        # pcg32_boundedrand_r; bound = 2**32 cannot occur in C, it is the
        # plain 32-bit draw.
        if bound == 1 << 32:
            return self.next()
        threshold = ((1 << 32) - bound) % bound
        while True:
            r = self.next()
            if r >= threshold:
                return r % bound

    def float64(self):
        # 53 random bits, first draw gives the high 27, second the low 26.
        a = self.next() >> 5
        b = self.next() >> 6
        return (a * 67108864 + b) / 9007199254740992.0

    def normal_pair(self):
        u1 = 1.0 - self.float64()  # in (0, 1], so log(u1) is finite
        u2 = self.float64()
        r = math.sqrt(-2.0 * math.log(u1))
        theta = 2.0 * math.pi * u2
        return r * math.cos(theta), r * math.sin(theta)


SEEDS = [
    (42, 54),
    (0, 0),
    (1, 1),
    (2**53 - 1, 7),
    (2**64 - 1, 2**64 - 1),
    (0x853C49E6748FEA9B, 0xDA3E39CB94B95BDB),
]
BOUNDS = [1, 2, 3, 6, 7, 52, 1000, 2**31 + 1, 3 * 2**30, 2**32 - 1, 2**32]


def case(seed, seq):
    g = Pcg32(seed, seq)
    out = {
        "seed": str(seed),
        "stream": str(seq),
        "state": str(g.state),
        "inc": str(g.inc),
    }
    out["uint32"] = [g.next() for _ in range(64)]
    # Value number 100000 (0-based index 99999) checks long-run carries.
    g = Pcg32(seed, seq)
    for _ in range(99999):
        g.next()
    out["uint32At99999"] = g.next()
    out["below"] = {}
    for b in BOUNDS:
        g = Pcg32(seed, seq)
        out["below"][str(b)] = [g.bounded(b) for _ in range(16)]
    g = Pcg32(seed, seq)
    out["float64"] = [repr(g.float64()) for _ in range(16)]
    g = Pcg32(seed, seq)
    normals = []
    for _ in range(8):
        normals.extend(g.normal_pair())
    out["normal"] = [repr(z) for z in normals]
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "fixtures", "rng", "pcg32_cases.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    doc = {
        "generator": "tools/reference/make_pcg32_cases.py",
        "python": sys.version.split()[0],
        "note": "pcg-c-basic pcg32_srandom_r / pcg32_random_r / "
        "pcg32_boundedrand_r in Python big integers; float64 = "
        "((a>>5)*2^26 + (b>>6)) / 2^53; normal = Box-Muller with "
        "u1 = 1 - float64(), u2 = float64(), (r cos, r sin) in that order. "
        "Seeds and states are decimal strings (64-bit).",
        "cases": [case(s, q) for s, q in SEEDS],
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
