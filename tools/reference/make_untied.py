#!/usr/bin/python3
"""PyTorch reference for horizon's untied output head (`model.tiedHead: false`).

Writes fixtures/reference/gpt2_untied_v1.safetensors, read by
src/runtime/reference_untied_test.ts: a tiny GPT-2 (vocab 128, d 16, 2 layers,
2 heads, 16 positions) with its own `lm_head.weight`, trained 5 explicit
steps (B=4, T=16, lr0 1e-3, weight decay 0.01, clip 1.0, double-shifted
objective) in fp32 and in bf16 storage.  Model and step: tiny_gpt2.py (the
make_reference.py contract at another size).  HF semantics checked here:
transformers' GPT2PreTrainedModel._init_weights gives an untied nn.Linear
head weight N(0, initializer_range = 0.02); HF Trainer decays it (it is
neither a bias nor a LayerNorm weight).

What the fixture pins beyond the arithmetic: the input embedding's rows of
tokens absent from a batch get an exactly zero gradient, and in bf16 storage
the rows of tokens absent from all 5 batches come out bit-identical to their
initial values (weight decay of lr*wd <= 1e-5 relative is below half a bf16
ulp), while in fp32 the same rows shrink by the decay alone.

Run:  /usr/bin/python3 tools/reference/make_untied.py   (Debian python3-torch)
Byte-identical across re-runs (single thread, fixed seeds).
Committed as gpt2_untied_v1.safetensors.br: run
`deno run -A tools/reference/compact.ts fixtures/reference/gpt2_untied_v1.safetensors`
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
import tiny_gpt2 as tg  # noqa: E402

VERSION = "1"
OUT_NAME = "gpt2_untied_v1.safetensors"
CFG = {"vocab": 128, "d": 16, "n_layer": 2, "n_head": 2, "n_pos": 16, "tied": False,
       "B": 4, "T": 16, "steps": 5, "lr0": 1e-3}
SEED_INIT = 2024
SEED_DATA = 5678
CASES = [("untied_fp32", "fp32"), ("untied_bf16", "bf16")]


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
    tensors = {"chunks": chunks}
    for n, t in init.items():
        tensors[f"init.{n}"] = t
    cases = {}
    steps = CFG["steps"]
    for name, precision in CASES:
        out, wd_mask = tg.train(CFG, init, chunks, precision == "bf16")
        # float32 values stored as F64 (exact): 5 float32s would leave the next
        # tensor's offset off a multiple of 8.
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
    absent = sorted(set(range(CFG["vocab"])) - set(chunks[:, :, :-1].flatten().tolist()))
    common = {
        "model": {k: CFG[k] for k in ("vocab", "d", "n_layer", "n_head", "n_pos", "tied")},
        "init": "init.* are float32; bf16 cases round them to nearest even first",
        "seeds": {"init": SEED_INIT, "data": SEED_DATA},
        "absent_inputs": absent,
        "blas_info": blas_info(),
    }
    metadata = {
        "magic": "horizon-reference",
        "version": VERSION,
        "torch": torch.__version__,
        "cases": json.dumps({"common": common, **cases}, separators=(",", ":")),
        "generator": "tools/reference/make_untied.py",
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    write_safetensors(args.out, tensors, metadata)
    with open(args.out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, {len(tensors)} tensors, sha256 {digest}")
    print(f"  {len(absent)} token ids are never an input in the {steps} batches")
    for name, _ in CASES:
        loss = tensors[f"{name}.loss"]
        after = tensors[f"{name}.after{steps}.transformer.wte.weight"]
        start = init["transformer.wte.weight"]
        if name.endswith("bf16"):
            start = tg.round_bf16(start)
        frozen = sum(int(torch.equal(after[r], start[r])) for r in absent)
        print(f"  {name}: loss {loss[0].item():.6f} -> {loss[-1].item():.6f}; "
              f"absent rows equal to their start: {frozen}/{len(absent)}")


if __name__ == "__main__":
    main()
