#!/usr/bin/env python3
"""Writes timm reference fixtures for the Swift VisionTransformer (and its checkpoint loaders).

For six tiny ViT configurations (see CONFIGS) it builds
`timm.models.vision_transformer.VisionTransformer(**model_args)`, perturbs EVERY parameter with
0.02 * N(0, 1) (so no LayerNorm is the identity, no bias is zero, LayerScale gammas vary, cls/pos
are not trivial), switches to eval mode and writes `Tests/ModelsTests/Fixtures/vit/<name>/`:

  config.json            timm Hugging Face hub format, written by timm's own `save_config_for_hf`,
                         with the full constructor arguments under "model_args" (plus our
                         "norm_layer_eps", which timm itself does not understand: strip it before
                         handing model_args to timm)
  model.safetensors      the state dict with timm names, via `safetensors.torch.save_file`
                         (what `timm.models.save_for_hf(..., safe_serialization=True)` writes)
  reference.safetensors  input [2,3,H,W], logits (absent when num_classes == 0), features
                         (pre-logits), patch_embed, tokens (entering block 0), block.{i},
                         attn.{i} ([B,heads,N,N] softmax probabilities), final (forward_features)

and, for `cls_token` only, the same weights as `model.npz` (ORIGINAL Google ViT .npz layout,
verified by loading it with timm's `_load_weights`), `model.pth` (torch.save zip format with
non-contiguous / offset / storage-sharing tensors) and `model_legacy.pth` (legacy non-zip
torch.save of {"state_dict": {"module." + k: v}}). For `cls_token` and `avg_fc_norm` it also
writes `reference_resampled.safetensors`: a second image size whose pos_embed was resampled with
timm's `resample_abs_pos_embed` exactly as `checkpoint_filter_fn` does (bicubic, antialias=True,
prefix tokens kept). Every file is cross-checked against timm's own loaders before it is kept.
The file formats and keys are documented in scripts/reference/FIXTURES.md ("ViT fixtures").

Deterministic: seeded per configuration, single-threaded torch, byte-identical on rerun (the
.npz is written with fixed zip timestamps). The fixture set must stay below 1.5 MB.

`--full` additionally writes `assets/vit_base_patch16_224/{config.json, model.safetensors,
reference.safetensors}` (~330 MB, git-ignored, not run in CI) for a random-init, perturbed
`vit_base_patch16_224` (num_classes 1000): input [2,3,224,224], logits, features, final.

Run:  .venv/bin/python scripts/reference/make_vit_fixtures.py [--full]
"""

import argparse
import copy
import functools
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile

import numpy as np
import safetensors.torch
import timm
import torch
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, IMAGENET_INCEPTION_MEAN, \
    IMAGENET_INCEPTION_STD, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
from timm.layers import LayerNorm, resample_abs_pos_embed
from timm.models._hub import load_model_config_from_path, save_config_for_hf
from timm.models.vision_transformer import VisionTransformer, _load_weights, checkpoint_filter_fn

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writer)

OUT_DIR = os.path.join(REPO, "Tests", "ModelsTests", "Fixtures", "vit")
ASSETS_DIR = os.path.join(REPO, "assets", "vit_base_patch16_224")
SIZE_LIMIT = 1_500_000
NOISE = 0.02
BATCH = 2

torch.set_num_threads(1)  # deterministic reductions / summation order
torch.use_deterministic_algorithms(True)


# ----------------------------------------------------------------------------------------------
# configurations

def _args(**kw):
    """Full VisionTransformer constructor arguments in the order they appear in config.json."""
    base = dict(img_size=16, patch_size=4, in_chans=3, num_classes=5, embed_dim=32, depth=2,
                num_heads=2, mlp_ratio=4.0, qkv_bias=True, class_token=True, global_pool="token",
                fc_norm=False, pre_norm=False, init_values=None, act_layer="gelu")
    for k in kw:
        assert k in base, k
    base.update(kw)
    return base


