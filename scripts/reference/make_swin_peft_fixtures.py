#!/usr/bin/env python3
"""Writes PyTorch parity fixtures for the Swift PEFT methods on a tiny timm Swin (the companion of
make_peft_fixtures.py, whose ViT cases it leaves untouched).

The backbone is `Tests/ModelsTests/Fixtures/swin/shifted_padded/` (make_swin_fixtures.py: img 36,
patch 4, widths 8/16/32 over three stages of two blocks, heads 2/2/4, window 4, mlp ratio 2, 5
classes): stage 0 pads its 9x9 map to 12 and shifts, patch merging meets odd sides, stage 2 is
one whole-map window. Every method is re-implemented here from its definition on timm's
`SwinTransformerBlock` (same child names as the ViT block: norm1, attn.qkv, attn.proj, norm2,
mlp.fc1, mlp.fc2), at each block's own width C and with tensor names under the block's timm path
(`layers.1.blocks.0.attn.qkv.lora_A.q`). A method that acts on a block's token sequence sees the
block's map as tokens [B, H*W, C] in row-major order (a grid with no class token): the block's
forward is rewritten as

    t = x.reshape(B, H*W, C); h = norm1(t); z = _attn(h as a map)        (timm's windowed attention)
    t = after(t + DropPath(branch(z)) + bypass(t, h));  h = norm2(t); z = mlp(h)
    t = after(t + DropPath(branch(z)) + bypass(t, h));  back to [B, H, W, C]

with each method's modules in `branch` / `bypass` / `after` of the attention or MLP sub-layer
(their definitions as in make_peft_fixtures.py), or as patched linear / norm / conv forwards.

For each case in CASES it writes `Tests/PEFTTests/Fixtures/swin/<case>.safetensors` with the same
contents and conventions as the ViT fixtures (every trainable tensor with random values, input
[2,3,36,36], labels, logits, loss, grad.<name>; frozen.* and state.* where the method has them;
metadata method + options). Self-checks: the base model reproduces the swin fixture's
reference logits exactly; every gradient is non-zero and the method moves the logits; identity at
the intended init for the methods that claim it.

Run:  .venv/bin/python scripts/reference/make_swin_peft_fixtures.py
"""

import json
import math
import os
import sys

import safetensors.torch
import timm
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402
from make_peft_fixtures import (BACKBONE_NOISE, QKV, REPO, Tensors, i_kaiming, i_linear_bias, i_normal, i_ones,  # noqa: E402
                                i_uniform, i_xavier, i_zeros, patch_linear_rows, quick_gelu, r_scale, split_heads)

SWIN_DIR = os.path.join(REPO, "Tests", "ModelsTests", "Fixtures", "swin", "shifted_padded")
OUT_DIR = os.path.join(REPO, "Tests", "PEFTTests", "Fixtures", "swin")
SIZE_LIMIT = 2_500_000
BATCH = 2
IDENTITY_TOL = 1e-6

CASES = [
    ("full", "full", {}),
    ("linear", "linear", {}),
    ("partial", "partial", {"k": 1}),
    ("bitfit", "bitfit", {}),
    ("ln_tune", "ln_tune", {}),
    ("adapter_houlsby", "adapter", {"dim": 4, "houlsby": True}),
    ("adaptformer", "adaptformer", {"dim": 4, "scale": 0.7}),
    ("lora", "lora", {"rank": 2, "alpha": 3, "targets": ["q", "v"]}),
    ("lora_all", "lora", {"rank": 2, "alpha": 3, "targets": ["q", "k", "v", "proj", "fc1", "fc2"]}),
    ("dora", "dora", {"rank": 2, "alpha": 2, "targets": ["q", "v"]}),
    ("vera", "vera", {"rank": 4, "targets": ["q", "v"]}),
    ("ssf", "ssf", {}),
    ("rep_adapter", "rep_adapter", {"dim": 4, "groups": 2, "scale": 0.8}),
    ("convpass", "convpass", {"dim": 4, "scale": 0.5}),
    ("visual_prompt", "visual_prompt", {}),
    ("difffit", "difffit", {}),
    ("hydra", "hydra", {"rank": 2, "scale": 0.6}),
    ("snf", "snf", {"flows": 2}),
    ("lorand", "lorand", {"branches": 2, "kernel": 3}),
    ("u_tuning", "u_tuning", {"length": 3, "dim": 4}),
    ("mona", "mona", {"dim": 6}),
    ("kadaptation", "kadaptation", {"kron": 4, "scale": 2.0}),
    ("sct", "sct", {"channels": 6}),
    ("gps", "gps", {"k": 2}),
    # targets by their timm paths in the block: the whole fused qkv (one A [r, C], B [3C, r]) and fc1
    ("lora_paths", "lora", {"rank": 2, "alpha": 3, "targets": ["attn.qkv", "mlp.fc1"]}),
    ("prefix", "prefix", {"length": 3}),
    ("patt", "patt", {"dim": 6, "scale": 0.4}),
    ("bapat", "bapat", {"dim": 6, "scale": 0.4, "adapter_dim": 4, "adapter_scale": 0.7}),
]
IDENTITY_AT_INIT = {"adapter", "adaptformer", "lora", "dora", "vera", "rep_adapter", "convpass", "difffit", "hydra", "u_tuning", "kadaptation", "sct", "gps",
                    "patt", "bapat"}


