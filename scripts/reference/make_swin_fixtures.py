#!/usr/bin/env python3
"""Writes timm reference fixtures for the Swift SwinTransformer (and its checkpoint loaders).

For three tiny Swin V1 configurations (see CONFIGS) it builds `timm.create_model(arch, **args)`,
perturbs EVERY parameter with 0.02 * N(0, 1) (no LayerNorm is the identity, no bias zero, bias
tables vary), switches to eval mode and writes `Tests/ModelsTests/Fixtures/swin/<name>/`:

  config.json            timm Hugging Face hub format, written by timm's own `save_config_for_hf`
                         (architecture + the constructor arguments under "model_args")
  model.safetensors      the state dict with timm names (timm >= 0.9 layout: PatchMerging is
                         `layers.{i}.downsample` at the START of stage i > 0, classifier `head.fc`)
  reference.safetensors  input [2,3,H,W], tokens (patch_embed output, NHWC), block.{k} (every
                         block's output in order, NHWC), stage.{i} (forward_intermediates, NCHW,
                         no norm), final (forward_features, NHWC), features (pre-logits), logits
                         (absent when num_classes == 0); with gradients: gout and grad.<name> =
                         d sum(logits * gout) / d<name> for the input and a few parameters

and for the configurations marked `microsoft`, `model_microsoft.pth`: the same weights in the
ORIGINAL Microsoft layout ({"model": state_dict}, torch.save zip): PatchMerging at the END of a
stage (`layers.{i-1}.downsample`), classifier `head.*`, and the buffers the original code saves
(`relative_position_index` int64 per block, `attn_mask` per shifted block). timm's own
`checkpoint_filter_fn` must turn it back into model.safetensors' tensors (checked).

For the configurations with `resize_windows`, `reference_window{w}.safetensors`: the model rebuilt
with window w loaded through timm's `checkpoint_filter_fn`, which resizes every relative position
bias table with `resize_rel_pos_bias_table` (BEiT's geometric offsets + linear interpolation,
timm's default without SciPy): input, logits, features, and the resized table of block 0.

Every file is cross-checked against timm (hub-folder loading via `local-dir:`, fused vs explicit
attention) before it is kept. Deterministic: seeded per configuration, single-threaded torch.

Run:  .venv/bin/python scripts/reference/make_swin_fixtures.py
"""

import copy
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

import safetensors.torch
import timm
import torch
from timm.models._hub import save_config_for_hf
from timm.models.swin_transformer import checkpoint_filter_fn

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writer)

OUT_DIR = os.path.join(REPO, "Tests", "ModelsTests", "Fixtures", "swin")
SIZE_LIMIT = 1_000_000
NOISE = 0.02
BATCH = 2

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

CONFIGS = [
    # 1. Grid 9 in windows of 4: stage 0 pads 9 -> 12 and shifts by 2 (the mask's regions fall
    #    on the padded map); PatchMerging of odd sides (9 -> 5 -> 3); stage 1 pads 5 -> 8 and
    #    shifts; stage 2 (3 <= 4) uses the whole 3x3 map as its window and never shifts.
    #    Also: gradients, the Microsoft layout, bias tables resized for windows 6 and 3.
    dict(name="shifted_padded", arch="swin_tiny_patch4_window7_224", seed=5001,
         args=dict(img_size=36, patch_size=4, embed_dim=8, depths=(2, 2, 2), num_heads=(2, 2, 4), window_size=4,
                   mlp_ratio=2.0, num_classes=5),
         gradients=["patch_embed.proj.weight", "layers.0.blocks.1.attn.relative_position_bias_table",
                    "layers.1.downsample.reduction.weight", "layers.2.blocks.1.mlp.fc1.weight"],
         microsoft=True, resize_windows=(6, 3)),
    # 2. Exact multiples, per-stage windows (2, 4, 2), qkv without bias, patch 2: stage 0 (8 in
    #    windows of 2) shifts by 1; stages 1 and 2 have window = map side (4, 2), no shift.
    dict(name="per_stage_windows", arch="swin_tiny_patch4_window7_224", seed=5002,
         args=dict(img_size=16, patch_size=2, embed_dim=6, depths=(2, 2, 1), num_heads=(3, 3, 6), window_size=(2, 4, 2),
                   mlp_ratio=4.0, qkv_bias=False, num_classes=4)),
    # 3. Window = grid from the start (4x4, so the odd block does not shift), no head; stage 1
    #    (2x2) shrinks the window to 2. Microsoft layout without a head.
    dict(name="window_is_resolution", arch="swin_tiny_patch4_window7_224", seed=5003,
         args=dict(img_size=16, patch_size=4, embed_dim=8, depths=(3, 1), num_heads=(2, 4), window_size=4,
                   mlp_ratio=2.0, num_classes=0),
         microsoft=True),
]


