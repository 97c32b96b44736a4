"""What every generator in tools/reference/ does around its own arithmetic:
its command line (`--out`, defaulting to fixtures/reference/<name>), the
deterministic torch setup, the header metadata and the safetensors writer.

A generator's output is byte-identical across re-runs on the same packages
(one thread, fixed seeds, no timestamps in the metadata); what is committed
is that file compacted by compact.ts (exact: duplicates aliased, bf16 values
as BF16, Brotli; README.md, "Compaction"), whose command write_fixture prints.

The bytes are part of each fixture's contract (README.md, "Regenerate"): the
header is compact JSON in insertion order, so the key order of the metadata
and of the `cases` entries matters, and the tensors lie in sorted-name order,
every offset a multiple of 8.
"""

import argparse
import hashlib
import json
import os
import re
import struct

import torch

MAGIC = "horizon-reference"

# dtype -> (safetensors code, little-endian numpy layout of the stored bits).
# BF16 is written through an int16 view: numpy has no bfloat16.
DTYPES = {
    torch.float32: ("F32", "<f4"),
    torch.float64: ("F64", "<f8"),
    torch.int32: ("I32", "<i4"),
    torch.bfloat16: ("BF16", "<i2"),
}


def fixture_args(doc, out_name):
    """Parses `--out` (default fixtures/reference/<out_name>) and makes torch
    deterministic: one thread (fixed summation order in CPU kernels) and a
    fixed global seed, though every draw uses its own generator."""
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "..", "fixtures", "reference", out_name)
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--out", default=os.path.normpath(default_out))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    return args


def blas_info():
    """BLAS_INFO from torch's build config ("generic" = system libblas.so.3)."""
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def tensor_bytes(t):
    """The raw little-endian bytes of a tensor (bf16 as its 16-bit patterns)."""
    t = t.contiguous()
    layout = DTYPES[t.dtype][1]
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().astype(layout, copy=False).tobytes()


def write_safetensors(path, tensors, metadata):
    """8-byte LE header length, JSON header (padded with spaces to a multiple
    of 8), then raw little-endian data, tensors contiguous in sorted-name
    order.  Every offset is also a multiple of 8 here (asserted), so readers
    may view the data as Float64Array/Float32Array without copying."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = tensor_bytes(t)
        assert offset % 8 == 0, name
        header[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def write_fixture(path, tensors, version, cases, generator, **extra_metadata):
    """Writes a fixture with the common header metadata (magic, version,
    torch, `cases` as compact JSON, the generator's path, then
    `extra_metadata` in the order given), prints its size and sha256 and
    returns the digest.  `generator` is the script's `__file__`."""
    metadata = {
        "magic": MAGIC,
        "version": version,
        "torch": torch.__version__,
        "cases": json.dumps(cases, separators=(",", ":")),
        "generator": f"tools/reference/{os.path.basename(generator)}",
        **extra_metadata,
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_safetensors(path, tensors, metadata)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"wrote {path}: {os.path.getsize(path)} bytes, {len(tensors)} tensors, sha256 {digest}")
    print(f"  commit it compacted: node_modules/.bin/deno run -A tools/reference/compact.ts {path}")
    return digest