CONFIGS = [
    # 1. ViT-B/16-style (the original Google arch): CLS token, token pooling after the final
    #    LayerNorm, qkv bias, eps 1e-6, exact GELU. Also gets .npz/.pth/legacy .pth + resampling.
    dict(name="cls_token", arch="vit_base_patch16_224", seed=3001, eps=1e-6,
         args=_args(),
         data=dict(mean=IMAGENET_INCEPTION_MEAN, std=IMAGENET_INCEPTION_STD),
         extra_formats=True, resample_img=24),  # grid 4 -> 6 (upsampling)
    # 2. MAE-style: class token kept, but pooling = mean over the PATCH tokens, then fc_norm
    #    (self.norm becomes Identity). Resampled to a SMALLER grid (antialiasing is active).
    dict(name="avg_fc_norm", arch="vit_base_patch16_224", seed=3002, eps=1e-6,
         args=_args(embed_dim=48, num_heads=4, mlp_ratio=2.0, global_pool="avg", fc_norm=True),
         data=dict(mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD),
         resample_img=12),  # grid 4 -> 3 (downsampling), head_dim 12
    # 3. CLIP image tower: pre-norm (norm_pre LayerNorm, patch_embed WITHOUT bias), QuickGELU,
    #    LayerNorm eps 1e-5.
    dict(name="clip_quick_gelu", arch="vit_base_patch16_clip_quickgelu_224", seed=3003, eps=1e-5,
         args=_args(num_heads=4, pre_norm=True, act_layer="quick_gelu"),
         data=dict(mean=OPENAI_CLIP_MEAN, std=OPENAI_CLIP_STD)),
    # 4. No class token, mean pooling, fc_norm, LayerScale (ls1/ls2 gammas), qkv WITHOUT bias.
    dict(name="layer_scale_no_cls", arch="vit_base_patch16_224", seed=3004, eps=1e-6,
         args=_args(depth=3, num_heads=4, mlp_ratio=2.0, qkv_bias=False, class_token=False,
                    global_pool="avg", fc_norm=True, init_values=0.1),
         data=dict(mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD)),
    # 5. Like 1 but no head (num_classes 0): head is Identity, no head.* tensors, no logits.
    dict(name="features_only", arch="vit_base_patch16_224", seed=3005, eps=1e-6,
         args=_args(num_classes=0),
         data=dict(mean=IMAGENET_INCEPTION_MEAN, std=IMAGENET_INCEPTION_STD)),
    # 6. Patch 7 on a 28 image: 4x4 grid, kernel size odd like the /14 models.
    dict(name="patch14_like", arch="vit_base_patch16_224", seed=3006, eps=1e-6,
         args=_args(img_size=28, patch_size=7, mlp_ratio=2.0),
         data=dict(mean=IMAGENET_INCEPTION_MEAN, std=IMAGENET_INCEPTION_STD)),
]


def ctor_kwargs(cfg, img_size=None):
    kw = dict(cfg["args"])
    if img_size is not None:
        kw["img_size"] = img_size
    kw["norm_layer"] = functools.partial(LayerNorm, eps=cfg["eps"])
    return kw


def timm_kwargs(cfg):
    """What timm.create_model(arch, **kw) needs to rebuild exactly this module (None dropped)."""
    return {k: v for k, v in cfg["args"].items() if v is not None}


# ----------------------------------------------------------------------------------------------
# model, capture

@torch.no_grad()
def perturb_(model, scale=NOISE):
    for _, p in model.named_parameters():
        p.add_(scale * torch.randn(p.shape))


def build(cfg):
    torch.manual_seed(cfg["seed"])
    model = VisionTransformer(**ctor_kwargs(cfg))
    perturb_(model)
    model.eval()
    a = cfg["args"]
    x = torch.randn(BATCH, a["in_chans"], a["img_size"], a["img_size"])
    return model, x


