#!/usr/bin/python3
"""Replay a horizon run in PyTorch from its exported trace.

`deno task run <id> --steps N --trace` writes, under .cache/traces/,
  <id>-<tier>-seed<seed>[-<N>steps].safetensors  init.<param> (F32), offsets [N, B]
                                            (I32), loss [N] (F32); metadata
                                            "config" = the run's TrainConfig
  <id>-<tier>-seed<seed>[-<N>steps].noise.safetensors  noise [N, V, d] (runs with noise)
This script re-trains those N steps with the plain-torch model and step of
make_reference.py (same double-shift loss, clipping, fused-AdamW order, bf16
storage rounding, post-step noise) and prints the per-step loss next to the
loss horizon recorded, plus how many final parameters agree bit for bit.

    /usr/bin/python3 tools/reference/replay_trace.py .cache/traces/11.2b-jiggling-smoke-seed42-12steps [corpus]

Only the seed architecture (vocab 128, d 64, 2 layers, 2 heads, context 128)
is supported, as in make_reference.py.
"""

import json
import math
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference as ref  # noqa: E402  (the one model definition)

DTYPES = {"F32": torch.float32, "I32": torch.int32, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out, meta


def main():
    prefix = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    corpus_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "../../fixtures/corpus/brown.txt")
    trace, meta = read_safetensors(prefix + ".safetensors")
    cfg = json.loads(meta["config"])
    norm = cfg["model"]["norm"]
    bf16 = cfg["precision"] == "bf16"
    T, max_steps, lr0 = cfg["seqLen"], cfg["maxSteps"], cfg["adamw"]["lr"]
    assert cfg["model"]["vocabSize"] == ref.VOCAB and cfg["model"]["dModel"] == ref.D_MODEL
    noise = None
    if cfg.get("noise"):
        noise = read_safetensors(prefix + ".noise.safetensors")[0]["noise"].to(torch.float32)
    corpus = torch.tensor(list(open(corpus_path, "rb").read()), dtype=torch.int64)

    shapes = ref.param_shapes(norm)
    names = [n for n, _ in shapes]
    p = {n: trace["init." + n].reshape(s).clone() for n, s in shapes}
    m = {n: torch.zeros_like(t) for n, t in p.items()}
    v = {n: torch.zeros_like(t) for n, t in p.items()}
    wd_mask = {n: ref.decays(n, norm) for n in names}
    offsets, recorded = trace["offsets"], trace["loss"]
    worst = 0.0
    print(f"{'step':>5} {'horizon loss':>14} {'torch loss':>14} {'rel diff':>10}")
    for t in range(offsets.shape[0]):
        chunk = torch.stack([corpus[o : o + T + 1] for o in offsets[t].tolist()])
        loss, _, g = ref.loss_and_grads(p, names, chunk, norm, cfg["objective"])
        sq = torch.zeros(())
        for n in names:
            sq = sq + (g[n] * g[n]).sum()
        coef = torch.clamp(ref.f32(1.0) / (torch.sqrt(sq) + ref.f32(1e-6)), max=1.0)
        g = {n: g[n] * coef for n in names}
        ref.adamw_update(p, m, v, g, t, lr0 * (float(max_steps - t) / float(max_steps)), wd_mask, bf16)
        if noise is not None:
            w = cfg["noise"]["param"]
            p[w] = p[w] + noise[t]
            if bf16:
                p[w] = ref.round_bf16(p[w])
        rel = abs(float(loss) - float(recorded[t])) / abs(float(recorded[t]))
        worst = max(worst, rel)
        print(f"{t + 1:5d} {float(recorded[t]):14.7f} {float(loss):14.7f} {rel:10.2e}")
    print(f"worst relative loss difference over {offsets.shape[0]} steps: {worst:.2e}")
    wte = p["transformer.wte.weight"]
    rows = {tuple(r.view(torch.int32).tolist()) for r in wte}
    print(f"torch replay: {len(rows)} distinct wte rows of {wte.shape[0]}")


if __name__ == "__main__":
    main()
