"""make_reference.py's plain-torch GPT-2 and step at another size, for the
small mode fixtures (untied head, dropout): make_reference.py fixes the seeds'
widths as module constants, and its fixture is 17.6 MB; these cases use a
model of d 16 so that each fixture stays a few hundred KB.  The parameter
layout and forward are written here with the sizes as parameters; the init,
batches, clipping, schedule and AdamW are make_reference.py's own functions.

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

It also builds what both small fixtures store alike (`start`,
`fixture_cases`, `common_entry`): the init and batches, per case the losses,
gradient norms, step-0 gradients (and fp32 logits) and the final state, and
the metadata around them.
"""

import math

import torch
import torch.nn.functional as F

import make_reference as mr
from fixture_io import blas_info
from make_reference import round_bf16

F32 = torch.float32
NORM_EPS = 1e-5
SEED_INIT = 2024
SEED_DATA = 5678


def small_config(tied):
    """The small fixtures' model and run: vocab 128, d 16, 2 layers, 2 heads,
    16 positions; B=4, T=16, 5 steps, lr0 1e-3."""
    return {"vocab": 128, "d": 16, "n_layer": 2, "n_head": 2, "n_pos": 16, "tied": tied,
            "B": 4, "T": 16, "steps": 5, "lr0": 1e-3}


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


def decays(name):
    """HF Trainer with nn.LayerNorm: no decay on biases and norm weights;
    every other weight (wte, wpe, Conv1D weights, an untied lm_head) decays."""
    return mr.decays(name, "layernorm")


def init_params(cfg, gen):
    """GPT-2 init in parameter order (make_reference.init_from_shapes); an
    untied lm_head, last, is N(0, 0.02)."""
    return mr.init_from_shapes(param_shapes(cfg), cfg["n_layer"], gen)


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
        u = mr.gelu_new(a @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + drop(u @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"], "mlp", i)
    x = F.layer_norm(x, (d,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], NORM_EPS)
    head = p["transformer.wte.weight"] if cfg["tied"] else p["lm_head.weight"]
    return x @ head.t()


def double_shift_loss(logits, chunk):
    """HF's double shift: logits[t] against chunk[t+2], summed CE / (B*T)."""
    B, T, V = logits.shape
    ce = F.cross_entropy(logits[:, : T - 1].reshape(-1, V), chunk[:, 2 : T + 1].reshape(-1), reduction="sum")
    return ce / (B * T)


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
        if t == 0:
            out["logits0"] = logits.detach().clone()
            out["grad0"] = {n: g[n].clone() for n in names}
        g, gnorm = mr.clip_grads(g, names)
        out["loss"].append(loss.detach())
        out["grad_norm"].append(gnorm)
        mr.adamw_update(p, m, v, g, t, mr.lr_at(t, steps, cfg["lr0"]), wd_mask, bf16)
        out["after"].append({n: p[n].clone() for n in names})
    out["loss"] = torch.stack(out["loss"])
    out["grad_norm"] = torch.stack(out["grad_norm"])
    return out, wd_mask


def start(cfg):
    """The batches (make_reference.make_chunks at this size, SEED_DATA) and
    the float32 initial parameters (SEED_INIT) every case of a fixture shares."""
    chunks = mr.make_chunks(SEED_DATA, cfg["steps"], cfg["B"], cfg["T"])
    init = init_params(cfg, torch.Generator().manual_seed(SEED_INIT))
    return chunks, init


def fixture_cases(cfg, chunks, init, cases, masks_at=None):
    """Trains every (name, precision) of `cases` from the shared init and
    batches; returns the tensors (`chunks`, `init.*`, and per case `loss`,
    `grad_norm`, `step0.grad.*`, `after<steps>.*`, fp32 `step0.logits`) and
    each case's metadata entry."""
    tensors = {"chunks": chunks}
    for n, t in init.items():
        tensors[f"init.{n}"] = t
    entries = {}
    steps = cfg["steps"]
    for name, precision in cases:
        out, wd_mask = train(cfg, init, chunks, precision == "bf16", masks_at)
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
        entries[name] = {"precision": precision, "B": cfg["B"], "T": cfg["T"], "steps": steps,
                         "lr0": cfg["lr0"], "weight_decay": mr.WEIGHT_DECAY, "weight_decay_mask": wd_mask}
    return tensors, entries


def common_entry(cfg, seeds, after_model=None, **specific):
    """The metadata's `common` entry: model, `after_model`, the init note,
    seeds (init, data, then `seeds`), `specific`, blas_info, in this order
    (the key order is part of the fixture's bytes)."""
    return {
        "model": {k: cfg[k] for k in ("vocab", "d", "n_layer", "n_head", "n_pos", "tied")},
        **(after_model or {}),
        "init": "init.* are float32; bf16 cases round them to nearest even first",
        "seeds": {"init": SEED_INIT, "data": SEED_DATA, **seeds},
        **specific,
        "blas_info": blas_info(),
    }
