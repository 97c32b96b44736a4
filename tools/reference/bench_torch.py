#!/usr/bin/python3
"""Time PyTorch (CPU) training steps for the seed configuration, as a yardstick
for horizon's ms/step.

Seed config: the GPT-2 of make_reference.py (V=128, d=64, 2 layers, 2 heads,
LayerNorm, tied lm_head), batch 32, context 128, double-shift objective.  Like
the seed notebooks, the whole model is cast to bfloat16 (`model.to(bf16)`:
parameters AND compute in bf16, no autocast), then
torch.optim.AdamW(lr=1e-3, weight_decay=0.01) with a linear LR decay and
clip_grad_norm_(1.0).  torch 1.13 has no fused CPU AdamW, so this uses the
default implementation (the seeds ran torch >= 2.8 with the fused one).

One timed step = zero_grad + forward + loss + backward + clip + optimizer step
+ scheduler step, on a fresh random batch each time.  Prints one JSON line.

    /usr/bin/python3 tools/reference/bench_torch.py [--threads N] [--steps N] [--precision bf16|fp32]
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference as ref  # noqa: E402  (the one model definition)

BATCH, CONTEXT, WARMUP = 32, 128, 5


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    norm = "layernorm"
    init = ref.init_params(norm, torch.Generator().manual_seed(ref.SEED_INIT))
    # == model.to(dtype): every parameter cast, so the forward runs in dtype.
    params = {n: t.to(dtype).requires_grad_(True) for n, t in init.items()}
    names = list(params)
    # HF Trainer parameter groups (LayerNorm weights and biases: no decay).
    decay = [params[n] for n in names if ref.decays(n, norm)]
    no_decay = [params[n] for n in names if not ref.decays(n, norm)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    total = WARMUP + args.steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, (total - s) / total))

    batches = torch.randint(0, ref.VOCAB, (total, BATCH, CONTEXT + 1))
    times = []
    for i in range(total):
        chunk = batches[i]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = ref.forward(params, chunk[:, :-1], norm)
        # double shift as in the seeds; CE is taken on the model-dtype logits
        loss = ref.loss_fn(logits, chunk, "double-shift")
        loss.backward()
        torch.nn.utils.clip_grad_norm_([params[n] for n in names], 1.0)
        opt.step()
        sched.step()
        dt = time.perf_counter() - t0
        if i >= WARMUP:
            times.append(dt * 1000.0)
    assert torch.isfinite(loss.float()), "loss is not finite"

    print(json.dumps({
        "framework": "pytorch",
        "torch": torch.__version__,
        "precision": args.precision,
        "threads": args.threads,
        "batch": BATCH,
        "context": CONTEXT,
        "ms_per_step_median": round(statistics.median(times), 2),
        "ms_per_step_mean": round(statistics.fmean(times), 2),
        "steps": args.steps,
    }))


if __name__ == "__main__":
    main()