# ----------------------------------------------------------------------------------------------
# backbone

def load_backbone(dtype=torch.float32, state_dict=None):
    with open(os.path.join(SWIN_DIR, "config.json")) as f:
        cfg = json.load(f)
    model = timm.create_model(cfg["architecture"], pretrained=False,
                              pretrained_cfg_overlay=dict(tag=None, hf_hub_id=None, url=None, license="mit"), **cfg["model_args"])
    if state_dict is None:
        state_dict = safetensors.torch.load_file(os.path.join(SWIN_DIR, "model.safetensors"))
    model.load_state_dict(state_dict, strict=True)
    return model.to(dtype).eval()


def blocks(model):
    """(timm path, block) in forward order."""
    return [(f"layers.{s}.blocks.{i}", blk) for s, stage in enumerate(model.layers) for i, blk in enumerate(stage.blocks)]


def width(blk):
    return blk.norm1.normalized_shape[0]


def grid_side(blk):
    return blk.input_resolution[0]


class Hooks:
    """A sub-layer's modules: branch(z) transforms its output, bypass(t, h) adds beside it
    (t the stream, h the normed input), after(y) transforms the stream after the residual add."""

    def __init__(self, branch=None, bypass=None, after=None):
        self.branch, self.bypass, self.after = branch, bypass, after


def residual(t, z, h, hooks, drop_path):
    for k in hooks:
        if k.branch:
            z = k.branch(z)
    y = t + drop_path(z)
    for k in hooks:
        if k.bypass:
            y = y + k.bypass(t, h)
    for k in hooks:
        if k.after:
            y = k.after(y)
    return y


def hook_block(blk, attn=(), mlp=()):
    """Adds hooks to `blk`'s attention or MLP sub-layer (over the tokens of its map)."""
    if not hasattr(blk, "hooks"):
        blk.hooks = {"attn": [], "mlp": []}

        def forward(x, blk=blk):
            B, H, W, C = x.shape
            t = x.reshape(B, H * W, C)
            h = blk.norm1(t)
            z = blk._attn(h.reshape(B, H, W, C)).reshape(B, H * W, C)
            t = residual(t, z, h, blk.hooks["attn"], blk.drop_path1)
            h = blk.norm2(t)
            t = residual(t, blk.mlp(h), h, blk.hooks["mlp"], blk.drop_path2)
            return t.reshape(B, H, W, C)
        blk.forward = forward
    blk.hooks["attn"] += list(attn)
    blk.hooks["mlp"] += list(mlp)


def bottleneck(new, prefix, d, dim, act, down_init, down_bias_init):
    down = new.linear(f"{prefix}.down", d, dim, down_init, down_bias_init)
    up = new.linear(f"{prefix}.up", dim, d, i_zeros, i_zeros)
    return lambda z: up(act(down(z)))


def on_grid(p, side, op):
    """op over the tokens [B, side*side, m] laid out as an NCHW map (no class token on Swin)."""
    B, N, m = p.shape
    assert N == side * side, (N, side)
    return op(p.reshape(B, side, side, m).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).reshape(B, N, m)


# ----------------------------------------------------------------------------------------------
# methods: trains(model) = backbone tensors unfrozen (head added by the runner); attach(model, new, o)

def norm_names(model):
    return [n for n, _ in model.named_parameters() if n.split(".")[-2] in ("norm1", "norm2", "norm")]


def trains_full(model, o):
    return [n for n, _ in model.named_parameters()]


def trains_partial(model, o):
    # V-PETL's Partial-k on Swin: the last k blocks, no final norm (the block widths differ).
    paths = tuple(p + "." for p, _ in blocks(model)[-o["k"]:])
    return [n for n, _ in model.named_parameters() if n.startswith(paths)]


def trains_bitfit(model, o):
    return [n for n, _ in model.named_parameters() if n.endswith(".bias") and not n.startswith("head.")]


