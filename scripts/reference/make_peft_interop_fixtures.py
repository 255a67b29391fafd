#!/usr/bin/env python3
"""Hugging Face PEFT interop fixtures: PEFT's own adapter folders for the tiny timm ViT, and a
check of vpeft's exported folders with PEFT itself (docs/peft-interop.md).

(a) For each case in CASES, on the tiny timm ViT of `Tests/ModelsTests/Fixtures/vit/cls_token/`
    (d 32, depth 2, 2 heads, 5 classes; built as make_peft_fixtures.load_backbone does), wraps
    the model with `peft.get_peft_model(model, LoraConfig(...))`, gives every adapter tensor
    non-trivial seeded values (A, B ~ N(0, 0.2^2); B's zeros kept where the case's layout says
    so; DoRA magnitude = ||W + s·B·A||_row · exp(N(0, 0.2^2)); head = checkpoint head + 0.02·N(0,1)),
    saves PEFT's own folder with `save_pretrained` into `Tests/PEFTTests/Fixtures/peft/<case>/`
    (PEFT's README.md dropped) and writes `expected.safetensors` there: `input` [2,3,16,16] and
    PEFT's `logits` [2,5] (eval mode). It reloads the folder with `PeftModel.from_pretrained`
    onto a fresh backbone and asserts the same logits.

(b) For every vpeft-exported folder `Tests/PEFTTests/Fixtures/peft/vpeft_*/` (written by the
    Swift test HuggingFacePEFTTests with VPEFT_RECORD_PEFT_EXPORT=1; each holds vpeft's `input`
    and `logits` in `expected.safetensors`), loads it with `PeftModel.from_pretrained` onto the
    plain timm backbone and asserts PEFT's logits equal vpeft's (max |diff| <= 1e-4); prints them.

Run:  .venv/bin/python scripts/reference/make_peft_interop_fixtures.py   (needs `pip install peft`
      in the fixture venv; tested with peft 0.21.2, torch 2.15.0, timm 1.0.31)
      --check-only: only (b).
"""

import json
import os
import shutil
import sys

import peft
import safetensors.torch
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writer)
from make_peft_fixtures import REPO, load_backbone  # noqa: E402

OUT_DIR = os.path.join(REPO, "Tests", "PEFTTests", "Fixtures", "peft")
TOL = 1e-4
STD = 0.2

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# (case, LoraConfig kwargs, qkv layout: "shared" = every entry random, or the slices whose rows
# own consecutive column groups of B, as vpeft's export writes them)
CASES = [
    # a general PEFT adapter: A shared by q, k, v; rsLoRA; another rank and alpha on fc1; no LoRA
    # on block 0's fc2; dropout (inference: off)
    ("lora_shared", dict(r=3, lora_alpha=5, use_rslora=True, lora_dropout=0.1,
                         target_modules=["attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"],
                         exclude_modules=["blocks.0.mlp.fc2"],
                         rank_pattern={"mlp.fc1": 2}, alpha_pattern={"mlp.fc1": 7}), "shared"),
    # what vpeft writes for lora(rank 4, alpha 8, targets [q, v, fc2])
    ("lora_vpeft_layout", dict(r=4, lora_alpha=8, target_modules=["attn.qkv", "mlp.fc2"],
                               rank_pattern={"attn.qkv": 8}, alpha_pattern={"attn.qkv": 16}), ["q", "v"]),
    # DoRA with A shared by q, k, v
    ("dora_shared", dict(r=2, lora_alpha=3, use_dora=True, target_modules=["attn.qkv", "mlp.fc1"]), "shared"),
]


def peft_model(config, base=None):
    return peft.get_peft_model(base or load_backbone(), peft.LoraConfig(modules_to_save=["head"], **config))