@torch.no_grad()
def perturb_(model, scale=NOISE):
    for _, p in model.named_parameters():
        p.add_(scale * torch.randn(p.shape))


def create(cfg, **overrides):
    args = dict(cfg["args"], **overrides)
    return timm.create_model(cfg["arch"], pretrained=False,
                             pretrained_cfg_overlay=dict(tag=None, hf_hub_id=None, url=None, license="mit"), **args)


def build(cfg):
    torch.manual_seed(cfg["seed"])
    model = create(cfg)
    perturb_(model)
    model.eval()
    a = cfg["args"]
    x = torch.randn(BATCH, 3, a["img_size"], a["img_size"])
    return model, x


def blocks_of(model):
    return [blk for stage in model.layers for blk in stage.blocks]


def capture(model, x):
    out = {"input": x.clone()}
    store = {}
    hooks = [model.patch_embed.register_forward_hook(lambda m, i, o: store.__setitem__("tokens", o.clone()))]
    for k, blk in enumerate(blocks_of(model)):
        hooks.append(blk.register_forward_hook(lambda m, i, o, k=k: store.__setitem__(f"block.{k}", o.clone())))
    with torch.no_grad():
        final = model.forward_features(x)
        features = model.forward_head(final, pre_logits=True)
        logits = model(x)
    for h in hooks:
        h.remove()
    out.update(store)
    out["final"] = final
    out["features"] = features
    if model.num_classes > 0:
        out["logits"] = logits
    with torch.no_grad():
        _, stages = model.forward_intermediates(x, norm=False)
    for i, s in enumerate(stages):
        out[f"stage.{i}"] = s.contiguous()
    # timm's fused (SDPA) and explicit attention paths agree
    with torch.no_grad():
        saved = [blk.attn.fused_attn for blk in blocks_of(model)]
        for fused in (False, True):
            for blk in blocks_of(model):
                blk.attn.fused_attn = fused
            assert (model.forward_features(x) - final).abs().max() < 1e-5, "fused vs explicit window attention"
        for blk, s in zip(blocks_of(model), saved):
            blk.attn.fused_attn = s
    return out


def capture_gradients(cfg, model, x, out):
    names = cfg.get("gradients")
    if not names:
        return
    params = dict(model.named_parameters())
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    torch.manual_seed(cfg["seed"] + 7)
    gout = torch.randn(logits.shape)
    model.zero_grad()
    (logits * gout).sum().backward()
    out["gout"] = gout
    out["grad.input"] = xg.grad.detach().clone()
    for n in names:
        out[f"grad.{n}"] = params[n].grad.detach().clone()
    model.zero_grad()


@torch.no_grad()
def fp64_deviation(model, x, ref):
    m64 = copy.deepcopy(model).double()
    final = m64.forward_features(x.double())
    d = {"final": (final.float() - ref["final"]).abs().max().item()}
    if "logits" in ref:
        d["logits"] = (m64.forward_head(final).float() - ref["logits"]).abs().max().item()
    return d


def write_reference(path, tensors, metadata):
    for k, t in tensors.items():
        assert t.dtype == torch.float32 and torch.isfinite(t).all(), k
    write_safetensors(path, {k: t.contiguous() for k, t in tensors.items()}, {k: str(v) for k, v in metadata.items()})
    back = safetensors.torch.load_file(path)
    assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors)


def microsoft_state_dict(model):
    """The original Microsoft layout of a timm model's weights, with the buffers it saves."""
    out = {}
    for k, v in model.state_dict().items():
        m = re.match(r"layers\.(\d+)\.downsample\.(.*)", k)
        if m:
            k = f"layers.{int(m.group(1)) - 1}.downsample.{m.group(2)}"
        elif k.startswith("head.fc."):
            k = "head." + k[len("head.fc."):]
        out[k] = v.clone()
    for i, stage in enumerate(model.layers):
        for j, blk in enumerate(stage.blocks):
            out[f"layers.{i}.blocks.{j}.attn.relative_position_index"] = blk.attn.relative_position_index.clone()
            if blk.attn_mask is not None:
                out[f"layers.{i}.blocks.{j}.attn_mask"] = blk.attn_mask.clone()
    return out