def trains_difffit(model, o):
    biases = ["patch_embed.proj.bias"] + [f"{p}.{s}.bias" for p, _ in blocks(model) for s in ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")]
    return [n for n, _ in model.named_parameters() if n in biases or n in norm_names(model)]


def attach_adapter(model, new, o):
    for p, blk in blocks(model):
        C = width(blk)
        mk = lambda site: bottleneck(new, f"{p}.adapter_{site}", C, o["dim"], F.gelu, i_kaiming, i_linear_bias(C))
        ad_attn = mk("attn") if o.get("houlsby") else None
        ad_mlp = mk("mlp")
        hook_block(blk, attn=[Hooks(branch=lambda z, a=ad_attn: z + a(z))] if ad_attn else [],
                   mlp=[Hooks(branch=lambda z, a=ad_mlp: z + a(z))])


def attach_adaptformer(model, new, o):
    for p, blk in blocks(model):
        C, q = width(blk), f"{p}.adaptformer"
        ln_w = new(f"{q}.norm.weight", (C,), i_ones, r_scale)
        ln_b = new(f"{q}.norm.bias", (C,), i_zeros)
        branch = bottleneck(new, q, C, o["dim"], F.relu, i_kaiming, i_zeros)
        hook_block(blk, mlp=[Hooks(bypass=lambda t, h, C=C, w=ln_w, b=ln_b, f=branch: o["scale"] * f(F.layer_norm(t, (C,), w, b, eps=1e-5)))])


def target_sites(model, targets):
    """(block path, linear, slice index or None, tensor prefix, suffix) — q/k/v are slices of qkv,
    `attn.qkv` the whole fused layer; proj/fc1/fc2 may be named by their paths in the block."""
    out = []
    for p, blk in blocks(model):
        for t in QKV:
            if t in targets or f"attn.qkv.{t}" in targets:
                out.append((p, blk.attn.qkv, QKV.index(t), f"{p}.attn.qkv", "." + t))
        if "attn.qkv" in targets:
            out.append((p, blk.attn.qkv, None, f"{p}.attn.qkv", ""))
        for t, site in (("proj", "attn.proj"), ("fc1", "mlp.fc1"), ("fc2", "mlp.fc2")):
            if t in targets or site in targets:
                out.append((p, blk.get_submodule(site), None, f"{p}.{site}", ""))
    return out


def patch_all(fns):
    for lin, row_fns in fns.values():
        patch_linear_rows(lin, row_fns)


def attach_lora(model, new, o):
    s, r, fns = o["alpha"] / o["rank"], o["rank"], {}
    for p, lin, idx, prefix, suffix in target_sites(model, o["targets"]):
        n_out = lin.out_features // 3 if idx is not None else lin.out_features
        A = new(f"{prefix}.lora_A{suffix}", (r, lin.in_features), i_kaiming)
        B = new(f"{prefix}.lora_B{suffix}", (n_out, r), i_zeros)
        fns.setdefault(prefix, (lin, {}))[1][idx] = lambda x, W, b, A=A, B=B: F.linear(x, W, b) + s * F.linear(F.linear(x, A), B)
    patch_all(fns)


def attach_dora(model, new, o):
    s, r, fns = o["alpha"] / o["rank"], o["rank"], {}
    for p, lin, idx, prefix, suffix in target_sites(model, o["targets"]):
        W0 = (lin.weight if idx is None else lin.weight[idx * lin.out_features // 3:(idx + 1) * lin.out_features // 3]).detach()
        A = new(f"{prefix}.lora_A{suffix}", (r, W0.shape[1]), i_kaiming)
        B = new(f"{prefix}.lora_B{suffix}", (W0.shape[0], r), i_zeros)
        norm0 = W0.float().norm(dim=1)
        m = new(f"{prefix}.dora_m{suffix}", (W0.shape[0],), lambda t, g, n=norm0: t.copy_(n),
                lambda shape, g, n=norm0: n * torch.exp(0.2 * torch.randn(shape, generator=g)))

        def fn(x, W, b, A=A, B=B, m=m):
            Wp = W + s * B @ A
            return (m / Wp.norm(dim=1).detach()) * F.linear(x, Wp) + b
        fns.setdefault(prefix, (lin, {}))[1][idx] = fn
    patch_all(fns)


def attach_vera(model, new, o):
    r, fns = o["rank"], {}
    sites = target_sites(model, o["targets"])
    outs = [lin.out_features // 3 if idx is not None else lin.out_features for _, lin, idx, _, _ in sites]
    max_in, max_out = max(lin.in_features for _, lin, _, _, _ in sites), max(outs)
    A, B = torch.empty(r, max_in), torch.empty(max_out, r)
    i_kaiming(A, new.gen)
    i_kaiming(B, new.gen)
    new.frozen = {"vera.A": A.to(new.dtype), "vera.B": B.to(new.dtype)}
    for (p, lin, idx, prefix, suffix), n_out in zip(sites, outs):
        lam_d = new(f"{prefix}.vera_lambda_d{suffix}", (r,), lambda t, g: t.fill_(0.1))
        lam_b = new(f"{prefix}.vera_lambda_b{suffix}", (n_out,), i_zeros)
        As, Bs = new.frozen["vera.A"][:, :lin.in_features], new.frozen["vera.B"][:n_out]
        fns.setdefault(prefix, (lin, {}))[1][idx] = lambda x, W, b, As=As, Bs=Bs, ld=lam_d, lb=lam_b: \
            F.linear(x, W, b) + lb * F.linear(ld * F.linear(x, As), Bs)
    patch_all(fns)


def attach_ssf(model, new, o):
    """After the patch conv, the norms outside the blocks (patch_embed.norm, each merge's norm),
    every block's norm1, qkv, proj, norm2, fc1, fc2, and the final norm."""
    mods = dict(model.named_modules())
    sites = ["patch_embed.proj", "patch_embed.norm"] + [f"layers.{s}.downsample.norm" for s in range(1, len(model.layers))]
    for p, _ in blocks(model):
        sites += [f"{p}.{s}" for s in ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2")]
    for site in sites + ["norm"]:
        mod = mods[site]
        c = mod.out_channels if isinstance(mod, torch.nn.Conv2d) else (mod.out_features if isinstance(mod, torch.nn.Linear) else mod.normalized_shape[0])
        g = new(f"{site}.ssf_scale", (c,), i_normal(1.0, 0.02), r_scale)
        b = new(f"{site}.ssf_shift", (c,), i_normal(0.0, 0.02))
        orig = type(mod).forward.__get__(mod)
        if isinstance(mod, torch.nn.Conv2d):
            mod.forward = lambda x, orig=orig, g=g, b=b: orig(x) * g.view(1, -1, 1, 1) + b.view(1, -1, 1, 1)
        else:
            mod.forward = lambda x, orig=orig, g=g, b=b: orig(x) * g + b


def attach_rep_adapter(model, new, o):
    dim, G, s = o["dim"], o["groups"], o["scale"]
    for p, blk in blocks(model):
        C = width(blk)
        for lin, site in ((blk.attn.qkv, "attn.qkv"), (blk.mlp.fc1, "mlp.fc1")):
            q = f"{p}.{site}.rep_adapter"
            down = new.linear(f"{q}.down", C, dim, i_xavier, i_zeros)
            up_w = new(f"{q}.up.weight", (C, dim // G), i_zeros)
            up_b = new(f"{q}.up.bias", (C,), i_zeros)

            def adapt(x, down=down, up_w=up_w, up_b=up_b):
                z = F.conv1d(down(x).transpose(-1, -2), up_w.unsqueeze(-1), up_b, groups=G)
                return x + s * z.transpose(-1, -2)
            lin.forward = lambda x, lin=lin, adapt=adapt: F.linear(adapt(x), lin.weight, lin.bias)


def attach_convpass(model, new, o):
    dim, s = o["dim"], o["scale"]

    def conv_identity(t, g):
        t.zero_()
        t[:, :, 1, 1] = torch.eye(dim)
    for p, blk in blocks(model):
        C, side = width(blk), grid_side(blk)
        hooks = []
        for site in ("attn", "mlp"):
            q = f"{p}.convpass_{site}"
            down = new.linear(f"{q}.down", C, dim, i_xavier, i_zeros)
            cw = new(f"{q}.conv.weight", (dim, dim, 3, 3), conv_identity)
            cb = new(f"{q}.conv.bias", (dim,), i_zeros)
            up = new.linear(f"{q}.up", dim, C, i_zeros, i_zeros)
            conv = lambda z, cw=cw, cb=cb: F.conv2d(z, cw, cb, padding=1)
            hooks.append(Hooks(bypass=lambda t, h, down=down, up=up, conv=conv, side=side: s * up(quick_gelu(on_grid(quick_gelu(down(h)), side, conv)))))
        hook_block(blk, attn=[hooks[0]], mlp=[hooks[1]])


def attach_visual_prompt(model, new, o):
    S = model.patch_embed.img_size[0]
    p = o.get("pad") or max(1, math.floor(30 * S / 224 + 0.5))
    top = new("prompt.pad_top", (1, 3, p, S), i_normal(0.0, 1.0))
    bottom = new("prompt.pad_bottom", (1, 3, p, S), i_normal(0.0, 1.0))
    left = new("prompt.pad_left", (1, 3, S - 2 * p, p), i_normal(0.0, 1.0))
    right = new("prompt.pad_right", (1, 3, S - 2 * p, p), i_normal(0.0, 1.0))
    orig = type(model.patch_embed).forward.__get__(model.patch_embed)

    def forward(x):
        middle = torch.zeros(1, 3, S - 2 * p, S - 2 * p, dtype=x.dtype)
        return orig(x + torch.cat([top, torch.cat([left, middle, right], dim=3), bottom], dim=2))
    model.patch_embed.forward = forward


def attach_difffit(model, new, o):
    for p, blk in blocks(model):
        C = width(blk)
        g1 = new(f"{p}.difffit.gamma1", (C,), i_ones, r_scale)
        g2 = new(f"{p}.difffit.gamma2", (C,), i_ones, r_scale)
        hook_block(blk, attn=[Hooks(branch=lambda z, g=g1: z * g)], mlp=[Hooks(branch=lambda z, g=g2: z * g)])


def attach_hydra(model, new, o):
    r, s = o["rank"], o["scale"]

    def branch(prefix, n_in, n_out):
        down = new.linear(f"{prefix}.down", n_in, r, i_xavier, i_zeros)
        up = new.linear(f"{prefix}.up", r, n_out, i_zeros, i_zeros)
        return lambda z: up(down(z))
    for p, blk in blocks(model):
        for site, lin in (("attn.proj", blk.attn.proj), ("mlp.fc2", blk.mlp.fc2)):
            P = branch(f"{p}.{site}.hydra_parallel", lin.in_features, lin.out_features)
            S = branch(f"{p}.{site}.hydra_sequential", lin.out_features, lin.out_features)
            lin.forward = lambda z, lin=lin, P=P, S=S: (lambda y: y + s * P(z) + s * S(y))(F.linear(z, lin.weight, lin.bias))


def attach_snf(model, new, o):
    def flow(q, C):
        mu = new(f"{q}.mu", (C,), i_zeros)
        log_sigma = new(f"{q}.log_sigma", (C,), i_zeros)
        layers = [(new(f"{q}.flow.{k}.w", (C,), i_uniform(0.01)), new(f"{q}.flow.{k}.s", (C,), i_uniform(0.01)),
                   new(f"{q}.flow.{k}.b", (1,), i_uniform(0.01))) for k in range(o["flows"])]

        def Fz(z):
            z = mu + torch.exp(log_sigma) * z
            for w, s, b in layers:
                z = z + s * torch.tanh((z * w).sum(-1, keepdim=True) + b)
            return z
        return Fz
    for p, blk in blocks(model):
        C = width(blk)
        fa, fm = flow(f"{p}.snf_attn", C), flow(f"{p}.snf_mlp", C)
        # the shortcut x becomes F(x): F(x) − x beside the branch
        hook_block(blk, attn=[Hooks(bypass=lambda t, h, f=fa: f(t) - t)], mlp=[Hooks(bypass=lambda t, h, f=fm: f(t) - t)])


def attach_lorand(model, new, o):
    k = o["kernel"]

    def low_rank_linear(q, n_in, n_out):
        parts = [(new(f"{q}.P.{i}", (n_in, k), i_kaiming), new(f"{q}.K.{i}", (k, k), i_kaiming), new(f"{q}.Q.{i}", (k, n_out), i_kaiming))
                 for i in range(o["branches"])]
        b = new(f"{q}.bias", (n_out,), i_zeros)
        return lambda x: x @ sum(P @ K @ Q for P, K, Q in parts) + b
    for p, blk in blocks(model):
        C = width(blk)
        hooks = []
        for site in ("attn", "mlp"):
            D = low_rank_linear(f"{p}.lorand_{site}.down", C, C // 2)
            U = low_rank_linear(f"{p}.lorand_{site}.up", C // 2, C)
            hooks.append(Hooks(branch=lambda z, D=D, U=U: z + U(F.gelu(D(z)))))
        hook_block(blk, attn=[hooks[0]], mlp=[hooks[1]])


def attach_u_tuning(model, new, o):
    L, m = o["length"], o["dim"]
    for p, blk in blocks(model):
        C, q, attn = width(blk), f"{p}.u_tuning", blk.attn
        Pk = new(f"{q}.prefix_key", (L, C), i_normal(0.0, 0.02))
        Pv = new(f"{q}.prefix_value", (L, C), i_zeros)
        adapter = bottleneck(new, f"{q}.adapter", C, m, F.relu, i_kaiming, i_zeros)

        def prefix_tuner(t, h, attn=attn, Pk=Pk, Pv=Pv):
            B, N, C = h.shape
            H = attn.num_heads
            Dh = C // H
            qh = F.linear(h, attn.qkv.weight[:C], attn.qkv.bias[:C]).reshape(B, N, H, Dh).permute(0, 2, 1, 3)
            a = torch.softmax(qh @ split_heads(Pk, H).transpose(-2, -1) / math.sqrt(Dh), dim=-1)
            return (a @ split_heads(Pv, H)).transpose(1, 2).reshape(B, N, C)
        hook_block(blk, attn=[Hooks(bypass=prefix_tuner)], mlp=[Hooks(bypass=lambda t, h, ad=adapter: ad(h))])


def attach_mona(model, new, o):
    m = o["dim"]

    def module(q, C, side):
        ln_w = new(f"{q}.norm.weight", (C,), i_ones, r_scale)
        ln_b = new(f"{q}.norm.bias", (C,), i_zeros)
        gamma = new(f"{q}.gamma", (C,), lambda t, g: t.fill_(1e-6), r_scale)
        gamma_x = new(f"{q}.gamma_x", (C,), i_ones, r_scale)
        down = new.linear(f"{q}.down", C, m, i_kaiming, i_linear_bias(C))
        convs = [(new(f"{q}.conv{k}.weight", (m, 1, k, k), i_kaiming), new(f"{q}.conv{k}.bias", (m,), i_linear_bias(k * k)), k) for k in (3, 5, 7)]
        proj_w = new(f"{q}.projector.weight", (m, m, 1, 1), i_kaiming)
        proj_b = new(f"{q}.projector.bias", (m,), i_linear_bias(m))
        up = new.linear(f"{q}.up", m, C, i_kaiming, i_linear_bias(m))

        def op(pm):
            mixed = sum(F.conv2d(pm, w, b, padding=k // 2, groups=m) for w, b, k in convs) / 3.0 + pm
            return mixed + F.conv2d(mixed, proj_w, proj_b)

        def after(x):
            h = F.layer_norm(x, (C,), ln_w, ln_b, eps=1e-5) * gamma + x * gamma_x
            return x + up(F.gelu(on_grid(down(h), side, op)))
        return after
    for p, blk in blocks(model):
        C, side = width(blk), grid_side(blk)
        hook_block(blk, attn=[Hooks(after=module(f"{p}.mona_attn", C, side))], mlp=[Hooks(after=module(f"{p}.mona_mlp", C, side))])


def attach_kadaptation(model, new, o):
    n, s = o["kron"], o["scale"]
    rules = {t: (new(f"kadaptation.rule_{t}.left", (n, n), i_uniform(0.01)),
                 new(f"kadaptation.rule_{t}.right", (n, n), i_uniform(0.01))) for t in ("q", "v")}

    def hypercomplex(left, right, u, v):
        return sum(torch.kron(torch.outer(left[i], right[i]), torch.outer(u[i], v[i])) for i in range(left.shape[0]))
    for p, blk in blocks(model):
        C = width(blk)
        m, q = C // n, f"{p}.attn.qkv"
        bound = math.sqrt(2.0) * math.sqrt(6.0 / (m + 1))
        uv = {t: (new(f"{q}.kadaptation_u.{t}", (n, m), i_uniform(bound)), new(f"{q}.kadaptation_v.{t}", (n, m), i_zeros)) for t in ("q", "v")}
        bias = new(f"{q}.kadaptation_bias", (C,), i_zeros)
        fns = {}
        for t in ("q", "v"):
            (left, right), (u, v) = rules[t], uv[t]
            fns[QKV.index(t)] = lambda x, W, b, left=left, right=right, u=u, v=v, bias=bias: F.linear(x, W, b) + s * x @ hypercomplex(left, right, u, v) + bias
        patch_linear_rows(blk.attn.qkv, fns)


def attach_sct(model, new, o):
    """Channels as state (random ascending here: the calibration itself is checked on the ViT);
    after the attention residual x[..., idx] += x[..., idx] W^T + b."""
    K = o["channels"]
    new.state = {}
    for p, blk in blocks(model):
        C = width(blk)
        idx = torch.randperm(C, generator=new.gen)[:K].sort().values
        new.state[f"{p}.sct.channels"] = idx.to(new.dtype)
        W = new(f"{p}.sct.weight", (K, K), i_zeros)
        b = new(f"{p}.sct.bias", (K,), i_zeros)
        hook_block(blk, attn=[Hooks(after=lambda x, idx=idx, W=W, b=b: x.index_add(-1, idx, x[..., idx] @ W.T + b))])


GPS_LAYERS = ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")


def gps_targets(model):
    yield "patch_embed.proj", model.patch_embed.proj
    for p, blk in blocks(model):
        for n in GPS_LAYERS:
            yield f"{p}.{n}", blk.get_submodule(n)


def trains_gps(model, o):
    return ["patch_embed.proj.bias"] + [f"{p}.{n}.bias" for p, _ in blocks(model) for n in GPS_LAYERS]


def attach_gps(model, new, o):
    """Columns as state (random ascending per row here: the gradient pre-pass itself is checked
    on the ViT); W + scatter(delta) at those columns, the conv's weight as [out, in*p*p]."""
    k = o["k"]
    new.state = {}
    for name, m in gps_targets(model):
        rows, cols_per_row = m.weight.shape[0], m.weight[0].numel()
        cols = torch.stack([torch.randperm(cols_per_row, generator=new.gen)[:k].sort().values for _ in range(rows)])
        new.state[f"{name}.gps_columns"] = cols.to(new.dtype)
        delta = new(f"{name}.gps_delta", (rows, k), i_zeros)

        def forward(x, m=m, cols=cols, delta=delta, conv=isinstance(m, torch.nn.Conv2d)):
            W = m.weight.reshape(m.weight.shape[0], -1).scatter_add(1, cols, delta).reshape(m.weight.shape)
            return F.conv2d(x, W, m.bias, stride=m.stride) if conv else F.linear(x, W, m.bias)
        m.forward = forward


def window_attention(attn, x, mask, modulate=None, prefix=None):
    """timm's WindowAttention (explicit path) on the windows x [B', N, C], with attention hooks
    per window: `modulate(x)` -> (dk, dv) [B', N, C] added to the keys and values (PATT), and
    `prefix` = (Pk, Pv) [len, C] appended to every window's keys and values, with neither the
    relative position bias nor the shift mask on their logits (prefix tuning)."""
    B_, N, C = x.shape
    H = attn.num_heads
    q, k, v = attn.qkv(x).reshape(B_, N, 3, H, -1).permute(2, 0, 3, 1, 4).unbind(0)
    if modulate is not None:
        dk, dv = modulate(x)
        k = k + dk.reshape(B_, N, H, -1).permute(0, 2, 1, 3)
        v = v + dv.reshape(B_, N, H, -1).permute(0, 2, 1, 3)
    q = q * attn.scale
    a = q @ k.transpose(-2, -1) + attn._get_rel_pos_bias()
    if mask is not None:
        nW = mask.shape[0]
        a = (a.view(-1, nW, H, N, N) + mask.unsqueeze(1).unsqueeze(0)).view(-1, H, N, N)
    if prefix is not None:
        Pk, Pv = (split_heads(P, H).unsqueeze(0).expand(B_, -1, -1, -1) for P in prefix)
        a = torch.cat([a, q @ Pk.transpose(-2, -1)], dim=-1)
        v = torch.cat([v, Pv], dim=2)
    return attn.proj((torch.softmax(a, dim=-1) @ v).transpose(1, 2).reshape(B_, N, C))


def attach_prefix(model, new, o):
    for p, blk in blocks(model):
        C = width(blk)
        Pk = new(f"{p}.attn.prefix_key", (o["length"], C), i_normal(0.0, 0.02))
        Pv = new(f"{p}.attn.prefix_value", (o["length"], C), i_normal(0.0, 0.02))
        blk.attn.forward = lambda x, mask=None, attn=blk.attn, Pk=Pk, Pv=Pv: window_attention(attn, x, mask, prefix=(Pk, Pv))


def attach_patt(model, new, o):
    """K += s*D_k, V += s*D_v with D = up(tanh(down(x))) on each window's tokens (d -> dim -> 2d)."""
    dim, s = o["dim"], o["scale"]
    for p, blk in blocks(model):
        C, q = width(blk), f"{p}.attn.patt"
        down = new.linear(f"{q}.down", C, dim, i_kaiming, i_linear_bias(C))
        up = new.linear(f"{q}.up", dim, 2 * C, i_zeros, i_zeros)

        def modulate(x, down=down, up=up, C=C):
            delta = s * up(torch.tanh(down(x)))
            return delta[..., :C], delta[..., C:]
        blk.attn.forward = lambda x, mask=None, attn=blk.attn, m=modulate: window_attention(attn, x, mask, modulate=m)


def attach_bapat(model, new, o):
    attach_adaptformer(model, new, {"dim": o["adapter_dim"], "scale": o["adapter_scale"]})
    attach_patt(model, new, o)


METHODS = {
    "full": (trains_full, None), "linear": (None, None), "partial": (trains_partial, None), "bitfit": (trains_bitfit, None),
    "ln_tune": (lambda m, o: norm_names(m), None), "adapter": (None, attach_adapter), "adaptformer": (None, attach_adaptformer),
    "lora": (None, attach_lora), "dora": (None, attach_dora), "vera": (None, attach_vera), "ssf": (None, attach_ssf),
    "rep_adapter": (None, attach_rep_adapter), "convpass": (None, attach_convpass), "visual_prompt": (None, attach_visual_prompt),
    "difffit": (trains_difffit, attach_difffit), "hydra": (None, attach_hydra), "snf": (None, attach_snf), "lorand": (None, attach_lorand),
    "u_tuning": (None, attach_u_tuning), "mona": (None, attach_mona), "kadaptation": (None, attach_kadaptation), "sct": (None, attach_sct),
    "gps": (trains_gps, attach_gps), "prefix": (None, attach_prefix), "patt": (None, attach_patt), "bapat": (None, attach_bapat),
}


# ----------------------------------------------------------------------------------------------

def case_seed(case):
    return 9000 + [c[0] for c in CASES].index(case)


def run_case(case, method_name, options):
    trains, attach = METHODS[method_name]
    model = load_backbone()
    gen = torch.Generator().manual_seed(case_seed(case))
    x = torch.randn(BATCH, 3, 36, 36, generator=gen)
    labels = torch.randint(0, 5, (BATCH,), generator=gen)
    params = dict(model.named_parameters())
    trained = list(dict.fromkeys((trains(model, options) if trains else []) + ["head.fc.weight", "head.fc.bias"]))
    with torch.no_grad():
        for n in trained:
            params[n].add_(BACKBONE_NOISE * torch.randn(params[n].shape, generator=gen))
        ckpt_logits = load_backbone()(x)
    for n, p in params.items():
        p.requires_grad_(n in trained)
    new = Tensors("random", gen, torch.float32)
    if attach:
        attach(model, new, options)
    trainable = {n: params[n] for n in trained}
    trainable.update(new.tensors)
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    grads = torch.autograd.grad(loss, list(trainable.values()))
    return dict(x=x, labels=labels, logits=logits.detach(), loss=loss.detach(), ckpt_logits=ckpt_logits,
                trainable={n: t.detach() for n, t in trainable.items()}, grads=dict(zip(trainable, grads)),
                frozen=getattr(new, "frozen", {}), state=getattr(new, "state", {}))


def identity_check(method_name, options):
    gen = torch.Generator().manual_seed(99)
    x = torch.randn(BATCH, 3, 36, 36, generator=gen)
    plain, model = load_backbone(), load_backbone()
    METHODS[method_name][1](model, Tensors("intended", gen, torch.float32), options)
    with torch.no_grad():
        diff = (plain(x) - model(x)).abs().max().item()
    assert diff <= IDENTITY_TOL, (method_name, diff)
    return diff


def main():
    os.makedirs(OUT_DIR, exist_ok=True)  # shared with make_e3va_fixtures.py: each script writes only its own cases
    ref = safetensors.torch.load_file(os.path.join(SWIN_DIR, "reference.safetensors"))
    with torch.no_grad():
        assert torch.equal(load_backbone()(ref["input"]), ref["logits"])
    print(f"base: {os.path.relpath(SWIN_DIR, REPO)} reproduces reference logits exactly")
    total = 0
    for case, method_name, options in CASES:
        res = run_case(case, method_name, options)
        for n, g in res["grads"].items():
            assert torch.isfinite(g).all() and g.abs().max() > 0, f"{case}: zero gradient for {n}"
        moved = (res["logits"] - res["ckpt_logits"]).abs().max().item()
        assert moved > 1e-3, (case, moved)
        checks = [f"logits move {moved:.1e}"]
        if method_name in IDENTITY_AT_INIT:
            checks.append(f"identity at intended init {identity_check(method_name, options):.1e}")
        tensors = {"input": res["x"], "labels": res["labels"], "logits": res["logits"], "loss": res["loss"]}
        for n, t in res["trainable"].items():
            tensors[n] = t
            tensors["grad." + n] = res["grads"][n]
        tensors.update({"frozen." + n: t for n, t in res["frozen"].items()})
        tensors.update({"state." + n: t for n, t in res["state"].items()})
        path = os.path.join(OUT_DIR, f"{case}.safetensors")
        write_safetensors(path, tensors, {"method": method_name, "options": json.dumps(options, sort_keys=True)})
        total += os.path.getsize(path)
        n_method = sum(t.numel() for n, t in res["trainable"].items() if not n.startswith("head."))
        print(f"{case:16s} [{method_name}] {len(res['trainable'])} tensors, {n_method} params w/o head, loss {res['loss'].item():.4f}; "
              + "; ".join(checks))
    print(f"total: {total} bytes (torch {torch.__version__}, timm {timm.__version__})")
    if total >= SIZE_LIMIT:
        print(f"error: Swin PEFT fixtures exceed {SIZE_LIMIT:,} bytes", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