@torch.no_grad()
def capture(model, x):
    """Runs timm's forward twice (fused SDPA, then the explicit softmax path) and records
    tokens / blocks / attention probabilities with hooks. Returns a dict of tensors."""
    out = {"input": x.clone()}
    hooks = []
    store = {}
    hooks.append(model.patch_embed.register_forward_hook(
        lambda m, i, o: store.__setitem__("patch_embed", o.clone())))
    hooks.append(model.blocks[0].register_forward_pre_hook(
        lambda m, i: store.__setitem__("tokens", i[0].clone())))
    qkv_probs = {}
    for bi, blk in enumerate(model.blocks):
        hooks.append(blk.register_forward_hook(
            lambda m, i, o, bi=bi: store.__setitem__(f"block.{bi}", o.clone())))

        def qkv_hook(m, i, o, bi=bi, attn=blk.attn):
            B, N, _ = o.shape
            qkv = o.reshape(B, N, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
            q, k, _v = qkv.unbind(0)
            qkv_probs[bi] = ((q * attn.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        hooks.append(blk.attn.qkv.register_forward_hook(qkv_hook))

    final = model.forward_features(x)
    features = model.forward_head(final, pre_logits=True)
    logits = model(x)
    out.update(store)
    out["final"] = final
    out["features"] = features
    if model.num_classes > 0:
        out["logits"] = logits
    else:
        assert torch.equal(logits, features)

    # explicit re-computation of the block-0 input with timm's own submodules
    t = model.norm_pre(model.patch_drop(model._pos_embed(model.patch_embed(x))))
    assert torch.equal(t, out["tokens"])

    # second pass: timm's non-fused attention, hook the probabilities entering attn_drop
    for h in hooks:
        h.remove()
    probs = {}
    hooks = []
    saved = [blk.attn.fused_attn for blk in model.blocks]
    for bi, blk in enumerate(model.blocks):
        blk.attn.fused_attn = False
        hooks.append(blk.attn.attn_drop.register_forward_pre_hook(
            lambda m, i, bi=bi: probs.__setitem__(bi, i[0].clone())))
    final2 = model.forward_features(x)
    for h in hooks:
        h.remove()
    for blk, s in zip(model.blocks, saved):
        blk.attn.fused_attn = s
    assert (final2 - final).abs().max() < 1e-5, "fused vs unfused attention disagree"
    for bi in range(len(model.blocks)):
        assert (probs[bi] - qkv_probs[bi]).abs().max() < 1e-6
        assert torch.allclose(probs[bi].sum(-1), torch.ones(()), atol=1e-5)
        out[f"attn.{bi}"] = probs[bi]
    return out


@torch.no_grad()
def fp64_deviation(model, x, ref):
    m64 = copy.deepcopy(model).double()
    final = m64.forward_features(x.double())
    d = {"final": (final.float() - ref["final"]).abs().max().item()}
    if "logits" in ref:
        d["logits"] = (m64.forward_head(final).float() - ref["logits"]).abs().max().item()
    return d


# ----------------------------------------------------------------------------------------------
# file writers

def write_config(cfg, model, folder, img_size=None):
    """config.json via timm's own save_config_for_hf on a timm.create_model twin of the model."""
    a = cfg["args"]
    size = img_size or a["img_size"]
    twin = timm.create_model(
        cfg["arch"], pretrained=False,
        pretrained_cfg_overlay=dict(tag=None, hf_hub_id=None, url=None, notes=None, license="apache-2.0",
                                    interpolation="bicubic", crop_pct=1.0, crop_mode="center",
                                    mean=tuple(cfg["data"]["mean"]), std=tuple(cfg["data"]["std"])),
        **timm_kwargs(cfg))
    twin.load_state_dict(model.state_dict(), strict=True)
    for name, m in twin.named_modules():  # the twin must be the same network, eps included
        if isinstance(m, torch.nn.LayerNorm):
            assert m.eps == cfg["eps"], (cfg["name"], name, m.eps)
    save_config_for_hf(twin, os.path.join(folder, "config.json"),
                       model_args={"init_values": a["init_values"], "norm_layer_eps": cfg["eps"]})
    with open(os.path.join(folder, "config.json")) as f:
        written = json.load(f)
    assert written["pretrained_cfg"]["input_size"] == [a["in_chans"], size, size]
    assert written["model_args"]["img_size"] == [size, size]
    return twin


def save_npz_deterministic(path, arrays):
    """np.savez's layout (ZIP_STORED members `<key>.npy`, zip64 extras) with fixed timestamps."""
    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, val in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as fid:
                np.lib.format.write_array(fid, np.ascontiguousarray(val), allow_pickle=False)


def to_google_npz(model, rng):
    """Inverse of docs/protocols.md's Google .npz -> timm mapping (and of timm's _load_weights)."""
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    D = model.embed_dim
    out = {}
    out["embedding/kernel"] = sd["patch_embed.proj.weight"].transpose(2, 3, 1, 0)  # OIHW -> HWIO
    out["embedding/bias"] = sd["patch_embed.proj.bias"]
    out["cls"] = sd["cls_token"]  # (1,1,D)
    out["Transformer/posembed_input/pos_embedding"] = sd["pos_embed"]  # (1,N,D)
    for i, blk in enumerate(model.blocks):
        p = f"blocks.{i}."
        g = f"Transformer/encoderblock_{i}/"
        H, Dh = blk.attn.num_heads, blk.attn.head_dim
        out[g + "LayerNorm_0/scale"] = sd[p + "norm1.weight"]
        out[g + "LayerNorm_0/bias"] = sd[p + "norm1.bias"]
        qkv_w = sd[p + "attn.qkv.weight"]  # (3*H*Dh, D): rows q, k, v
        qkv_b = sd[p + "attn.qkv.bias"]
        for j, n in enumerate(("query", "key", "value")):
            w = qkv_w[j * H * Dh:(j + 1) * H * Dh]  # (H*Dh, D)
            out[g + f"MultiHeadDotProductAttention_1/{n}/kernel"] = w.T.reshape(D, H, Dh)
            out[g + f"MultiHeadDotProductAttention_1/{n}/bias"] = qkv_b[j * H * Dh:(j + 1) * H * Dh].reshape(H, Dh)
        out[g + "MultiHeadDotProductAttention_1/out/kernel"] = sd[p + "attn.proj.weight"].T.reshape(H, Dh, D)
        out[g + "MultiHeadDotProductAttention_1/out/bias"] = sd[p + "attn.proj.bias"]
        out[g + "LayerNorm_2/scale"] = sd[p + "norm2.weight"]
        out[g + "LayerNorm_2/bias"] = sd[p + "norm2.bias"]
        for r in range(2):
            out[g + f"MlpBlock_3/Dense_{r}/kernel"] = sd[p + f"mlp.fc{r + 1}.weight"].T
            out[g + f"MlpBlock_3/Dense_{r}/bias"] = sd[p + f"mlp.fc{r + 1}.bias"]
    out["Transformer/encoder_norm/scale"] = sd["norm.weight"]
    out["Transformer/encoder_norm/bias"] = sd["norm.bias"]
    out["head/kernel"] = sd["head.weight"].T
    out["head/bias"] = sd["head.bias"]
    # The original in21k ViT-B_16.npz also carries the representation layer; timm ignores it.
    out["pre_logits/kernel"] = (0.02 * rng.standard_normal((D, D))).astype(np.float32)
    out["pre_logits/bias"] = (0.02 * rng.standard_normal((D,))).astype(np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def exotic_state_dict(sd):
    """Same values, but some tensors are non-contiguous views / offset into / sharing a storage."""
    out = {k: v.clone() for k, v in sd.items()}
    # transposed view: strides (1, rows)
    w = sd["blocks.0.attn.qkv.weight"]
    out["blocks.0.attn.qkv.weight"] = w.t().contiguous().t()
    # slice view with a storage offset (storage is larger than the tensor)
    pe = sd["pos_embed"]
    buf = torch.zeros(pe.numel() + 11)
    buf[7:7 + pe.numel()] = pe.flatten()
    out["pos_embed"] = buf[7:7 + pe.numel()].view(pe.shape)
    # strided slice: every other column of a wider matrix
    pw = sd["blocks.1.attn.proj.weight"]
    wide = torch.zeros(pw.shape[0], 2 * pw.shape[1])
    wide[:, ::2] = pw
    out["blocks.1.attn.proj.weight"] = wide[:, ::2]
    # two parameters sharing one storage (different offsets)
    nw, nb = sd["norm.weight"], sd["norm.bias"]
    both = torch.cat([nw, nb])
    out["norm.weight"] = both[:nw.numel()]
    out["norm.bias"] = both[nw.numel():]
    return out


def legacy_save_deterministic(obj, path):
    """torch.save(obj, path, _use_new_zipfile_serialization=False), byte-deterministic.

    torch's _legacy_save names each storage str(storage._cdata) (a heap address) and writes the
    storages sorted by that name, so its bytes change from run to run. This is the same writer
    (same pickle protocol 2 stream, same persistent ids, same storage records) with the storages
    named "0", "1", ... in order of first appearance. torch.load reads both identically.
    """
    import pickle
    from torch.serialization import MAGIC_NUMBER, PROTOCOL_VERSION, LONG_SIZE, INT_SIZE, SHORT_SIZE, \
        location_tag, _should_read_directly

    names, storages = {}, {}

    class LegacyPickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, torch.storage.TypedStorage):
                st = o._untyped_storage
                key = names.setdefault(st.data_ptr(), str(len(names)))
                storages.setdefault(key, (st, o.dtype))
                return ("storage", getattr(torch, o._pickle_storage_type()), key, location_tag(st),
                        o._size(), None)
            assert not torch.is_storage(o), type(o)
            return None

    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": SHORT_SIZE, "int": INT_SIZE, "long": LONG_SIZE}}
    with open(path, "wb") as f:
        pickle.dump(MAGIC_NUMBER, f, protocol=2)
        pickle.dump(PROTOCOL_VERSION, f, protocol=2)
        pickle.dump(sys_info, f, protocol=2)
        LegacyPickler(f, protocol=2).dump(obj)
        keys = sorted(storages)
        pickle.dump(keys, f, protocol=2)
        f.flush()
        for key in keys:
            st, dtype = storages[key]
            st._write_file(f, _should_read_directly(f), True, torch._utils._element_size(dtype))


def write_reference(path, tensors, metadata):
    for k, t in tensors.items():
        assert t.dtype == torch.float32 and torch.isfinite(t).all(), k
    write_safetensors(path, tensors, {k: str(v) for k, v in metadata.items()})
    back = safetensors.torch.load_file(path)
    assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors)


# ----------------------------------------------------------------------------------------------
# checks against timm's own loaders

@torch.no_grad()
def check_local_dir(cfg, folder, x, ref, img_size=None, ref_resampled=None):
    """timm.create_model('local-dir:...') on a copy whose model_args lack norm_layer_eps."""
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(folder, "config.json")) as f:
            c = json.load(f)
        assert c["model_args"].pop("norm_layer_eps") == cfg["eps"]
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(c, f)
        shutil.copy(os.path.join(folder, "model.safetensors"), tmp)
        _, arch, margs = load_model_config_from_path(tmp)
        assert arch == cfg["arch"], arch
        m = timm.create_model("local-dir:" + tmp, pretrained=True).eval()
        for _, mod in m.named_modules():
            if isinstance(mod, torch.nn.LayerNorm):
                assert mod.eps == cfg["eps"]
        assert torch.equal(m.forward_features(x), ref["final"])
        if "logits" in ref:
            assert torch.equal(m(x), ref["logits"])
        if img_size is not None:
            m2 = timm.create_model("local-dir:" + tmp, pretrained=True, img_size=img_size).eval()
            assert torch.equal(m2.pos_embed, ref_resampled["pos_embed"])
            y = m2.forward_head(m2.forward_features(ref_resampled["input"]), pre_logits=True)
            assert torch.equal(y, ref_resampled["features"])


@torch.no_grad()
def write_extra_formats(cfg, model, folder, x, ref):
    sd = model.state_dict()
    # --- Google .npz
    npz = to_google_npz(model, np.random.default_rng(cfg["seed"]))
    npz_path = os.path.join(folder, "model.npz")
    save_npz_deterministic(npz_path, npz)
    torch.manual_seed(cfg["seed"] + 100)  # a different random init, fully overwritten by the npz
    fresh = VisionTransformer(**ctor_kwargs(cfg)).eval()
    _load_weights(fresh, npz_path)
    fsd = fresh.state_dict()
    assert set(fsd) == set(sd) and all(torch.equal(fsd[k], sd[k]) for k in sd), "npz inversion"
    assert torch.equal(fresh(x), ref["logits"])
    # --- torch.save zip with exotic storages
    pth_path = os.path.join(folder, "model.pth")
    ex = exotic_state_dict(sd)
    torch.save(ex, pth_path)
    back = torch.load(pth_path, map_location="cpu", weights_only=True)
    assert set(back) == set(sd) and all(torch.equal(back[k], sd[k]) for k in sd)
    assert back["blocks.0.attn.qkv.weight"].stride() == (1, sd["blocks.0.attn.qkv.weight"].shape[0])
    assert back["pos_embed"].storage_offset() == 7
    assert back["blocks.1.attn.proj.weight"].stride() == (2 * sd["blocks.1.attn.proj.weight"].shape[1], 2)
    assert back["norm.bias"].untyped_storage().data_ptr() == back["norm.weight"].untyped_storage().data_ptr()
    # --- legacy (pre-1.6) torch.save of a wrapped, DDP-prefixed dict
    legacy_path = os.path.join(folder, "model_legacy.pth")
    wrapped = {"state_dict": {"module." + k: v.clone() for k, v in sd.items()}}
    legacy_save_deterministic(wrapped, legacy_path)
    assert not zipfile.is_zipfile(legacy_path)
    with tempfile.TemporaryDirectory() as tmp:  # same layout as torch's own legacy writer
        torch.save(wrapped, os.path.join(tmp, "t.pth"), _use_new_zipfile_serialization=False)
        assert os.path.getsize(os.path.join(tmp, "t.pth")) > 0
        theirs = torch.load(os.path.join(tmp, "t.pth"), map_location="cpu", weights_only=True)
        ours = torch.load(legacy_path, map_location="cpu", weights_only=True)
        assert list(theirs["state_dict"]) == list(ours["state_dict"])
        assert all(torch.equal(theirs["state_dict"][k], ours["state_dict"][k]) for k in theirs["state_dict"])
    for path in (pth_path, legacy_path):
        torch.manual_seed(cfg["seed"] + 200)
        m = VisionTransformer(**ctor_kwargs(cfg)).eval()
        timm.models.load_checkpoint(m, path, strict=True)  # unwraps 'state_dict', strips 'module.'
        assert torch.equal(m(x), ref["logits"])


@torch.no_grad()
def make_resampled(cfg, model, folder):
    a = cfg["args"]
    new_img = cfg["resample_img"]
    old_grid = model.patch_embed.grid_size
    torch.manual_seed(cfg["seed"] + 300)
    x = torch.randn(BATCH, a["in_chans"], new_img, new_img)
    m2 = VisionTransformer(**ctor_kwargs(cfg, img_size=new_img)).eval()
    new_grid = m2.patch_embed.grid_size
    sd = dict(model.state_dict())
    npt = 0 if m2.no_embed_class else m2.num_prefix_tokens
    sd["pos_embed"] = resample_abs_pos_embed(
        sd["pos_embed"], new_size=new_grid, old_size=old_grid, num_prefix_tokens=npt,
        interpolation="bicubic", antialias=True)
    # identical to what timm's checkpoint_filter_fn produces for this model
    filtered = checkpoint_filter_fn(dict(model.state_dict()), m2)
    assert torch.equal(filtered["pos_embed"], sd["pos_embed"])
    m2.load_state_dict(sd, strict=True)
    out = {"input": x, "pos_embed": m2.pos_embed.detach().clone()}
    final = m2.forward_features(x)
    out["features"] = m2.forward_head(final, pre_logits=True)
    if m2.num_classes > 0:
        out["logits"] = m2.forward_head(final)
    meta = {"img_size": new_img, "grid_size": f"{new_grid[0]},{new_grid[1]}",
            "old_grid_size": f"{old_grid[0]},{old_grid[1]}", "num_prefix_tokens": npt,
            "interpolation": "bicubic", "antialias": "true"}
    write_reference(os.path.join(folder, "reference_resampled.safetensors"), out, meta)
    return out


# ----------------------------------------------------------------------------------------------

def make_config(cfg):
    folder = os.path.join(OUT_DIR, cfg["name"])
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    model, x = build(cfg)
    ref = capture(model, x)
    dev = fp64_deviation(model, x, ref)
    a = cfg["args"]
    meta = {"img_size": a["img_size"], "num_heads": a["num_heads"],
            "num_prefix_tokens": model.num_prefix_tokens,
            "fp32_vs_fp64_max_abs_final": f"{dev['final']:.3e}"}
    if "logits" in dev:
        meta["fp32_vs_fp64_max_abs_logits"] = f"{dev['logits']:.3e}"
    write_reference(os.path.join(folder, "reference.safetensors"), ref, meta)

    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    safetensors.torch.save_file(sd, os.path.join(folder, "model.safetensors"))
    back = safetensors.torch.load_file(os.path.join(folder, "model.safetensors"))
    assert set(back) == set(sd) and all(torch.equal(back[k], sd[k]) for k in sd)

    write_config(cfg, model, folder)
    resampled = make_resampled(cfg, model, folder) if cfg.get("resample_img") else None
    check_local_dir(cfg, folder, x, ref, cfg.get("resample_img"), resampled)
    if cfg.get("extra_formats"):
        write_extra_formats(cfg, model, folder, x, ref)
    return folder, dev


def make_full():
    """assets/vit_base_patch16_224: random-init (perturbed) ViT-B/16, batch-2 reference."""
    os.makedirs(ASSETS_DIR, exist_ok=True)
    torch.manual_seed(4001)
    model = timm.create_model("vit_base_patch16_224", pretrained=False,
                              pretrained_cfg_overlay=dict(tag=None, hf_hub_id=None, url=None))
    perturb_(model)
    model.eval()
    x = torch.randn(BATCH, 3, 224, 224)
    with torch.no_grad():
        final = model.forward_features(x)
        ref = {"input": x, "final": final, "features": model.forward_head(final, pre_logits=True),
               "logits": model.forward_head(final)}
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    safetensors.torch.save_file(sd, os.path.join(ASSETS_DIR, "model.safetensors"))
    margs = dict(img_size=224, patch_size=16, in_chans=3, num_classes=1000, embed_dim=768, depth=12,
                 num_heads=12, mlp_ratio=4.0, qkv_bias=True, class_token=True, global_pool="token",
                 fc_norm=False, pre_norm=False, init_values=None, act_layer="gelu", norm_layer_eps=1e-6)
    save_config_for_hf(model, os.path.join(ASSETS_DIR, "config.json"), model_args=margs)
    write_reference(os.path.join(ASSETS_DIR, "reference.safetensors"), ref, {"img_size": 224})
    check_local_dir(dict(eps=1e-6, arch="vit_base_patch16_224"), ASSETS_DIR, x, ref)
    for f in sorted(os.listdir(ASSETS_DIR)):
        print(f"{os.path.relpath(os.path.join(ASSETS_DIR, f), REPO)}: {os.path.getsize(os.path.join(ASSETS_DIR, f))} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="also write assets/vit_base_patch16_224 (~330 MB)")
    args = ap.parse_args()
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for cfg in CONFIGS:
        folder, dev = make_config(cfg)
        for f in sorted(os.listdir(folder)):
            p = os.path.join(folder, f)
            total += os.path.getsize(p)
            digest = hashlib.sha256(open(p, "rb").read()).hexdigest()[:12]
            print(f"{os.path.relpath(p, REPO)}: {os.path.getsize(p)} bytes sha256:{digest}")
        print(f"  fp32 vs fp64 max |diff|: " + ", ".join(f"{k} {v:.2e}" for k, v in dev.items()))
    print(f"total: {total} bytes (torch {torch.__version__}, timm {timm.__version__})")
    if total >= SIZE_LIMIT:
        print("error: ViT fixture set exceeds 1.5 MB", file=sys.stderr)
        sys.exit(1)
    if args.full:
        make_full()


if __name__ == "__main__":
    main()
