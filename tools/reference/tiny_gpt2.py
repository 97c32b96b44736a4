"""A size-parameterised copy of make_reference.py's plain-torch GPT-2 and step,
for the small mode fixtures (untied head, dropout): make_reference.py fixes
the seeds' widths as module constants, and its fixture is 17.6 MB; these cases
use a model of d 16 so that each fixture stays a few hundred KB.

Same contract as make_reference.py (README.md, "The model and the step"):
HF GPT2LMHeadModel semantics, pre-LN, gelu_new, scores divided by
sqrt(head_dim), finfo(float32).min masking, the double-shifted objective,
clip_grad_norm_(1.0), the fused-AdamW order with float32 host scalars, bf16
storage rounding p, m, v once per update.  Two additions:

- `tied=False`: an own `lm_head.weight` [vocab, d] (nn.Linear layout, logits =
  x @ W^T), initialised N(0, 0.02) like HF's _init_weights for nn.Linear,
  drawn after every other parameter, weight-decayed (HF Trainer decays every
  weight that is neither a bias nor a LayerNorm weight).
- `masks`: dropout as HF GPT-2 applies it, with the masks given (values 0 or
  1/(1-p), float32) instead of drawn by nn.Dropout: after wte + wpe (embd),
  on the attention probabilities (attn_dropout), after attn.c_proj
  (resid_dropout) and after mlp.c_proj (GPT2MLP.dropout, resid_pdrop).
"""

import math

import torch
import torch.nn.functional as F

from make_reference import adamw_update, gelu_new, round_bf16, f32  # noqa: F401

F32 = torch.float32
NORM_EPS = 1e-5
CLIP_MAX_NORM = 1.0
CLIP_EPS = 1e-6


def param_shapes(cfg):
    """(name, shape) in HF named_parameters() order (LayerNorm only)."""
    d, v = cfg["d"], cfg["vocab"]
    out = [("transformer.wte.weight", (v, d)), ("transformer.wpe.weight", (cfg["n_pos"], d))]
    for i in range(cfg["n_layer"]):
        h = f"transformer.h.{i}."
        out += [
            (h + "ln_1.weight", (d,)), (h + "ln_1.bias", (d,)),
            (h + "attn.c_attn.weight", (d, 3 * d)), (h + "attn.c_attn.bias", (3 * d,)),
            (h + "attn.c_proj.weight", (d, d)), (h + "attn.c_proj.bias", (d,)),
            (h + "ln_2.weight", (d,)), (h + "ln_2.bias", (d,)),
            (h + "mlp.c_fc.weight", (d, 4 * d)), (h + "mlp.c_fc.bias", (4 * d,)),
            (h + "mlp.c_proj.weight", (4 * d, d)), (h + "mlp.c_proj.bias", (d,)),
        ]
    out += [("transformer.ln_f.weight", (d,)), ("transformer.ln_f.bias", (d,))]
    if not cfg["tied"]:
        out.append(("lm_head.weight", (v, d)))
    return out


def is_norm(name):
    return ".ln_" in name


def decays(name):
    """HF Trainer with nn.LayerNorm: no decay on biases and norm weights;
    every other weight (wte, wpe, Conv1D weights, an untied lm_head) decays."""
    return not (name.endswith(".bias") or is_norm(name))


def init_params(cfg, gen):
    """GPT-2 init in parameter order: N(0, 0.02), c_proj weights N(0,
    0.02/sqrt(2 n_layer)), biases 0, norm weights 1; lm_head (last) N(0, 0.02)."""
    params = {}
    for name, shape in param_shapes(cfg):
        if is_norm(name):
            t = torch.ones(shape) if name.endswith(".weight") else torch.zeros(shape)
        elif name.endswith(".bias"):
            t = torch.zeros(shape)
        else:
            std = 0.02 / math.sqrt(2 * cfg["n_layer"]) if name.endswith("c_proj.weight") else 0.02
            t = torch.randn(shape, generator=gen, dtype=F32) * std
        params[name] = t.to(F32).contiguous()
    return params