@torch.no_grad()
def write_microsoft(cfg, model, folder, x, ref):
    path = os.path.join(folder, "model_microsoft.pth")
    ms = microsoft_state_dict(model)
    assert "layers.0.downsample.reduction.weight" in ms and not any(k.startswith("head.fc") for k in ms)
    torch.save({"model": ms}, path)
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    torch.manual_seed(cfg["seed"] + 100)
    fresh = create(cfg).eval()
    fresh.load_state_dict(checkpoint_filter_fn(loaded, fresh), strict=True)
    sd = model.state_dict()
    fsd = fresh.state_dict()
    assert set(fsd) == set(sd) and all(torch.equal(fsd[k], sd[k]) for k in sd), "Microsoft layout inversion"
    assert torch.equal(fresh.forward_features(x), ref["final"])


@torch.no_grad()
def write_resized(cfg, model, folder):
    for window in cfg.get("resize_windows", ()):
        torch.manual_seed(cfg["seed"] + 200 + window)
        m2 = create(cfg, window_size=window).eval()
        m2.load_state_dict(checkpoint_filter_fn(dict(model.state_dict()), m2), strict=True)
        a = cfg["args"]
        x = torch.randn(BATCH, 3, a["img_size"], a["img_size"])
        final = m2.forward_features(x)
        out = {"input": x, "features": m2.forward_head(final, pre_logits=True), "logits": m2.forward_head(final),
               "table.layers.0.blocks.0": m2.layers[0].blocks[0].attn.relative_position_bias_table.detach().clone()}
        windows = [blk.attn.window_size[0] for blk in blocks_of(m2)]
        meta = {"window_size": window, "effective_windows": ",".join(map(str, windows))}
        write_reference(os.path.join(folder, f"reference_window{window}.safetensors"), out, meta)


@torch.no_grad()
def check_local_dir(folder, x, ref):
    m = timm.create_model("local-dir:" + folder, pretrained=True).eval()
    assert torch.equal(m.forward_features(x), ref["final"])
    if "logits" in ref:
        assert torch.equal(m(x), ref["logits"])


def make_config(cfg):
    folder = os.path.join(OUT_DIR, cfg["name"])
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    model, x = build(cfg)
    ref = capture(model, x)
    dev = fp64_deviation(model, x, ref)
    capture_gradients(cfg, model, x, ref)
    windows = [blk.attn.window_size[0] for blk in blocks_of(model)]
    shifts = [blk.shift_size[0] for blk in blocks_of(model)]
    meta = {"effective_windows": ",".join(map(str, windows)), "shifts": ",".join(map(str, shifts)),
            "fp32_vs_fp64_max_abs_final": f"{dev['final']:.3e}"}
    if "logits" in dev:
        meta["fp32_vs_fp64_max_abs_logits"] = f"{dev['logits']:.3e}"
    write_reference(os.path.join(folder, "reference.safetensors"), ref, meta)

    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    safetensors.torch.save_file(sd, os.path.join(folder, "model.safetensors"))
    save_config_for_hf(model, os.path.join(folder, "config.json"))
    with open(os.path.join(folder, "config.json")) as f:
        written = json.load(f)
    assert written["architecture"] == cfg["arch"], written
    check_local_dir(folder, x, ref)
    if cfg.get("microsoft"):
        write_microsoft(cfg, model, folder, x, ref)
    write_resized(cfg, model, folder)
    return folder, dev, windows, shifts


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for cfg in CONFIGS:
        folder, dev, windows, shifts = make_config(cfg)
        for f in sorted(os.listdir(folder)):
            p = os.path.join(folder, f)
            total += os.path.getsize(p)
            digest = hashlib.sha256(open(p, "rb").read()).hexdigest()[:12]
            print(f"{os.path.relpath(p, REPO)}: {os.path.getsize(p)} bytes sha256:{digest}")
        print(f"  windows per block {windows}, shifts {shifts}")
        print(f"  fp32 vs fp64 max |diff|: " + ", ".join(f"{k} {v:.2e}" for k, v in dev.items()))
    print(f"total: {total} bytes (torch {torch.__version__}, timm {timm.__version__})")
    if total >= SIZE_LIMIT:
        print("error: Swin fixture set exceeds 1 MB", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
