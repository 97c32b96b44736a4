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
then the compact.ts command it prints (fixture_io.py: byte-identical
re-runs; README.md, "Compaction").
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import fixture_args, write_fixture  # noqa: E402
import tiny_gpt2 as tg  # noqa: E402

VERSION = "1"
OUT_NAME = "gpt2_untied_v1.safetensors"
CFG = tg.small_config(tied=False)
CASES = [("untied_fp32", "fp32"), ("untied_bf16", "bf16")]


def main():
    args = fixture_args(__doc__, OUT_NAME)
    chunks, init = tg.start(CFG)
    tensors, cases = tg.fixture_cases(CFG, chunks, init, CASES)
    absent = sorted(set(range(CFG["vocab"])) - set(chunks[:, :, :-1].flatten().tolist()))
    common = tg.common_entry(CFG, {}, absent_inputs=absent)
    write_fixture(args.out, tensors, VERSION, {"common": common, **cases}, __file__)
    steps = CFG["steps"]
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
