#!/usr/bin/python3
"""PyTorch reference for horizon's `bf16-pure` precision: the seeds' arithmetic.

The seed notebooks call `model.to(torch.bfloat16)` and train with HF Trainer's
`bf16=True`, which runs the forward under bf16 autocast.  This script runs the
same tiny GPT-2 as make_reference.py with bf16 PARAMETERS and lets PyTorch's
own autograd decide where every forward and backward tensor is bf16 (where a
gradient is rounded, in which order contributions are summed).  It writes
fixtures/reference/gpt2_tiny_bf16_pure_v1.safetensors (one case, `ln_bf16_pure`,
and its RMSNorm twin `rms_bf16_pure`), read by src/runtime/reference_bf16_pure_test.ts.
Committed as gpt2_tiny_bf16_pure_v1.safetensors.br: run
`deno run -A tools/reference/compact.ts fixtures/reference/gpt2_tiny_bf16_pure_v1.safetensors`
after this script (exact; see tools/reference/README.md).

Autocast.  Debian's torch is 1.13 on CPU, whose autocast op lists differ from
CUDA's (on CPU, layer_norm / softmax / pow are not run in float32).  The seeds
ran on a GPU backend with the CUDA-style lists, so the casts autocast would
insert are written out explicitly here, autocast itself stays off:
  - addmm / matmul / linear (lower-precision list): operands bf16, result bf16;
  - layer_norm, pow, rsqrt: float32 copies of the inputs, float32 result;
  - softmax (fp32_set_opt_dtype): `softmax(x, dtype=float32)`;
  - everything else runs in its inputs' dtype (type promotion: bf16 + float32
    is float32).
HF code around them: eager attention divides the scores by
`torch.full([], sqrt(head_dim), dtype=scores.dtype)` (bf16: 5.65625), masks
with `finfo(bf16).min`, casts the float32 softmax back with
`.type(value.dtype)`; the loss upcasts logits with `.float()`.

Kernels.  torch 1.13's CPU bf16 matmul, addmm, bmm and sum accumulate in
float32 and round once, like cuBLAS and CUDA reductions (checked on random
operands: every element equal to the float32 result rounded).  Its CPU
embedding backward accumulates in bf16 (98.5% of elements agree), unlike
CUDA's embedding_dense_backward, which accumulates in float32: the lookup
below uses a Function with the CUDA rule.

Optimizer.  HF's default optimizer with torch >= 2.8 is the fused AdamW, which
loads bf16 p, m, v and g to float32, updates, and rounds p, m, v once: the same
update make_reference.py writes out (`adamw_update(..., bf16=True)`).  Gradient
clipping is torch.nn.utils.clip_grad_norm_ on bf16 gradients: per-tensor norms
are bf16 tensors (float32 accumulation), so is their total norm, and
`max_norm / (total + 1e-6)` is `reciprocal(total + 1e-6) * max_norm`, each op
rounding; the gradients are multiplied in place (rounded).

Run:  /usr/bin/python3 tools/reference/make_bf16_pure.py   (Debian python3-torch)
then the compact.ts command it prints (fixture_io.py: byte-identical
re-runs; README.md, "Compaction").
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference as ref  # noqa: E402  (shared model layout, data, optimizer)
from fixture_io import blas_info, fixture_args, write_fixture  # noqa: E402

VERSION = "1"
OUT_NAME = "gpt2_tiny_bf16_pure_v1.safetensors"
BF16 = torch.bfloat16
F32 = torch.float32

CASES = [
    # name,             norm
    ("ln_bf16_pure", "layernorm"),
    ("rms_bf16_pure", "rmsnorm"),
]


class Lookup(torch.autograd.Function):
    """`weight[ids]` whose backward sums rows in float32 and rounds once
    (CUDA's embedding_dense_backward; torch 1.13's CPU kernel sums in bf16)."""

    @staticmethod
    def forward(ctx, weight, ids):
        ctx.save_for_backward(ids)
        ctx.rows = weight.shape[0]
        return weight[ids]

    @staticmethod
    def backward(ctx, grad):
        (ids,) = ctx.saved_tensors
        d = grad.shape[-1]
        acc = torch.zeros(ctx.rows, d, dtype=F32)
        acc.index_add_(0, ids.reshape(-1), grad.float().reshape(-1, d))
        return acc.to(BF16), None


def norm_pure(x, p, prefix, norm):
    w = p[prefix + ".weight"]
    if norm == "layernorm":
        # autocast: layer_norm on float32 copies of x, weight and bias
        return F.layer_norm(x.float(), (x.shape[-1],), w.float(), p[prefix + ".bias"].float(), ref.NORM_EPS)
    # the seeds' RMSNorm module, as written in 11.2a (rsqrt and pow in float32)
    h = x.to(F32)
    variance = h.pow(2).mean(-1, keepdim=True)
    h = h * torch.rsqrt(variance + ref.NORM_EPS)
    return w * h.to(x.dtype)


def conv1d(x, p, prefix):
    """HF Conv1D under autocast: addmm(bias, bf16(x).view(-1, in), weight)."""
    lead = x.shape[:-1]
    y = torch.addmm(p[prefix + ".bias"], x.to(BF16).reshape(-1, x.shape[-1]), p[prefix + ".weight"])
    return y.reshape(*lead, -1)


def gelu_new_autocast(u):
    # HF NewGELUActivation; autocast runs pow on a float32 copy of u.
    return 0.5 * u * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * torch.pow(u.float(), 3.0))))


def forward_pure(p, ids, norm):
    B, T = ids.shape
    d, H, hd = ref.D_MODEL, ref.N_HEAD, ref.HEAD_DIM
    x = Lookup.apply(p["transformer.wte.weight"], ids) + p["transformer.wpe.weight"][:T]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    mask_value = torch.full([], torch.finfo(BF16).min, dtype=BF16)
    for i in range(ref.N_LAYER):
        h = f"transformer.h.{i}."
        qkv = conv1d(norm_pure(x, p, h + "ln_1", norm), p, h + "attn.c_attn")
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = (t.reshape(B, T, H, hd).transpose(1, 2) for t in (q, k, v))
        s = torch.matmul(q, k.transpose(-1, -2))
        s = s / torch.full([], v.size(-1) ** 0.5, dtype=s.dtype)
        s = torch.where(causal, s, mask_value)
        w = torch.softmax(s, dim=-1, dtype=F32).type(v.dtype)
        y = torch.matmul(w, v).transpose(1, 2).reshape(B, T, d)
        x = x + conv1d(y, p, h + "attn.c_proj")
        u = conv1d(norm_pure(x, p, h + "ln_2", norm), p, h + "mlp.c_fc")
        x = x + conv1d(gelu_new_autocast(u), p, h + "mlp.c_proj")
    x = norm_pure(x, p, "transformer.ln_f", norm)
    return F.linear(x.to(BF16), p["transformer.wte.weight"])  # tied head, bf16 logits


def clip_bf16(grads, max_norm):
    """torch.nn.utils.clip_grad_norm_ on bf16 gradients (foreach path)."""
    norms = [torch.linalg.vector_norm(g.float()).to(BF16) for g in grads]
    total = torch.linalg.vector_norm(torch.stack(norms).float()).to(BF16)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return [g * coef for g in grads], total


def run_case(name, norm, chunks):
    names, wd_mask, p, m, v = ref.initial_state(norm, bf16=True)
    out, lrs = ref.case_start(name, names, p, chunks)
    losses, norms = [], []
    for t in range(ref.STEPS):
        chunk = chunks[t].long()
        leaves = {n: p[n].to(BF16).requires_grad_(True) for n in names}
        logits = forward_pure(leaves, chunk[:, :-1], norm)
        loss = ref.loss_fn(logits.float(), chunk, "double-shift")
        grads = torch.autograd.grad(loss, [leaves[n] for n in names])
        clipped, total = clip_bf16(grads, ref.CLIP_MAX_NORM)
        losses.append(loss.detach())
        norms.append(total.float())
        if t == 0:
            out[f"{name}.step0.logits"] = logits.detach().float()
            for n, g in zip(names, grads):
                out[f"{name}.step0.grad.{n}"] = g.float()
        g32 = {n: c.float() for n, c in zip(names, clipped)}
        ref.adamw_update(p, m, v, g32, t, lrs[t], wd_mask, True)
        if t == 0:
            # The moments after 1 (make_reference.py's after1.m/v) are left
            # out: no test reads them, and they were 0.5 MB of the fixture.
            for n in names:
                out[f"{name}.after1.{n}"] = p[n].clone()
    ref.case_end(out, name, names, p, losses, norms)
    return out, ref.case_entry(norm, "bf16-pure", "double-shift", 0.0, wd_mask, p)


def main():
    args = fixture_args(__doc__, OUT_NAME)
    chunks = ref.make_chunks()
    tensors, cases = {}, {}
    for name, norm in CASES:
        out, desc = run_case(name, norm, chunks)
        tensors.update(out)
        cases[name] = desc
    write_fixture(args.out, tensors, VERSION, cases, __file__, blas_info=blas_info())
    ref.summarise(tensors, cases)


if __name__ == "__main__":
    main()
