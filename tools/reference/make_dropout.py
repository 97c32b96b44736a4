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
Byte-identical across re-runs (single thread, fixed seeds).
Committed as gpt2_dropout_v1.safetensors.br: run
`deno run -A tools/reference/compact.ts fixtures/reference/gpt2_dropout_v1.safetensors`
after this script (exact; see tools/reference/README.md).
"""

import argparse
import hashlib
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import blas_info, write_safetensors  # noqa: E402
from make_pcg32_cases import Pcg32  # noqa: E402
import tiny_gpt2 as tg  # noqa: E402

VERSION = "1"
OUT_NAME = "gpt2_dropout_v1.safetensors"
CFG = {"vocab": 128, "d": 16, "n_layer": 2, "n_head": 2, "n_pos": 16, "tied": True,
       "B": 4, "T": 16, "steps": 5, "lr0": 1e-3}
P = {"embd": 0.1, "attn": 0.1, "resid": 0.1}
SEED_INIT = 2024
SEED_DATA = 5678
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
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "..", "fixtures", "reference", OUT_NAME)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.normpath(default_out))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    chunks, _ = tg.make_chunks(CFG, SEED_DATA)
    init = tg.init_params(CFG, torch.Generator().manual_seed(SEED_INIT))
    masks = make_masks()
    all_masks = torch.cat([flat(m) for m in masks])
    digest = hashlib.sha256(all_masks.numpy().astype("<f4").tobytes()).hexdigest()
    tensors = {"chunks": chunks}
    for n, t in init.items():
        tensors[f"init.{n}"] = t
    cases = {}
    steps = CFG["steps"]
    for name, precision in CASES:
        out, wd_mask = tg.train(CFG, init, chunks, precision == "bf16", lambda t: masks[t])
        # float32 values stored as F64 (exact), keeping offsets multiples of 8.
        tensors[f"{name}.loss"] = out["loss"].double()
        tensors[f"{name}.grad_norm"] = out["grad_norm"].double()
        for n, g in out["grad0"].items():
            tensors[f"{name}.step0.grad.{n}"] = g
        for n, t in out["after"][-1].items():
            tensors[f"{name}.after{steps}.{n}"] = t
        if precision == "fp32":
            tensors[f"{name}.step0.logits"] = out["logits0"]
        cases[name] = {"precision": precision, "B": CFG["B"], "T": CFG["T"], "steps": steps,
                       "lr0": CFG["lr0"], "weight_decay": 0.01, "weight_decay_mask": wd_mask}
    common = {
        "model": {k: CFG[k] for k in ("vocab", "d", "n_layer", "n_head", "n_pos", "tied")},
        "dropout": P,
        "init": "init.* are float32; bf16 cases round them to nearest even first",
        "seeds": {"init": SEED_INIT, "data": SEED_DATA, "masks": MASK_SEED, "mask_stream": MASK_STREAM},
        "mask_elements_per_step": int(all_masks.numel() // steps),
        "mask_dropped": int((all_masks == 0).sum()),
        "mask_sha256": digest,
        "blas_info": blas_info(),
    }
    metadata = {
        "magic": "horizon-reference",
        "version": VERSION,
        "torch": torch.__version__,
        "cases": json.dumps({"common": common, **cases}, separators=(",", ":")),
        "generator": "tools/reference/make_dropout.py",
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    write_safetensors(args.out, tensors, metadata)
    with open(args.out, "rb") as f:
        file_digest = hashlib.sha256(f.read()).hexdigest()
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, {len(tensors)} tensors, sha256 {file_digest}")
    print(f"  masks: {all_masks.numel()} elements over {steps} steps, {common['mask_dropped']} dropped, sha256 {digest}")
    for name, precision in CASES:
        plain, _ = tg.train(CFG, init, chunks, precision == "bf16")
        loss = tensors[f"{name}.loss"]
        print(f"  {name}: loss {loss[0].item():.6f} -> {loss[-1].item():.6f} "
              f"(without dropout {plain['loss'][0].item():.6f} -> {plain['loss'][-1].item():.6f})")


if __name__ == "__main__":
    main()