def forward(cfg, p, ids, masks=None):
    """logits [B,T,V]; masks (or None): {"embd": [B,T,d], "attn": [[B,H,T,T]]
    per layer, "attn_resid": [[B,T,d]], "mlp": [[B,T,d]]}, any entry None."""
    B, T = ids.shape
    d, H = cfg["d"], cfg["n_head"]
    hd = d // H
    masks = masks or {}

    def drop(x, kind, layer=None):
        m = masks.get(kind)
        if m is None:
            return x
        return x * (m if layer is None else m[layer])

    x = drop(p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:T], "embd")
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    mask_value = torch.tensor(torch.finfo(F32).min, dtype=F32)
    for i in range(cfg["n_layer"]):
        h = f"transformer.h.{i}."
        a = F.layer_norm(x, (d,), p[h + "ln_1.weight"], p[h + "ln_1.bias"], NORM_EPS)
        qkv = a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = (t.reshape(B, T, H, hd).transpose(1, 2) for t in (q, k, v))
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        s = torch.where(causal, s, mask_value)
        w = drop(torch.softmax(s, dim=-1), "attn", i)
        y = (w @ v).transpose(1, 2).reshape(B, T, d)
        x = x + drop(y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"], "attn_resid", i)
        a = F.layer_norm(x, (d,), p[h + "ln_2.weight"], p[h + "ln_2.bias"], NORM_EPS)
        u = gelu_new(a @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + drop(u @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"], "mlp", i)
    x = F.layer_norm(x, (d,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], NORM_EPS)
    head = p["transformer.wte.weight"] if cfg["tied"] else p["lm_head.weight"]
    return x @ head.t()


def double_shift_loss(logits, chunk):
    """HF's double shift: logits[t] against chunk[t+2], summed CE / (B*T)."""
    B, T, V = logits.shape
    ce = F.cross_entropy(logits[:, : T - 1].reshape(-1, V), chunk[:, 2 : T + 1].reshape(-1), reduction="sum")
    return ce / (B * T)


def lr_at(lr0, t, steps):
    """HF linear schedule (LambdaLR order), as make_reference.lr_at."""
    return lr0 * (float(steps - t) / float(steps))


def train(cfg, init, chunks, bf16, masks_at=None):
    """cfg["steps"] explicit steps; returns losses, grad norms, step-0 logits
    and gradients, and the parameters after every update (list)."""
    names = [n for n, _ in param_shapes(cfg)]
    wd_mask = {n: decays(n) for n in names}
    p = {n: (round_bf16(init[n]) if bf16 else init[n].clone()) for n in names}
    m = {n: torch.zeros_like(t) for n, t in p.items()}
    v = {n: torch.zeros_like(t) for n, t in p.items()}
    out = {"loss": [], "grad_norm": [], "after": []}
    steps = cfg["steps"]
    for t in range(steps):
        chunk = chunks[t].long()
        leaves = {n: p[n].detach().clone().requires_grad_(True) for n in names}
        masks = masks_at(t) if masks_at else None
        logits = forward(cfg, leaves, chunk[:, :-1], masks)
        loss = double_shift_loss(logits, chunk)
        g = dict(zip(names, torch.autograd.grad(loss, [leaves[n] for n in names])))
        sq = torch.zeros((), dtype=F32)
        for n in names:
            sq = sq + (g[n] * g[n]).sum()
        gnorm = torch.sqrt(sq)
        out["loss"].append(loss.detach())
        out["grad_norm"].append(gnorm)
        if t == 0:
            out["logits0"] = logits.detach().clone()
            out["grad0"] = {n: g[n].clone() for n in names}
        coef = torch.clamp(f32(CLIP_MAX_NORM) / (gnorm + f32(CLIP_EPS)), max=1.0)
        g = {n: g[n] * coef for n in names}
        adamw_update(p, m, v, g, t, lr_at(cfg["lr0"], t, steps), wd_mask, bf16)
        out["after"].append({n: p[n].clone() for n in names})
    out["loss"] = torch.stack(out["loss"])
    out["grad_norm"] = torch.stack(out["grad_norm"])
    return out, wd_mask


def make_chunks(cfg, seed, corpus_len=3000, alphabet_size=60):
    """make_reference.make_chunks at this size: a random corpus over 60 byte
    values (68 of 128 token ids never occur: dead rows), windows of T+1."""
    g = torch.Generator().manual_seed(seed)
    alphabet = torch.randperm(127 - 32, generator=g)[:alphabet_size] + 32
    corpus = alphabet[torch.randint(0, alphabet_size, (corpus_len,), generator=g)]
    T = cfg["T"]
    offsets = torch.randint(0, corpus_len - T, (cfg["steps"], cfg["B"]), generator=g)
    chunks = torch.stack([torch.stack([corpus[o : o + T + 1] for o in row.tolist()]) for row in offsets])
    return chunks.to(torch.int32), alphabet