@torch.no_grad()
def fill(model, layout, gen):
    """Non-trivial values for every adapter tensor (see the module docstring)."""
    for name, module in model.named_modules():
        if not isinstance(module, peft.tuners.lora.LoraLayer):
            continue
        a, b = module.lora_A["default"].weight, module.lora_B["default"].weight
        a.copy_(torch.randn(a.shape, generator=gen) * STD)
        b.copy_(torch.randn(b.shape, generator=gen) * STD)
        if name.endswith("attn.qkv") and layout != "shared":
            d, r = b.shape[0] // 3, b.shape[1] // len(layout)
            mask = torch.zeros_like(b)
            for i, s in enumerate(layout):
                row = "qkv".index(s) * d
                mask[row:row + d, i * r:(i + 1) * r] = 1
            b.copy_(torch.where(mask.bool(), b, torch.zeros_like(b)))  # +0, as vpeft writes (b * 0 gives -0)
        if "default" in module.lora_magnitude_vector:
            m = module.lora_magnitude_vector["default"].weight
            w = module.get_base_layer().weight + module.scaling["default"] * (b @ a)
            m.copy_(w.norm(dim=1) * torch.exp(torch.randn(m.shape, generator=gen) * STD))
    head = model.base_model.model.head.modules_to_save["default"]
    for p in head.parameters():
        p.add_(0.02 * torch.randn(p.shape, generator=gen))


def write_case(name, config, layout, seed):
    gen = torch.Generator().manual_seed(seed)
    model = peft_model(config)
    fill(model, layout, gen)
    model.eval()
    x = torch.randn(2, 3, 16, 16, generator=gen)
    with torch.no_grad():
        logits = model(x)
    folder = os.path.join(OUT_DIR, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder)
    os.remove(os.path.join(folder, "README.md"))
    normalise(folder)
    write_safetensors(os.path.join(folder, "expected.safetensors"), {"input": x, "logits": logits}, {"peft_version": peft.__version__})
    again = reloaded_logits(folder, x)
    assert torch.equal(again, logits), name
    print(f"{name}: PEFT folder written, reload exact; logits {logits.flatten()[:4].tolist()}")


def normalise(folder):
    """PEFT writes target_modules from a Python set (order varies with the hash seed) and its
    files with mode 0600: sorted and 0644, so reruns give identical, readable files."""
    path = os.path.join(folder, "adapter_config.json")
    with open(path) as f:
        config = json.load(f)
    config["target_modules"] = sorted(config["target_modules"])
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    for name in os.listdir(folder):
        os.chmod(os.path.join(folder, name), 0o644)


@torch.no_grad()
def reloaded_logits(folder, x):
    model = peft.PeftModel.from_pretrained(load_backbone(), folder).eval()
    return model(x)


def check_vpeft_exports():
    folders = sorted(f for f in os.listdir(OUT_DIR) if f.startswith("vpeft_"))
    assert folders, "no vpeft_* export in " + OUT_DIR
    for name in folders:
        folder = os.path.join(OUT_DIR, name)
        expected = safetensors.torch.load_file(os.path.join(folder, "expected.safetensors"))
        logits = reloaded_logits(folder, expected["input"])
        diff = (logits - expected["logits"]).abs().max().item()
        cfg = peft.PeftConfig.from_pretrained(folder)
        print(f"{name}: PEFT {peft.__version__} loads vpeft's folder (peft_type {cfg.peft_type.value}, r {cfg.r}, "
              f"lora_alpha {cfg.lora_alpha}, use_dora {cfg.use_dora}, target_modules {sorted(cfg.target_modules)}, "
              f"rank_pattern {cfg.rank_pattern}, alpha_pattern {cfg.alpha_pattern}); "
              f"max |PEFT logits - vpeft logits| = {diff:.3g}")
        print("  PEFT :", [round(v, 6) for v in logits.flatten().tolist()])
        print("  vpeft:", [round(v, 6) for v in expected["logits"].flatten().tolist()])
        assert diff <= TOL, (name, diff)


def main():
    if "--check-only" not in sys.argv:
        os.makedirs(OUT_DIR, exist_ok=True)
        for i, (name, config, layout) in enumerate(CASES):
            write_case(name, config, layout, seed=100 + i)
    check_vpeft_exports()


if __name__ == "__main__":
    main()
