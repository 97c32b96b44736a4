#!/usr/bin/python3
"""llm.c-style PyTorch reference for horizon's trainer.

Writes fixtures/reference/gpt2_tiny_v1.safetensors: a tiny GPT-2 (HF
GPT2LMHeadModel semantics, pre-LN, tied lm_head) trained for 10 explicit AdamW
steps in six cases (layernorm/rmsnorm x fp32/bf16, next-token objective, bf16 +
embedding noise).  horizon's Deno test loads the initial weights and batches,
runs its own compiled ONNX step and compares logits, loss, gradients, grad norm
and the state after 1 and 10 updates with explicit tolerances.

Everything the optimizer does is written out by hand (no torch.optim) in the
exact float32 order horizon's graph uses, so the only differences the Deno test
should see are float32 reduction-order / transcendental noise.

Run:  /usr/bin/python3 tools/reference/make_reference.py   (Debian python3-torch)
then the compact.ts command it prints (fixture_io.py: byte-identical
re-runs; README.md, "Compaction").

Float32 vs float64: float64_check() re-runs every case with float64 tensors
(same weights, batches, noise, float32 host scalars; bf16 cases still round
p, m, v to bf16) and prints max |f32 - f64|, to give the Deno tolerances an
independent scale of plain float32 noise.  torch 1.13.0a0, CPU, 1 thread:
    ln_fp32  step0 logits    2.87e-07  (max |logit| 0.987)
    ln_fp32  loss, 10 steps  9.48e-07  (loss 4.71)
    ln_fp32  grad_norm       7.0e-07   (grad_norm up to 2.1)
    ln_fp32  step0 grads     5.1e-08   (max |grad| 0.219)
    ln_fp32  after1 m / v    3.7e-09 / 5.4e-12
    fp32 cases after1/after10 params: max 7.3e-06 (ln_fp32), 2.5e-05
        (ln_fp32_next), but only 2..24 of ~116k elements differ by more than
        1e-6.  Adam's first steps are ~lr*g/(|g|+eps), i.e. ~lr*sign(g), so the
        ~6.8k elements with |g| < 1e-6, where float32 cancellation noise is a
        large part of g, move differently.  Extreme case: the KEY part of
        c_attn.bias ([64:128]) has a mathematically zero gradient (a constant
        added to every key shifts a score row uniformly; softmax ignores it):
        float32 gives |g| ~ 1e-11, float64 ~ 1e-20, and Adam turns that noise
        into moves of ~lr*|g|/eps ~ 4e-7 per step.
    bf16 cases: 129..131 elements differ after 1 step, 204..482 after 10;
        max |diff| 1.5e-05 after 1 step and 2.44e-04 (one bf16 ulp at |p| ~
        0.03) after 10; m 1.9e-06, v 1.2e-10 after 1 step.
So the Deno test should compare logits/loss/grad_norm/grads tightly (absolute,
~1e-5 / 1e-6) and the updated state with lr-scale absolute tolerances plus a
bound on how many elements may differ (see README.md), never bit-exactly and
never relatively for near-zero elements.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import blas_info, fixture_args, write_fixture  # noqa: E402

# ----------------------------------------------------------------------------
# Fixed contract (bump VERSION and the file name when any of this changes)
# ----------------------------------------------------------------------------
VERSION = "1"
OUT_NAME = "gpt2_tiny_v1.safetensors"

VOCAB = 128
D_MODEL = 64
N_LAYER = 2
N_HEAD = 2
HEAD_DIM = D_MODEL // N_HEAD  # 32
N_POS = 128
NORM_EPS = 1e-5

BATCH = 4
CONTEXT = 32
STEPS = 10
LR0 = 1e-3
WEIGHT_DECAY = 0.01
BETA1, BETA2 = 0.9, 0.999
ADAM_EPS = 1e-8
CLIP_MAX_NORM = 1.0
CLIP_EPS = 1e-6
NOISE_SCALE = 3e-6  # the seeds' code uses eps/10 = 3e-6 (it prints 3e-5)

# Data: a random "corpus" of 3000 bytes over 60 distinct printable values, so
# 68 of the 128 token ids never occur (dead rows, as in the seed experiments).
CORPUS_LEN = 3000
CORPUS_ALPHABET = 60

# Seeds.  All cases share the same init stream and the same batches, so the
# difference between two cases isolates exactly one knob (norm, precision,
# objective, noise).  The rmsnorm cases draw the same Conv1D/embedding weights
# as the layernorm cases because norms consume no random numbers.
SEED_INIT = 1234
SEED_DATA = 5678
SEED_NOISE = 91011

CASES = [
    # name,            norm,        precision, objective,      noise
    ("ln_fp32",        "layernorm", "fp32", "double-shift", 0.0),
    ("ln_bf16",        "layernorm", "bf16", "double-shift", 0.0),
    ("rms_fp32",       "rmsnorm",   "fp32", "double-shift", 0.0),
    ("rms_bf16",       "rmsnorm",   "bf16", "double-shift", 0.0),
    ("ln_fp32_next",   "layernorm", "fp32", "next-token",   0.0),
    ("ln_bf16_noise",  "layernorm", "bf16", "double-shift", NOISE_SCALE),
]

F32 = torch.float32


def f32(x):
    """A host scalar (computed in Python float64) as a float32 0-dim tensor.
    horizon feeds per-step scalars to its graph as float32; doing the same here
    keeps the elementwise math bit-comparable."""
    return torch.tensor(x, dtype=F32)


def round_bf16(t):
    """Round float32 values to the nearest bf16 value (ties to even), result
    still float32.  Verified bit-exact against the uint32 formula
    (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000 on torch 1.13."""
    return t.to(torch.bfloat16).to(F32)


# ----------------------------------------------------------------------------
# Model: parameters in HF GPT2LMHeadModel order and layout (Conv1D: W is [in, out])
# ----------------------------------------------------------------------------
def param_shapes(norm):
    """(name, shape) in HF named_parameters() order.  The order matters: init
    draws and the grad-norm sum follow it."""
    has_bias = norm == "layernorm"  # RMSNorm here is weight-only
    d = D_MODEL
    out = [("transformer.wte.weight", (VOCAB, d)), ("transformer.wpe.weight", (N_POS, d))]
    for i in range(N_LAYER):
        h = f"transformer.h.{i}."
        out.append((h + "ln_1.weight", (d,)))
        if has_bias:
            out.append((h + "ln_1.bias", (d,)))
        out += [
            (h + "attn.c_attn.weight", (d, 3 * d)),
            (h + "attn.c_attn.bias", (3 * d,)),
            (h + "attn.c_proj.weight", (d, d)),
            (h + "attn.c_proj.bias", (d,)),
            (h + "ln_2.weight", (d,)),
        ]
        if has_bias:
            out.append((h + "ln_2.bias", (d,)))
        out += [
            (h + "mlp.c_fc.weight", (d, 4 * d)),
            (h + "mlp.c_fc.bias", (4 * d,)),
            (h + "mlp.c_proj.weight", (4 * d, d)),
            (h + "mlp.c_proj.bias", (d,)),
        ]
    out.append(("transformer.ln_f.weight", (d,)))
    if has_bias:
        out.append(("transformer.ln_f.bias", (d,)))
    return out


def is_norm(name):
    return ".ln_1." in name or ".ln_2." in name or ".ln_f." in name


def decays(name, norm):
    """HF Trainer's weight-decay rule as it applied to the seeds' models.
    It excludes nn.LayerNorm instances and names matching bias / layernorm /
    rmsnorm / norm patterns.  LayerNorm weights are nn.LayerNorm -> no decay.
    The seeds' custom RMSNorm module sits at ln_1/ln_2/ln_f, which matches no
    pattern and is not an nn.LayerNorm -> its weights DO get decay."""
    if name.endswith(".bias"):
        return False
    if is_norm(name):
        return norm == "rmsnorm"
    return True  # wte (tied lm_head), wpe, every 2-D Conv1D weight


def init_from_shapes(shapes, n_layer, gen):
    """GPT-2 init, drawn in the order of `shapes` ((name, shape) pairs): every
    other weight (Conv1D, embeddings, an untied head) ~ N(0, 0.02), every
    c_proj weight (attn and mlp) ~ N(0, 0.02/sqrt(2*n_layer)), biases 0, norm
    weights 1 / biases 0.  No Qwen re-init: we want generic, distinct rows."""
    params = {}
    for name, shape in shapes:
        if is_norm(name):
            t = torch.ones(shape) if name.endswith(".weight") else torch.zeros(shape)
        elif name.endswith(".bias"):
            t = torch.zeros(shape)
        else:
            std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
            t = torch.randn(shape, generator=gen, dtype=F32) * std
        params[name] = t.to(F32).contiguous()
    return params


def init_params(norm, gen):
    """The seeds' model initialised by init_from_shapes."""
    params = init_from_shapes(param_shapes(norm), N_LAYER, gen)
    n = sum(t.numel() for t in params.values())
    assert n == (116480 if norm == "layernorm" else 116160), (norm, n)
    return params


def gelu_new(u):
    # HF NewGELUActivation, same expression and constants.
    return 0.5 * u * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * torch.pow(u, 3.0))))


