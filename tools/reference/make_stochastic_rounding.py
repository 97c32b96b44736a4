#!/usr/bin/python3
"""PyTorch reference for horizon's stochastic rounding of the stored parameters.

Writes fixtures/reference/gpt2_tiny_sr_v1.safetensors: the `ln_bf16` case of
make_reference.py (same model, init, batches and AdamW; LayerNorm, bf16
storage, double-shift) trained for 4 steps with the parameters rounded to
bf16 STOCHASTICALLY after every update, the moments to nearest-even.

The 16 random bits of each element come from the same host stream horizon
draws: PCG32 (pcg-c-basic, here in Python big integers from
make_pcg32_cases.py, sharing no code with src/data/rng.ts) seeded with the
run seed on stream 4 (`Stream.rounding`), one 32-bit draw per parameter per
step in HF state-dict order, its top 16 bits r. The rounding is the
bit-level rule of torchao's `_fp32_to_bf16_sr`, written on int32 views here:
x rounds away from zero iff r < (bits(x) & 0xFFFF), else the low 16 bits are
cleared; -0 becomes +0. horizon's graph derives the same choice in float32
arithmetic (no bitcast), so this is an independent derivation of it.

Stored (the init and batches are make_reference.py's `ln_bf16.init.*` and
`ln_bf16.chunks[0:4]`, read by the Deno test from gpt2_tiny_v1.safetensors,
committed compacted as gpt2_tiny_v1.safetensors.br, so they are not repeated
here):

    sr.loss, sr.grad_norm   F32 [4]     per step, before its update
    sr.lr                   F64 [4]     lr_t = lr0 * ((4 - t) / 4)
    sr.after1.params        BF16 [116480]  every parameter after update 1,
                                           flat, in state-dict order
    sr.after4.wte           BF16 [128, 64] the token embedding after update 4

About 250 KB. Header metadata: magic `horizon-reference`, version `1`,
generator, torch, and `cases` (JSON: the case and the stream).

Run:  /usr/bin/python3 tools/reference/make_stochastic_rounding.py   (Debian python3-torch)
then the compact.ts command it prints (fixture_io.py: byte-identical
re-runs; README.md, "Compaction").
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference as mr  # noqa: E402
from fixture_io import fixture_args, write_fixture  # noqa: E402
from make_pcg32_cases import Pcg32  # noqa: E402

VERSION = "1"
OUT_NAME = "gpt2_tiny_sr_v1.safetensors"
STEPS = 4
SEED = 42  # the run seed whose stream 4 drives the rounding
ROUNDING_STREAM = 4
NORM = "layernorm"
F32 = torch.float32


def uniform_bits(rng, n):
    """The step's 16-bit draws r, one per element (top bits of each draw)."""
    return torch.tensor([rng.next() >> 16 for _ in range(n)], dtype=torch.int32)


def stochastic_round_bf16(x, r):
    """x float32, r int32 in [0, 2^16): bf16 values (held in float32) by the
    bit rule, -0 -> +0."""
    bits = x.contiguous().view(torch.int32)
    frac = bits & 0xFFFF
    trunc = bits & -65536  # 0xFFFF0000 as int32
    out = torch.where(r < frac, trunc + 0x10000, trunc)
    return out.view(F32) + 0.0


def lr_at(t):
    return mr.lr_at(t, STEPS)


def run():
    names, wd_mask, p, m, v = mr.initial_state(NORM, bf16=True)
    chunks = mr.make_chunks()[:STEPS]
    rng = Pcg32(SEED, ROUNDING_STREAM)
    out, losses, norms = {}, [], []
    for t in range(STEPS):
        chunk = chunks[t].long()
        loss, _, g = mr.loss_and_grads(p, names, chunk, NORM, "double-shift")
        g, gnorm = mr.clip_grads(g, names)
        losses.append(loss)
        norms.append(gnorm)
        # The update unrounded, then each stored vector rounded once.
        mr.adamw_update(p, m, v, g, t, lr_at(t), wd_mask, bf16=False)
        for n in names:  # state-dict order: the order of the draws
            r = uniform_bits(rng, p[n].numel()).reshape(p[n].shape)
            p[n] = stochastic_round_bf16(p[n], r)
            m[n], v[n] = mr.round_bf16(m[n]), mr.round_bf16(v[n])
        if t == 0:
            out["sr.after1.params"] = torch.cat([p[n].reshape(-1) for n in names])
    out[f"sr.after{STEPS}.wte"] = p["transformer.wte.weight"].clone()
    out["sr.loss"] = torch.stack(losses)
    out["sr.grad_norm"] = torch.stack(norms)
    out["sr.lr"] = torch.tensor([lr_at(t) for t in range(STEPS)], dtype=torch.float64)
    return out


def main():
    args = fixture_args(__doc__, OUT_NAME)
    raw = run()
    # after1 and after4 are bf16 values: stored as BF16, exactly.
    tensors = {k: (t.to(torch.bfloat16) if ".after" in k else t) for k, t in raw.items()}
    for k in raw:
        if ".after" in k:
            assert torch.equal(tensors[k].to(F32), raw[k]), k
    case = {
        "norm": NORM, "precision": "bf16", "rounding": "stochastic", "objective": "double-shift",
        "B": mr.BATCH, "T": mr.CONTEXT, "steps": STEPS, "lr0": mr.LR0,
        "init_and_chunks": "gpt2_tiny_v1.safetensors ln_bf16.init.*, ln_bf16.chunks[0:4]",
        "seed": SEED, "stream": ROUNDING_STREAM,
        "uniforms": "per step, per parameter in state-dict order, per element: r = pcg32() >> 16",
        "rule": "away from zero iff r < (bits & 0xFFFF), else bits & 0xFFFF0000; -0 -> +0; moments nearest-even",
        "param_count": sum(raw["sr.after1.params"].shape),
    }
    write_fixture(args.out, tensors, VERSION, {"sr": case}, __file__)
    print("  loss", [round(x, 6) for x in raw["sr.loss"].tolist()],
          "grad_norm", [round(x, 6) for x in raw["sr.grad_norm"].tolist()])


if __name__ == "__main__":
    main()
