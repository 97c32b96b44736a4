#!/usr/bin/python3
"""PyTorch reference for horizon's dropout (`model.dropout`), HF GPT-2's three
probabilities at their defaults (embd_pdrop = attn_pdrop = resid_pdrop = 0.1).

Writes fixtures/reference/gpt2_dropout_v1.safetensors, read by
src/runtime/reference_dropout_test.ts: the tiny GPT-2 of tiny_gpt2.py (vocab
128, d 16, 2 layers, 2 heads, 16 positions, tied head) trained 5 explicit
steps (B=4, T=16, lr0 1e-3, weight decay 0.01, clip 1.0, double-shifted
objective) in fp32 and in bf16 storage, with every nn.Dropout replaced by a
product with a given mask: after wte + wpe, on the attention probabilities,
after attn.c_proj and after mlp.c_proj (HF's GPT2Model.drop, attn_dropout,
resid_dropout, GPT2MLP.dropout).

The masks are horizon's host stream, drawn here by an independent PCG32
(make_pcg32_cases.py's, Python integers): seed MASK_SEED, stream 5
(Stream.dropout in src/data/rng.ts); per step, in this order, the embd mask
[B, T, d], then per block the attention mask [B, H, T, T], the attn_resid and
mlp masks [B, T, d]; per element one 32-bit draw u, dropped (0) when
u / 2^32 < p, else 1/(1-p) rounded to float32.  Only a SHA-256 of the masks'
float32 bytes is stored (metadata `common.mask_sha256`); the test draws them
with horizon's generator and checks that digest before feeding them.

Run:  /usr/bin/python3 tools/reference/make_dropout.py   (Debian python3-torch)
then the compact.ts command it prints (fixture_io.py: byte-identical
re-runs; README.md, "Compaction").
"""

import hashlib
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import fixture_args, write_fixture  # noqa: E402
from make_pcg32_cases import Pcg32  # noqa: E402
import tiny_gpt2 as tg  # noqa: E402

VERSION = "1"
OUT_NAME = "gpt2_dropout_v1.safetensors"
CFG = tg.small_config(tied=True)
P = {"embd": 0.1, "attn": 0.1, "resid": 0.1}
MASK_SEED = 42
MASK_STREAM = 5  # Stream.dropout
CASES = [("dropout_fp32", "fp32"), ("dropout_bf16", "bf16")]


def draw(rng, shape, p):
    """One mask: a draw per element, row-major."""
    n = 1
    for s in shape:
        n *= s
    keep = float(torch.tensor(1.0 / (1.0 - p), dtype=torch.float32))
    vals = [0.0 if rng.next() < p * 4294967296.0 else keep for _ in range(n)]
    return torch.tensor(vals, dtype=torch.float32).reshape(shape)


def make_masks():
    """Every step's masks, as forward() takes them, from one PCG32 stream."""
    rng = Pcg32(MASK_SEED, MASK_STREAM)
    B, T, d, H, L = CFG["B"], CFG["T"], CFG["d"], CFG["n_head"], CFG["n_layer"]
    steps = []
    for _ in range(CFG["steps"]):
        m = {"embd": draw(rng, (B, T, d), P["embd"]), "attn": [], "attn_resid": [], "mlp": []}
        for _ in range(L):
            m["attn"].append(draw(rng, (B, H, T, T), P["attn"]))
            m["attn_resid"].append(draw(rng, (B, T, d), P["resid"]))
            m["mlp"].append(draw(rng, (B, T, d), P["resid"]))
        steps.append(m)
    return steps


def flat(m):
    """A step's masks in the stream's order, as one float32 vector."""
    parts = [m["embd"].flatten()]
    for i in range(CFG["n_layer"]):
        parts += [m["attn"][i].flatten(), m["attn_resid"][i].flatten(), m["mlp"][i].flatten()]
    return torch.cat(parts)


def main():
    args = fixture_args(__doc__, OUT_NAME)
    chunks, init = tg.start(CFG)
    masks = make_masks()
    all_masks = torch.cat([flat(m) for m in masks])
    digest = hashlib.sha256(all_masks.numpy().astype("<f4").tobytes()).hexdigest()
    tensors, cases = tg.fixture_cases(CFG, chunks, init, CASES, lambda t: masks[t])
    common = tg.common_entry(
        CFG,
        {"masks": MASK_SEED, "mask_stream": MASK_STREAM},
        after_model={"dropout": P},
        mask_elements_per_step=int(all_masks.numel() // CFG["steps"]),
        mask_dropped=int((all_masks == 0).sum()),
        mask_sha256=digest,
    )
    write_fixture(args.out, tensors, VERSION, {"common": common, **cases}, __file__)
    print(f"  masks: {all_masks.numel()} elements over {CFG['steps']} steps, "
          f"{common['mask_dropped']} dropped, sha256 {digest}")
    for name, precision in CASES:
        plain, _ = tg.train(CFG, init, chunks, precision == "bf16")
        loss = tensors[f"{name}.loss"]
        print(f"  {name}: loss {loss[0].item():.6f} -> {loss[-1].item():.6f} "
              f"(without dropout {plain['loss'][0].item():.6f} -> {plain['loss'][-1].item():.6f})")


if __name__ == "__main__":
    main()