def apply_norm(x, p, prefix, norm):
    w = p[prefix + ".weight"]
    if norm == "layernorm":
        # biased variance, eps 1e-5, like nn.LayerNorm
        return F.layer_norm(x, (x.shape[-1],), w, p[prefix + ".bias"], NORM_EPS)
    # RMSNorm, weight only, eps 1e-5 kept from the replaced LayerNorm
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + NORM_EPS) * w


def forward(p, ids, norm):
    """logits [B,T,V] for ids [B,T].  Works in whatever dtype the params are
    (float32 for the fixture, float64 for the noise check, bf16 for the bench)."""
    B, T = ids.shape
    dt = p["transformer.wte.weight"].dtype
    x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:T]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    mask_value = torch.tensor(torch.finfo(dt).min, dtype=dt)
    for i in range(N_LAYER):
        h = f"transformer.h.{i}."
        a = apply_norm(x, p, h + "ln_1", norm)
        qkv = a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
        q, k, v = qkv.split(D_MODEL, dim=-1)
        q, k, v = (t.reshape(B, T, N_HEAD, HEAD_DIM).transpose(1, 2) for t in (q, k, v))
        # HF 4.57 eager attention DIVIDES by sqrt(head_dim) (a 0-dim tensor of
        # the score dtype); dividing by the Python float math.sqrt(32) gives the
        # same float32 result.  Multiplying by f32(1/sqrt(32)) instead may
        # differ by an ulp.
        s = (q @ k.transpose(-1, -2)) / math.sqrt(HEAD_DIM)
        s = torch.where(causal, s, mask_value)  # j > i -> finfo.min (HF)
        w = torch.softmax(s, dim=-1)
        y = (w @ v).transpose(1, 2).reshape(B, T, D_MODEL)
        x = x + (y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"])
        a = apply_norm(x, p, h + "ln_2", norm)
        u = gelu_new(a @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + (u @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"])
    x = apply_norm(x, p, "transformer.ln_f", norm)
    return x @ p["transformer.wte.weight"].t()  # tied lm_head


def loss_fn(logits, chunk, objective):
    """chunk [B,T+1]; logits were computed from chunk[:, :T]."""
    B, T, V = logits.shape
    if objective == "double-shift":
        # HF: labels = chunk[1:T+1], shifted AGAIN inside the loss, so logits[t]
        # is trained on chunk[t+2] for t < T-1; the summed CE is divided by the
        # number of label tokens B*T (transformers 4.57), not B*(T-1).
        ce = F.cross_entropy(logits[:, : T - 1].reshape(-1, V), chunk[:, 2 : T + 1].reshape(-1), reduction="sum")
        return ce / (B * T)
    if objective == "next-token":
        return F.cross_entropy(logits.reshape(-1, V), chunk[:, 1 : T + 1].reshape(-1), reduction="mean")
    raise ValueError(objective)


def loss_and_grads(p, names, chunk, norm, objective):
    leaves = {n: p[n].detach().clone().requires_grad_(True) for n in names}
    logits = forward(leaves, chunk[:, :-1], norm)
    loss = loss_fn(logits, chunk, objective)
    grads = torch.autograd.grad(loss, [leaves[n] for n in names])
    return loss.detach(), logits.detach(), dict(zip(names, grads))


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------
def make_chunks(seed=SEED_DATA, steps=STEPS, batch=BATCH, context=CONTEXT):
    """[steps, B, T+1] windows of a random corpus (CORPUS_LEN bytes over
    CORPUS_ALPHABET values), all drawn from one generator seeded `seed`."""
    g = torch.Generator().manual_seed(seed)
    alphabet = torch.randperm(127 - 32, generator=g)[:CORPUS_ALPHABET] + 32
    corpus = alphabet[torch.randint(0, CORPUS_ALPHABET, (CORPUS_LEN,), generator=g)]
    # window offsets o in [0, CORPUS_LEN - (T+1)] so chunk = corpus[o : o+T+1]
    offsets = torch.randint(0, CORPUS_LEN - context, (steps, batch), generator=g)
    chunks = torch.stack([torch.stack([corpus[o : o + context + 1] for o in row.tolist()]) for row in offsets])
    return chunks.to(torch.int32)


def make_noise():
    # noise_t = bf16(bf16(randn) * 3e-6), the product taken in float32
    g = torch.Generator().manual_seed(SEED_NOISE)
    n = torch.randn((STEPS, VOCAB, D_MODEL), generator=g, dtype=F32)
    return round_bf16(round_bf16(n) * f32(NOISE_SCALE))


# ----------------------------------------------------------------------------
# One training step, written out the way horizon's graph does it
# ----------------------------------------------------------------------------
def lr_at(t, steps=STEPS, lr0=LR0):
    # HF linear schedule, no warmup: the t-th optimizer step (0-based) uses
    # lr0 * factor with factor = float(steps - t) / float(steps), multiplied in
    # that order like LambdaLR (lr0*(steps-t)/steps left-to-right differs in
    # the last float64 bit for some t, e.g. 6.000000000000001e-4).
    return lr0 * (float(steps - t) / float(steps))


def clip_grads(g, names, dtype=F32):
    """clip_grad_norm_(1.0) as horizon's graph does it: the global norm
    (pre-clip, squares summed in parameter order), coef = max_norm / (norm +
    1e-6) clamped to 1.  Returns the clipped gradients and the norm."""
    sq = torch.zeros((), dtype=dtype)
    for n in names:
        sq = sq + (g[n] * g[n]).sum()
    gnorm = torch.sqrt(sq)
    coef = torch.clamp(f32(CLIP_MAX_NORM) / (gnorm + f32(CLIP_EPS)), max=1.0)
    return {n: g[n] * coef for n in names}, gnorm


def initial_state(norm, bf16, dtype=F32):
    """Parameter names, weight-decay mask and the optimizer state before the
    first step: init_params (SEED_INIT; bf16-rounded for bf16 storage, then
    cast to `dtype`) and zero moments."""
    names = [n for n, _ in param_shapes(norm)]
    wd_mask = {n: decays(n, norm) for n in names}
    p = init_params(norm, torch.Generator().manual_seed(SEED_INIT))
    if bf16:
        p = {n: round_bf16(t) for n, t in p.items()}
    p = {n: t.to(dtype) for n, t in p.items()}
    m = {n: torch.zeros_like(t) for n, t in p.items()}
    v = {n: torch.zeros_like(t) for n, t in p.items()}
    return names, wd_mask, p, m, v


def adamw_update(p, m, v, g, t, lr, wd_mask, bf16):
    """Fused-AdamW semantics (torch >= 2.8 fused kernel, all values in fp32),
    step count t+1 for bias correction.  Host scalars in float64 -> float32."""
    bc1 = 1.0 - BETA1 ** (t + 1)
    bc2_sqrt = math.sqrt(1.0 - BETA2 ** (t + 1))
    b1, one_b1 = f32(BETA1), f32(1.0 - BETA1)
    b2, one_b2 = f32(BETA2), f32(1.0 - BETA2)
    step_size = f32(lr / bc1)
    bc2s = f32(bc2_sqrt)
    eps = f32(ADAM_EPS)
    for n in p:
        lrwd = f32(lr * (WEIGHT_DECAY if wd_mask[n] else 0.0))
        pn = p[n] - lrwd * p[n]
        mn = b1 * m[n] + one_b1 * g[n]
        vn = b2 * v[n] + one_b2 * (g[n] * g[n])
        denom = torch.sqrt(vn) / bc2s + eps
        pn = pn - (step_size * mn) / denom
        if bf16:  # storage precision: p, m, v each rounded to bf16 once
            pn, mn, vn = round_bf16(pn), round_bf16(mn), round_bf16(vn)
        p[n], m[n], v[n] = pn, mn, vn


def run_case(name, norm, precision, objective, noise_scale, chunks, noise, dtype=F32):
    """Train one case; dtype=float64 is only used by float64_check."""
    bf16 = precision == "bf16"
    names, wd_mask, p, m, v = initial_state(norm, bf16, dtype)
    out, lrs = case_start(name, names, p, chunks)
    losses, norms = [], []
    for t in range(STEPS):
        chunk = chunks[t].long()
        loss, logits, g = loss_and_grads(p, names, chunk, norm, objective)
        if t == 0:
            out[f"{name}.step0.logits"] = logits.clone()
            for n in names:
                out[f"{name}.step0.grad.{n}"] = g[n].clone()
        g, gnorm = clip_grads(g, names, dtype)
        losses.append(loss)
        norms.append(gnorm)
        adamw_update(p, m, v, g, t, lrs[t], wd_mask, bf16)
        if noise_scale:
            # seeds 11.2b: after the optimizer step, wte += noise, sum rounded
            # to bf16 (fp32 mode would add without rounding)
            wte = "transformer.wte.weight"
            p[wte] = p[wte] + noise[t]
            if bf16:
                p[wte] = round_bf16(p[wte])
        if t == 0:
            for n in names:
                out[f"{name}.after1.{n}"] = p[n].clone()
                out[f"{name}.after1.m.{n}"] = m[n].clone()
                out[f"{name}.after1.v.{n}"] = v[n].clone()
    case_end(out, name, names, p, losses, norms)
    if noise_scale:
        out[f"{name}.noise"] = noise.clone()
    return out, case_entry(norm, precision, objective, noise_scale, wd_mask, p)


def case_start(name, names, p, chunks):
    """A case's tensors known before its first step (`init.*`, `chunks`,
    `lr`) and its learning rates."""
    out = {f"{name}.init.{n}": p[n].clone() for n in names}
    out[f"{name}.chunks"] = chunks.clone()
    lrs = [lr_at(t) for t in range(STEPS)]
    out[f"{name}.lr"] = torch.tensor(lrs, dtype=torch.float64)
    return out, lrs


def case_end(out, name, names, p, losses, norms):
    """Adds a case's `after<STEPS>.*`, `loss` and `grad_norm` to `out`."""
    for n in names:
        out[f"{name}.after{STEPS}.{n}"] = p[n].clone()
    out[f"{name}.loss"] = torch.stack(losses)
    out[f"{name}.grad_norm"] = torch.stack(norms)


def case_entry(norm, precision, objective, noise_scale, wd_mask, p):
    """A case's `cases` metadata entry (its key order is part of the bytes)."""
    return {
        "norm": norm,
        "precision": precision,
        "objective": objective,
        "noise_scale": noise_scale,
        "B": BATCH,
        "T": CONTEXT,
        "steps": STEPS,
        "lr0": LR0,
        "weight_decay": WEIGHT_DECAY,
        "weight_decay_mask": wd_mask,
        "param_count": sum(t.numel() for t in p.values()),
    }


# ----------------------------------------------------------------------------
def float64_check(chunks, noise, ref):
    """Every case again with float64 tensors (same weights, batches, noise and
    float32 host scalars; bf16 cases still round p, m, v to bf16): the size of
    plain float32 noise, to calibrate the Deno test's tolerances.  Printed
    only; nothing of it is stored."""
    print("float32 vs float64 (max |diff|; max |value| in brackets):")
    for case in CASES:
        c, norm, precision = case[0], case[1], case[2]
        names = [n for n, _ in param_shapes(norm)]
        out64, _ = run_case(*case, chunks, noise, dtype=torch.float64)

        def diff(keys):
            return max((ref[k].double() - out64[k]).abs().max().item() for k in keys)

        def vmax(keys):
            return max(out64[k].abs().max().item() for k in keys)

        def count(keys, thr):
            return sum(int(((ref[k].double() - out64[k]).abs() > thr).sum()) for k in keys)

        if c == "ln_fp32":
            for label, keys in [
                ("step0 logits", [f"{c}.step0.logits"]),
                ("loss (10 steps)", [f"{c}.loss"]),
                ("grad_norm (10 steps)", [f"{c}.grad_norm"]),
                ("step0 grads", [f"{c}.step0.grad.{n}" for n in names]),
                ("after1 m", [f"{c}.after1.m.{n}" for n in names]),
                ("after1 v", [f"{c}.after1.v.{n}" for n in names]),
            ]:
                print(f"  {c:13s} {label:21s} {diff(keys):.3g}  [{vmax(keys):.3g}]")
        # Parameters: Adam's first steps are close to lr*sign(g), so elements
        # whose gradient is ~0 (float32 cancellation noise dominates) move
        # differently; in bf16 such a difference can flip one rounding.
        thr = 0.0 if precision == "bf16" else 1e-6
        for stage in ("after1", f"after{STEPS}"):
            keys = [f"{c}.{stage}.{n}" for n in names]
            print(f"  {c:13s} {stage + ' params':21s} {diff(keys):.3g}  [{vmax(keys):.3g}]"
                  f"  elements with |diff| > {thr:g}: {count(keys, thr)} of {sum(ref[k].numel() for k in keys)}")


def main():
    args = fixture_args(__doc__, OUT_NAME)
    chunks = make_chunks()
    noise = make_noise()
    tensors, cases = {}, {}
    for name, norm, precision, objective, noise_scale in CASES:
        out, desc = run_case(name, norm, precision, objective, noise_scale, chunks, noise)
        tensors.update(out)
        cases[name] = desc

    common = {
        "model": {"vocab": VOCAB, "d_model": D_MODEL, "n_layer": N_LAYER, "n_head": N_HEAD,
                  "n_positions": N_POS, "norm_eps": NORM_EPS, "tied_lm_head": True,
                  "activation": "gelu_new", "attention_scale": "divide by sqrt(head_dim)"},
        "optimizer": {"betas": [BETA1, BETA2], "eps": ADAM_EPS, "clip_max_norm": CLIP_MAX_NORM,
                      "clip_eps": CLIP_EPS, "schedule": "lr_t = lr0*((steps-t)/steps) in float64 (stored as lr), bias correction with t+1",
                      "order": "p-=lrwd*p; m=b1*m+(1-b1)*g; v=b2*v+(1-b2)*g*g; "
                               "p-=(lr/bc1)*m/(sqrt(v)/sqrt(bc2)+eps); bf16: round p,m,v"},
        "data": {"corpus_len": CORPUS_LEN, "alphabet": CORPUS_ALPHABET,
                 "chunks": "[steps,B,T+1] windows; input_ids = chunk[0:T]"},
        "noise": "after the update (and its rounding): wte = bf16(wte + noise[t]); noise = bf16(bf16(randn)*3e-6); after1 includes noise[0]",
        "seeds": {"init": SEED_INIT, "data": SEED_DATA, "noise": SEED_NOISE},
        # float32 matmul results (hence the low bits of this file) depend on the
        # BLAS torch calls; Debian's torch 1.13 uses the system libblas.so.3
        "blas_info": blas_info(),
    }
    write_fixture(args.out, tensors, VERSION, {"common": common, **cases}, __file__)
    float64_check(chunks, noise, tensors)
    summarise(tensors, cases)


def summarise(tensors, cases):
    """Prints each case's losses, gradient norm and clipped steps."""
    for name in cases:
        loss, gn = tensors[f"{name}.loss"], tensors[f"{name}.grad_norm"]
        print(f"  {name:14s} loss[0]={loss[0].item():.6f} loss[{STEPS - 1}]={loss[-1].item():.6f} "
              f"grad_norm[0]={gn[0].item():.6f} clipped_steps={int((gn > 1).sum())}")


if __name__ == "__main__":
    main()
