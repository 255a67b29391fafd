#!/usr/bin/env python3
"""Writes PyTorch parity fixtures for the Swift PEFT methods (the contract: docs/PEFT_TENSORS.md).

Every method is re-implemented here in PyTorch, from the contract (names, shapes, forward), on the
tiny timm ViT of `Tests/ModelsTests/Fixtures/vit/cls_token/` (d 32, depth 2, 2 heads, patch 4,
img 16, 5 classes): `timm.models.vision_transformer.VisionTransformer(**model_args minus
norm_layer_eps, norm_layer=LayerNorm(eps=1e-6))` loaded with that folder's `model.safetensors`,
eval mode (no dropout / drop-path), gradients on. One function or small class per method; the
method either patches the `forward` of timm modules (Linear / LayerNorm / Conv / Attention /
Block / forward_features) or only unfreezes backbone tensors. For each case in CASES it writes
`Tests/PEFTTests/Fixtures/<case>.safetensors` holding

  <name>         every trainable tensor under its contract name: method tensors with RANDOM
                 non-trivial values (N(0, 0.2^2); scales 1 + N(0, 0.2^2); DoRA m = ||W0||_row *
                 exp(N(0, 0.2^2))), so zero-initialised parts (LoRA B, adapter up, ...) are
                 exercised; backbone tensors the method trains and the head: the checkpoint's
                 value + 0.02 * N(0, 1) (so loading the checkpoint's value by a wrong name fails)
  input          [2,3,16,16] N(0,1)          labels  I64 [2]
  logits         [2,5]                       loss    [] mean cross-entropy, no label smoothing
  grad.<name>    d loss / d <name> (autograd) for every trainable tensor

with __metadata__ {"method": registry name, "options": JSON of the options given (the Swift side
fills in defaults)}. For the mergeable cases `lora`, `ssf`, `rep_adapter`, `fact_tt`, `difffit`,
`vera`, `hydra` and `kadaptation` it also writes `<case>_merged.safetensors`: the method folded
into a plain timm state dict (timm names, F32) plus `logits` (that merged plain model on the case's `input`; the one non-timm key: drop it
before a strict state-dict load), metadata as the case's plus "merged_from": "<case>.safetensors".

Self-checks (asserted; one line per case printed):
  * the base model reproduces `cls_token/reference.safetensors` exactly;
  * every gradient is non-zero, the method changes the logits (vs the fixture's own backbone);
  * identity at init: lora, dora, adapter (+houlsby), adaptformer, rep_adapter, fact_tt, fact_tk,
    convpass, vera, hydra, patt, bapat, u_tuning, kadaptation and last built with their INTENDED
    init (docs/PEFT_TENSORS.md "Inits") give the plain model's logits (|diff| <= 1e-6);
  * merge: lora (+lora_all), dora, ssf, rep_adapter, fact_tt, fact_tk, bitfit, ln_tune, difffit,
    vera, hydra and kadaptation folded into a plain timm state dict (the "Merge formulas" of
    docs/methods.md) give the method's logits within 1e-5; the written *_merged files load strictly into a fresh VisionTransformer and via
    timm.create_model("local-dir:...") and reproduce their `logits` exactly;
  * prefix attention against an independent per-head loop; vpt_deep with P_1 = block 0's prompt
    outputs equals vpt_shallow; dora's gradients change by far more than fp32 noise when the row
    norm is not detached; fp32 vs fp64 deviation of logits and grads is printed.

Deterministic: seeded per case (torch.Generator), single-threaded torch, deterministic algorithms,
byte-identical files on rerun (the writer of make_op_fixtures.py). Fails if the fixture folder
reaches 2.5 MB (1.5 MB until the #10 methods, then 2 MB until HST: 37 methods at ~55 KB each). Conventions: scripts/reference/FIXTURES.md ("PEFT fixtures").

Run:  .venv/bin/python scripts/reference/make_peft_fixtures.py
"""

import functools
import hashlib
import json
import math
import os
import sys
import tempfile

import safetensors.torch
import timm
import torch
import torch.nn.functional as F
from timm.layers import LayerNorm
from timm.models.vision_transformer import Block, VisionTransformer

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writer)

VIT_DIR = os.path.join(REPO, "Tests", "ModelsTests", "Fixtures", "vit", "cls_token")
OUT_DIR = os.path.join(REPO, "Tests", "PEFTTests", "Fixtures")
SIZE_LIMIT = 2_500_000
BACKBONE_NOISE = 0.02  # added to every backbone tensor a method trains, and to the head
METHOD_STD = 0.2       # random method tensors ~ N(0, 0.2^2)
BATCH = 2
MERGE_TOL = 1e-5
IDENTITY_TOL = 1e-6

torch.set_num_threads(1)  # deterministic reductions / summation order
torch.use_deterministic_algorithms(True)

# (case, method, options, write <case>_merged.safetensors)
CASES = [
    ("full", "full", {}, False),
    ("linear", "linear", {}, False),
    ("partial", "partial", {"k": 1}, False),
    ("bitfit", "bitfit", {}, False),
    ("ln_tune", "ln_tune", {}, False),
    ("adapter", "adapter", {"dim": 4}, False),
    ("adapter_houlsby", "adapter", {"dim": 4, "houlsby": True}, False),
    ("adaptformer", "adaptformer", {"dim": 4, "scale": 0.7}, False),
    ("lora", "lora", {"rank": 4, "alpha": 8, "targets": ["q", "v"]}, True),
    ("lora_all", "lora", {"rank": 2, "alpha": 3, "targets": ["q", "k", "v", "proj", "fc1", "fc2"]}, False),
    ("dora", "dora", {"rank": 4, "alpha": 4, "targets": ["q", "v"]}, False),
    ("vpt_shallow", "vpt_shallow", {"prompts": 3}, False),
    ("vpt_deep", "vpt_deep", {"prompts": 2}, False),
    ("prefix", "prefix", {"length": 3}, False),
    ("ssf", "ssf", {}, True),
    ("fact_tt", "fact_tt", {"rank": 4, "scale": 0.5}, True),
    ("fact_tk", "fact_tk", {"rank": 4, "scale": 0.3}, False),
    ("rep_adapter", "rep_adapter", {"dim": 4, "groups": 2, "scale": 0.8}, True),
    ("convpass", "convpass", {"dim": 4, "scale": 0.5}, False),
    ("visual_prompt", "visual_prompt", {}, False),  # appended last: the other cases keep their seeds
    ("difffit", "difffit", {}, True),
    ("vera", "vera", {"rank": 8, "targets": ["q", "v"]}, True),
    ("hydra", "hydra", {"rank": 4, "scale": 0.6}, True),
    ("patt", "patt", {"dim": 6, "scale": 0.4}, False),
    ("bapat", "bapat", {"dim": 6, "scale": 0.4, "adapter_dim": 4, "adapter_scale": 0.7}, False),
    ("snf", "snf", {"flows": 2}, False),
    ("lorand", "lorand", {"branches": 2, "kernel": 3}, False),
    ("u_tuning", "u_tuning", {"length": 3, "dim": 4}, False),
    ("mona", "mona", {"dim": 6}, False),
    ("dtl", "dtl", {"rank": 2, "start": 1}, False),
    ("kadaptation", "kadaptation", {"kron": 4, "scale": 2.0}, True),
    ("noah", "noah", {"prompts": [2, 1], "ranks": [2, 3], "adapter_dims": [3, 0]}, False),
    ("lst", "lst", {"width": 8, "heads": 2}, False),
    ("last", "last", {"rank": 4, "heads": 2}, False),
    ("sct", "sct", {"channels": 8}, False),
    ("gps", "gps", {"k": 2}, False),
    ("hst", "hst", {"widths": [6, 10], "heads": [2, 2], "blocks_per_stage": [1, 1]}, False),
]


# ----------------------------------------------------------------------------------------------
# backbone

def model_args():
    with open(os.path.join(VIT_DIR, "config.json")) as f:
        cfg = json.load(f)
    margs = dict(cfg["model_args"])
    eps = margs.pop("norm_layer_eps")
    assert eps == 1e-6, eps
    return cfg["architecture"], margs, eps


def load_backbone(dtype=torch.float32, state_dict=None):
    """The cls_token ViT (or a fresh one loaded with `state_dict`), eval mode, in `dtype`."""
    _, margs, eps = model_args()
    model = VisionTransformer(**margs, norm_layer=functools.partial(LayerNorm, eps=eps)).to(dtype)
    if state_dict is None:
        state_dict = safetensors.torch.load_file(os.path.join(VIT_DIR, "model.safetensors"))
    model.load_state_dict(state_dict, strict=True)
    for _, mod in model.named_modules():  # dropout / drop-path are off anyway (rates 0, eval)
        assert not isinstance(mod, timm.layers.DropPath)
        if isinstance(mod, torch.nn.Dropout):
            assert mod.p == 0.0
    return model.eval()


def class_forward(module):
    """The module class's own forward, bound (so a patched forward can call the original)."""
    return type(module).forward.__get__(module)


def split_heads(p, num_heads):
    """Prefix / attention convention: [len, d] -> [len, H, d/H] -> [H, len, d/H]."""
    n, d = p.shape
    return p.reshape(n, num_heads, d // num_heads).permute(1, 0, 2)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


# ----------------------------------------------------------------------------------------------
# tensor creation: the method's intended init, or random test values

def i_zeros(t, g):
    t.zero_()


def i_ones(t, g):
    t.fill_(1.0)


def i_kaiming(t, g):  # PyTorch Linear default weight init
    torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5), generator=g)


def i_xavier(t, g):
    torch.nn.init.xavier_uniform_(t, generator=g)


def i_linear_bias(fan_in):  # PyTorch Linear default bias init
    def f(t, g):
        bound = 1.0 / math.sqrt(fan_in)
        t.uniform_(-bound, bound, generator=g)
    return f


def i_normal(mean, std):
    def f(t, g):
        torch.nn.init.normal_(t, mean, std, generator=g)
    return f


def i_uniform(bound):
    def f(t, g):
        t.uniform_(-bound, bound, generator=g)
    return f


def r_scale(shape, g):  # random values for a multiplicative scale (LayerNorm weight, SSF gamma)
    return 1.0 + METHOD_STD * torch.randn(shape, generator=g)


class Tensors:
    """Creates a method's tensors in creation order: `intended` init or random test values."""

    def __init__(self, mode, gen, dtype):
        assert mode in ("intended", "random")
        self.mode, self.gen, self.dtype = mode, gen, dtype
        self.tensors = {}

    def __call__(self, name, shape, intended, random=None):
        assert name not in self.tensors, name
        if self.mode == "intended":
            t = torch.empty(shape)
            intended(t, self.gen)
        elif random is None:
            t = METHOD_STD * torch.randn(shape, generator=self.gen)
        else:
            t = random(shape, self.gen)
        assert tuple(t.shape) == tuple(shape), (name, t.shape, shape)
        t = t.to(self.dtype).requires_grad_()
        self.tensors[name] = t
        return t

    def linear(self, prefix, n_in, n_out, w_init, b_init):
        """`prefix.weight` [out, in] and `prefix.bias` [out]; returns y = x W^T + b."""
        w = self(f"{prefix}.weight", (n_out, n_in), w_init)
        b = self(f"{prefix}.bias", (n_out,), b_init)
        return lambda x: F.linear(x, w, b)


# ----------------------------------------------------------------------------------------------
# methods: `trains(model)` = backbone tensors unfrozen (the head is always added), `attach`
# creates the method tensors and patches forwards, `merge` folds it into a plain state dict.

class Method:
    defaults = {}

    def __init__(self, options):
        for k in options:
            assert k in self.defaults, f"{self.name}: unknown option {k}"
        self.o = {**self.defaults, **options}

    def trains(self, model):
        return []

    def attach(self, model, new):
        pass

    merge = None


class Full(Method):
    name = "full"

    def trains(self, model):
        return [n for n, _ in model.named_parameters()]


class Linear(Method):
    name = "linear"


class Partial(Method):
    name = "partial"
    defaults = {"k": 1}

    def trains(self, model):
        L, k = len(model.blocks), self.o["k"]
        blocks = tuple(f"blocks.{l}." for l in range(L - k, L))
        norms = ("fc_norm.",) if any(True for _ in model.fc_norm.parameters()) else ("norm.",)
        return [n for n, _ in model.named_parameters() if n.startswith(blocks + norms)]


def merge_backbone_only(self, sd, t):
    return sd  # the trained backbone tensors are already in the state dict: nothing to fold


class BitFit(Method):
    name = "bitfit"
    merge = merge_backbone_only

    def trains(self, model):
        names = ["patch_embed.proj.bias"]
        for l in range(len(model.blocks)):
            names += [f"blocks.{l}.{s}.bias" for s in ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2")]
        return names + ["norm.bias"]


class LNTune(Method):
    name = "ln_tune"
    merge = merge_backbone_only

    def trains(self, model):
        names = []
        for l in range(len(model.blocks)):
            names += [f"blocks.{l}.{s}.{p}" for s in ("norm1", "norm2") for p in ("weight", "bias")]
        return names + ["norm.weight", "norm.bias"]


def bottleneck(new, prefix, d, dim, act, down_init, down_bias_init):
    """up(act(down(z))) with `prefix.down` [dim,d] and `prefix.up` [d,dim] (up: zero intended)."""
    down = new.linear(f"{prefix}.down", d, dim, down_init, down_bias_init)
    up = new.linear(f"{prefix}.up", dim, d, i_zeros, i_zeros)
    return lambda z: up(act(down(z)))


class Adapter(Method):
    """Sequential bottleneck inside the residual: z = mlp(norm2 x); z += up(GELU(down z))."""
    name = "adapter"
    defaults = {"dim": 8, "houlsby": False}

    def attach(self, model, new):
        d, dim = model.embed_dim, self.o["dim"]
        for l, blk in enumerate(model.blocks):
            mk = lambda site: bottleneck(new, f"blocks.{l}.{site}", d, dim, F.gelu, i_kaiming, i_linear_bias(d))
            ad_attn = mk("adapter_attn") if self.o["houlsby"] else None
            ad_mlp = mk("adapter_mlp")

            def forward(x, blk=blk, ad_attn=ad_attn, ad_mlp=ad_mlp, **kw):
                z = blk.attn(blk.norm1(x))
                if ad_attn is not None:
                    z = z + ad_attn(z)
                x = x + blk.drop_path1(blk.ls1(z))
                z = blk.mlp(blk.norm2(x))
                z = z + ad_mlp(z)
                return x + blk.drop_path2(blk.ls2(z))
            blk.forward = forward


class AdaptFormer(Method):
    """Parallel: x <- x + mlp(norm2 x) + s*up(ReLU(down(LN_a(x)))), LN_a own (eps 1e-5)."""
    name = "adaptformer"
    defaults = {"dim": 8, "scale": 1.0, "dropout": 0.1}

    def attach(self, model, new):
        d, dim, s = model.embed_dim, self.o["dim"], self.o["scale"]
        for l, blk in enumerate(model.blocks):
            p = f"blocks.{l}.adaptformer"
            ln_w = new(f"{p}.norm.weight", (d,), i_ones, r_scale)
            ln_b = new(f"{p}.norm.bias", (d,), i_zeros)
            branch = bottleneck(new, p, d, dim, F.relu, i_kaiming, i_zeros)

            def forward(x, blk=blk, ln_w=ln_w, ln_b=ln_b, branch=branch, **kw):
                x = x + blk.drop_path1(blk.ls1(blk.attn(blk.norm1(x))))
                a = s * branch(F.layer_norm(x, (d,), ln_w, ln_b, eps=1e-5))
                return x + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x)))) + a
            blk.forward = forward


QKV = ("q", "k", "v")
LINEARS = {"proj": "attn.proj", "fc1": "mlp.fc1", "fc2": "mlp.fc2"}


def target_sites(depth, targets):
    """(block, timm linear name, slice index 0/1/2 or None, tensor name prefix, suffix)."""
    out = []
    for l in range(depth):
        for t in QKV:
            if t in targets:
                out.append((l, f"blocks.{l}.attn.qkv", QKV.index(t), f"blocks.{l}.attn.qkv", "." + t))
        for t, site in LINEARS.items():
            if t in targets:
                out.append((l, f"blocks.{l}.{site}", None, f"blocks.{l}.{site}", ""))
    return out


def rows(W, idx):
    """The rows of a fused qkv weight/bias that target q/k/v (idx 0/1/2), or all (None)."""
    if idx is None:
        return W
    d = W.shape[0] // 3
    return W[idx * d:(idx + 1) * d]


def patch_linear_rows(lin, row_fns):
    """lin's output, with the rows of slice i (fused qkv) or all rows (key None) replaced by
    row_fns[i](x, W_rows, b_rows) — each returns that slice's full output."""
    W, b = lin.weight, lin.bias

    def forward(x):
        if None in row_fns:
            return row_fns[None](x, W, b)
        parts = []
        for i in range(3):
            Wi, bi = rows(W, i), rows(b, i)
            parts.append(row_fns[i](x, Wi, bi) if i in row_fns else F.linear(x, Wi, bi))
        return torch.cat(parts, -1)
    lin.forward = forward


class LoRA(Method):
    """Slice t of the linear's output += (alpha/r) x A_t^T B_t^T (q = 0:d, k = d:2d, v = 2d:3d)."""
    name = "lora"
    defaults = {"rank": 8, "alpha": 8, "targets": ["q", "v"]}

    @property
    def s(self):
        return self.o["alpha"] / self.o["rank"]

    def lora_tensors(self, new, prefix, suffix, n_in, n_out):
        r = self.o["rank"]
        A = new(f"{prefix}.lora_A{suffix}", (r, n_in), i_kaiming)
        B = new(f"{prefix}.lora_B{suffix}", (n_out, r), i_zeros)
        return A, B

    def attach(self, model, new):
        mods = dict(model.named_modules())
        fns = {}
        for l, site, idx, prefix, suffix in target_sites(len(model.blocks), self.o["targets"]):
            lin = mods[site]
            n_out = lin.out_features // 3 if idx is not None else lin.out_features
            A, B = self.lora_tensors(new, prefix, suffix, lin.in_features, n_out)
            fns.setdefault(site, {})[idx] = \
                lambda x, W, b, A=A, B=B: F.linear(x, W, b) + self.s * F.linear(F.linear(x, A), B)
        for site, row_fns in fns.items():
            patch_linear_rows(mods[site], row_fns)

    def merge(self, sd, t):
        for l, site, idx, prefix, suffix in target_sites(depth(sd), self.o["targets"]):
            A, B = t[f"{prefix}.lora_A{suffix}"], t[f"{prefix}.lora_B{suffix}"]
            rows(sd[f"{site}.weight"], idx).add_(self.s * B @ A)
        return sd


def depth(sd):
    """Number of blocks of a timm ViT state dict."""
    return 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))


class DoRA(LoRA):
    """W' = W0 + s B A (the target's rows); n = ||W'||_row detached; y = (m/n) * (x W'^T) + b."""
    name = "dora"
    detach_norm = True  # False only in dora_detach_check()

    def attach(self, model, new):
        mods = dict(model.named_modules())
        fns = {}
        for l, site, idx, prefix, suffix in target_sites(len(model.blocks), self.o["targets"]):
            lin = mods[site]
            W0 = rows(lin.weight, idx).detach()
            A, B = self.lora_tensors(new, prefix, suffix, W0.shape[1], W0.shape[0])
            norm0 = W0.float().norm(dim=1)  # fp32 values (same in the fp64 run)
            m = new(f"{prefix}.dora_m{suffix}", (W0.shape[0],), lambda t, g, n=norm0: t.copy_(n),
                    lambda shape, g, n=norm0: n * torch.exp(METHOD_STD * torch.randn(shape, generator=g)))

            def fn(x, W, b, A=A, B=B, m=m):
                Wp = W + self.s * B @ A
                n = Wp.norm(dim=1)
                n = n.detach() if self.detach_norm else n
                return (m / n) * F.linear(x, Wp) + b
            fns.setdefault(site, {})[idx] = fn
        for site, row_fns in fns.items():
            patch_linear_rows(mods[site], row_fns)

    def merge(self, sd, t):
        for l, site, idx, prefix, suffix in target_sites(depth(sd), self.o["targets"]):
            A, B = t[f"{prefix}.lora_A{suffix}"], t[f"{prefix}.lora_B{suffix}"]
            m = t[f"{prefix}.dora_m{suffix}"]
            W = rows(sd[f"{site}.weight"], idx)
            Wp = W + self.s * B @ A
            W.copy_((m / Wp.norm(dim=1))[:, None] * Wp)
        return sd


def embed(model, x):
    """timm's forward_features up to the first block: patch embed, CLS, pos embed, norm_pre."""
    x = model.patch_embed(x)
    x = model._pos_embed(x)
    x = model.patch_drop(x)
    return model.norm_pre(x)


def with_prompts(x, P, npt, replace):
    """[prefix tokens (CLS), P, rest]; `replace`: P takes the place of the p tokens after CLS."""
    B, p = x.shape[0], P.shape[0]
    rest = x[:, npt + p:] if replace else x[:, npt:]
    return torch.cat([x[:, :npt], P.unsqueeze(0).expand(B, -1, -1), rest], dim=1)


class VPTShallow(Method):
    """x = [CLS, P, patches] after the position embedding (and norm_pre)."""
    name = "vpt_shallow"
    defaults = {"prompts": 100}

    def prompt_init(self, model):
        patch = model.patch_embed.patch_size[0]
        return i_uniform(math.sqrt(6.0 / (3 * patch * patch + model.embed_dim)))

    def attach(self, model, new):
        P = new("prompt.tokens", (self.o["prompts"], model.embed_dim), self.prompt_init(model))

        def forward_features(x, attn_mask=None, is_causal=False):
            assert attn_mask is None and not is_causal
            x = with_prompts(embed(model, x), P, model.num_prefix_tokens, replace=False)
            return model.norm(model.blocks(x))
        model.forward_features = forward_features


class VPTDeep(VPTShallow):
    """Block 0 input: insert P_0 after CLS; block l >= 1 input: tokens 1..p replaced by P_l."""
    name = "vpt_deep"
    defaults = {"prompts": 10}

    def attach(self, model, new):
        Ps = [new(f"prompt.deep.{l}", (self.o["prompts"], model.embed_dim), self.prompt_init(model))
              for l in range(len(model.blocks))]

        def forward_features(x, attn_mask=None, is_causal=False):
            assert attn_mask is None and not is_causal
            x = embed(model, x)
            for l, blk in enumerate(model.blocks):
                x = with_prompts(x, Ps[l], model.num_prefix_tokens, replace=l > 0)
                x = blk(x)
            return model.norm(x)
        model.forward_features = forward_features


def prefix_attention(attn, x, Pk, Pv):
    """timm Attention (unfused path) with Pk/Pv [len, d] appended after the real keys/values."""
    B, N, C = x.shape
    H, Dh = attn.num_heads, attn.head_dim
    q, k, v = attn.qkv(x).reshape(B, N, 3, H, Dh).permute(2, 0, 3, 1, 4).unbind(0)
    q, k = attn.q_norm(q), attn.k_norm(k)
    k = torch.cat([k, split_heads(Pk, H).unsqueeze(0).expand(B, -1, -1, -1)], dim=2)
    v = torch.cat([v, split_heads(Pv, H).unsqueeze(0).expand(B, -1, -1, -1)], dim=2)
    a = ((q * attn.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
    x = (attn.attn_drop(a) @ v).transpose(1, 2).reshape(B, N, C)
    return attn.proj_drop(attn.proj(attn.norm(x)))


class Prefix(Method):
    name = "prefix"
    defaults = {"length": 20}

    def attach(self, model, new):
        n, d = self.o["length"], model.embed_dim
        for l, blk in enumerate(model.blocks):
            Pk = new(f"blocks.{l}.attn.prefix_key", (n, d), i_normal(0.0, 0.02))
            Pv = new(f"blocks.{l}.attn.prefix_value", (n, d), i_normal(0.0, 0.02))
            blk.attn.forward = lambda x, attn=blk.attn, Pk=Pk, Pv=Pv, **kw: prefix_attention(attn, x, Pk, Pv)


def ssf_sites(d, h, L):
    """(site name, channel count) in the contract's order (d embed dim, h MLP hidden, L depth)."""
    sites = [("patch_embed.proj", d)]
    for l in range(L):
        sites += [(f"blocks.{l}.norm1", d), (f"blocks.{l}.attn.qkv", 3 * d), (f"blocks.{l}.attn.proj", d),
                  (f"blocks.{l}.norm2", d), (f"blocks.{l}.mlp.fc1", h), (f"blocks.{l}.mlp.fc2", d)]
    return sites + [("norm", d)]


class SSF(Method):
    """Every site's output y <- gamma * y + beta over the channel axis (conv: dim 1)."""
    name = "ssf"

    def attach(self, model, new):
        mods = dict(model.named_modules())
        for site, c in ssf_sites(model.embed_dim, model.blocks[0].mlp.fc1.out_features, len(model.blocks)):
            g = new(f"{site}.ssf_scale", (c,), i_normal(1.0, 0.02), r_scale)
            b = new(f"{site}.ssf_shift", (c,), i_normal(0.0, 0.02))
            mod = mods[site]
            orig = class_forward(mod)
            if isinstance(mod, torch.nn.Conv2d):  # patch embedding: [B, d, gh, gw], per channel
                mod.forward = lambda x, orig=orig, g=g, b=b: orig(x) * g.view(1, -1, 1, 1) + b.view(1, -1, 1, 1)
            else:
                mod.forward = lambda x, orig=orig, g=g, b=b: orig(x) * g + b

    def merge(self, sd, t):
        d, h = sd["blocks.0.mlp.fc1.weight"].shape[1], sd["blocks.0.mlp.fc1.weight"].shape[0]
        for site, c in ssf_sites(d, h, depth(sd)):
            g, b = t[f"{site}.ssf_scale"], t[f"{site}.ssf_shift"]
            W = sd[f"{site}.weight"]  # Linear [out,in], LayerNorm [d], conv [out,in,kh,kw]
            W.mul_(g.view(-1, *([1] * (W.dim() - 1))))
            sd[f"{site}.bias"] = g * sd[f"{site}.bias"] + b
        return sd


def add_delta(lin, delta):
    """lin(x) + delta(x) (delta already scaled)."""
    W, b = lin.weight, lin.bias
    lin.forward = lambda x: F.linear(x, W, b) + delta(x)


class FacTTT(Method):
    """Shared u [r,d], v [d,r]; per block cores q,k,v,proj [r,r], fc1 [4r,r], fc2 [r,4r]."""
    name = "fact_tt"
    defaults = {"rank": 8, "scale": 1.0, "dropout": 0.1}

    def shared(self, model, new):
        r, d = self.o["rank"], model.embed_dim
        assert model.blocks[0].mlp.fc1.out_features == 4 * d, "FacT needs mlp_ratio 4"
        self.u = new("fact.u", (r, d), i_kaiming)
        self.v = new("fact.v", (d, r), i_zeros)

    def cores(self, l, new):
        """Creates block l's tensors; returns a function giving the right-multipliers M_t
        (u(x) @ M_t): q,k,v,proj [r,r]; fc1 [r,4r]; fc2 [4r,r] (TT: the Linear weights, transposed)."""
        r, p = self.o["rank"], f"blocks.{l}.fact"
        C = {t: new(f"{p}.{t}", (r, r), i_kaiming) for t in ("q", "k", "v", "proj")}
        C["fc1"] = new(f"{p}.fc1", (4 * r, r), i_kaiming)
        C["fc2"] = new(f"{p}.fc2", (r, 4 * r), i_kaiming)
        return lambda: {t: c.t() for t, c in C.items()}

    def attach(self, model, new):
        self.shared(model, new)
        s, r, d = self.o["scale"], self.o["rank"], model.embed_dim
        u = lambda z: F.linear(z, self.u)
        v = lambda z: F.linear(z, self.v)
        for l, blk in enumerate(model.blocks):
            M = self.cores(l, new)

            def qkv(x, M=M):
                return s * torch.cat([v(u(x) @ M()[t]) for t in QKV], dim=-1)

            def proj(x, M=M):
                return s * v(u(x) @ M()["proj"])

            def fc1(x, M=M):  # [..., 4r] -> [..., 4, r] -> v -> [..., 4, d] -> [..., 4d]
                z = (u(x) @ M()["fc1"]).reshape(*x.shape[:-1], 4, r)
                return s * v(z).reshape(*x.shape[:-1], 4 * d)

            def fc2(x, M=M):  # x [..., 4d] -> [..., 4, d] -> u -> [..., 4r] -> core -> v
                z = u(x.reshape(*x.shape[:-1], 4, d)).reshape(*x.shape[:-1], 4 * r)
                return s * v(z @ M()["fc2"])
            add_delta(blk.attn.qkv, qkv)
            add_delta(blk.attn.proj, proj)
            add_delta(blk.mlp.fc1, fc1)
            add_delta(blk.mlp.fc2, fc2)

    def merge_with(self, sd, u, v, Ms):
        """dW (y = x W^T) for each block's linears from the right-multipliers M_t."""
        s, r = self.o["scale"], self.o["rank"]
        d = u.shape[1]
        for l, M in enumerate(Ms):
            p = f"blocks.{l}"
            for i, t in enumerate(QKV):  # y_t += s v((x u^T) M) => dW = s v M^T u
                rows(sd[f"{p}.attn.qkv.weight"], i).add_(s * v @ M[t].t() @ u)
            sd[f"{p}.attn.proj.weight"].add_(s * v @ M["proj"].t() @ u)
            W1, W2 = sd[f"{p}.mlp.fc1.weight"], sd[f"{p}.mlp.fc2.weight"]
            for a in range(4):  # fc1 output chunk a / fc2 input chunk a use core columns/rows a*r:(a+1)*r
                W1[a * d:(a + 1) * d].add_(s * v @ M["fc1"][:, a * r:(a + 1) * r].t() @ u)
                W2[:, a * d:(a + 1) * d].add_(s * v @ M["fc2"][a * r:(a + 1) * r].t() @ u)
        return sd

    def merge(self, sd, t):
        Ms = []
        for l in range(depth(sd)):
            p = f"blocks.{l}.fact"
            M = {k: t[f"{p}.{k}"].t() for k in ("q", "k", "v", "proj", "fc1", "fc2")}
            Ms.append(M)
        return self.merge_with(sd, t["fact.u"], t["fact.v"], Ms)


class FacTTK(FacTTT):
    """C_a = core @ factor[:, 12l:12l+4] -> [r,r,4]; C_m = core @ factor[:, 12l+4:12l+12] -> [r,r,8];
    M1 = reshape(C_m[:,:,0:4], [r,4r]), M2 = reshape(C_m[:,:,4:8], [r,4r]) (C order)."""
    name = "fact_tk"
    defaults = {"rank": 32, "scale": 0.1, "dropout": 0.1}

    def attach(self, model, new):
        r, L = self.o["rank"], len(model.blocks)
        self.core = new("fact.core", (r, r, r), i_xavier)
        self.factor = new("fact.factor", (r, 12 * L), i_xavier)
        super().attach(model, new)

    @staticmethod
    def multipliers(core, factor, l, r):
        Ca = core @ factor[:, 12 * l:12 * l + 4]      # [r, r, 4]
        Cm = core @ factor[:, 12 * l + 4:12 * l + 12]  # [r, r, 8]
        M = {t: Ca[:, :, i] for i, t in enumerate(("q", "k", "v", "proj"))}
        M["fc1"] = Cm[:, :, 0:4].reshape(r, 4 * r)      # u(x) @ M1
        M["fc2"] = Cm[:, :, 4:8].reshape(r, 4 * r).t()  # reshape(u(x4)) @ M2^T
        return M

    def cores(self, l, new):
        r = self.o["rank"]
        return lambda: self.multipliers(self.core, self.factor, l, r)

    def merge(self, sd, t):
        r = self.o["rank"]
        Ms = [self.multipliers(t["fact.core"], t["fact.factor"], l, r) for l in range(depth(sd))]
        return self.merge_with(sd, t["fact.u"], t["fact.v"], Ms)


def rep_sites(L):
    """(timm linear, tensor prefix): the adapter sits on the input of qkv and of fc1."""
    return [(f"blocks.{l}.{s}", f"blocks.{l}.{s}.rep_adapter") for l in range(L) for s in ("attn.qkv", "mlp.fc1")]


class RepAdapter(Method):
    """The linear's input x <- x + s * up(down(x)), up grouped (Conv1d(dim, d, 1, groups=G))."""
    name = "rep_adapter"
    defaults = {"dim": 8, "groups": 2, "scale": 1.0, "dropout": 0.1}

    def attach(self, model, new):
        mods = dict(model.named_modules())
        d, dim, G, s = model.embed_dim, self.o["dim"], self.o["groups"], self.o["scale"]
        assert dim % G == 0 and d % G == 0
        for site, p in rep_sites(len(model.blocks)):
            down = new.linear(f"{p}.down", d, dim, i_xavier, i_zeros)
            up_w = new(f"{p}.up.weight", (d, dim // G), i_zeros)
            up_b = new(f"{p}.up.bias", (d,), i_zeros)

            def adapt(x, down=down, up_w=up_w, up_b=up_b):
                z = down(x).transpose(-1, -2)                                  # [B, dim, N]
                z = F.conv1d(z, up_w.unsqueeze(-1), up_b, groups=G)            # [B, d, N]
                return x + s * z.transpose(-1, -2)
            lin = mods[site]
            lin.forward = lambda x, lin=lin, adapt=adapt: F.linear(adapt(x), lin.weight, lin.bias)

    def merge(self, sd, t):
        G, s = self.o["groups"], self.o["scale"]
        for site, p in rep_sites(depth(sd)):
            A, bA = t[f"{p}.down.weight"], t[f"{p}.down.bias"]
            Bg, bB = t[f"{p}.up.weight"], t[f"{p}.up.bias"]
            d, dim = A.shape[1], A.shape[0]
            B = torch.zeros(d, dim, dtype=A.dtype)  # dense block-diagonal [d, dim]
            for g in range(G):
                B[g * d // G:(g + 1) * d // G, g * dim // G:(g + 1) * dim // G] = Bg[g * d // G:(g + 1) * d // G]
            W, b = sd[f"{site}.weight"], sd[f"{site}.bias"]
            sd[f"{site}.bias"] = b + W @ (s * (B @ bA + bB))
            sd[f"{site}.weight"] = W @ (torch.eye(d, dtype=W.dtype) + s * B @ A)
        return sd


class Convpass(Method):
    """x <- x + attn(norm1 x) + s*C1(norm1 x); x <- x + mlp(norm2 x) + s*C2(norm2 x);
    C(z) = up(QG(conv'(QG(down z)))), conv' = 3x3 conv over the patch grid, CLS as a 1x1 image."""
    name = "convpass"
    defaults = {"dim": 8, "scale": 0.1, "dropout": 0.1, "xavier_conv": False}

    def branch(self, new, prefix, d, grid):
        dim = self.o["dim"]

        def conv_identity(t, g):
            t.zero_()
            t[:, :, 1, 1] = torch.eye(dim)
        down = new.linear(f"{prefix}.down", d, dim, i_xavier, i_zeros)
        cw = new(f"{prefix}.conv.weight", (dim, dim, 3, 3), i_xavier if self.o["xavier_conv"] else conv_identity)
        cb = new(f"{prefix}.conv.bias", (dim,), i_zeros)
        up = new.linear(f"{prefix}.up", dim, d, i_zeros, i_zeros)
        gh, gw = grid

        def C(z):
            B = z.shape[0]
            z = quick_gelu(down(z))
            patches = z[:, 1:].reshape(B, gh, gw, dim).permute(0, 3, 1, 2)
            patches = F.conv2d(patches, cw, cb, stride=1, padding=1).permute(0, 2, 3, 1).reshape(B, gh * gw, dim)
            cls = z[:, :1].reshape(B, 1, 1, dim).permute(0, 3, 1, 2)
            cls = F.conv2d(cls, cw, cb, stride=1, padding=1).permute(0, 2, 3, 1).reshape(B, 1, dim)
            return up(quick_gelu(torch.cat([cls, patches], dim=1)))
        return C

    def attach(self, model, new):
        assert model.num_prefix_tokens == 1
        d, s, grid = model.embed_dim, self.o["scale"], model.patch_embed.grid_size
        for l, blk in enumerate(model.blocks):
            C1 = self.branch(new, f"blocks.{l}.convpass_attn", d, grid)
            C2 = self.branch(new, f"blocks.{l}.convpass_mlp", d, grid)

            def forward(x, blk=blk, C1=C1, C2=C2, **kw):
                h = blk.norm1(x)
                x = x + blk.drop_path1(blk.ls1(blk.attn(h))) + s * C1(h)
                h = blk.norm2(x)
                return x + blk.drop_path2(blk.ls2(blk.mlp(h))) + s * C2(h)
            blk.forward = forward


class VisualPrompt(Method):
    """Bahng et al.'s PadPrompter: the image entering patch_embed gets x + P, P the frame of the
    four pads [1,3,p,S] (top, bottom) and [1,3,S-2p,p] (left, right) around a zero centre;
    pad 0 = round(30*S/224) (half away from zero, as Swift's rounded())."""
    name = "visual_prompt"
    defaults = {"pad": 0}

    def attach(self, model, new):
        S = model.patch_embed.img_size[0]
        p = self.o["pad"] or max(1, math.floor(30 * S / 224 + 0.5))
        top = new("prompt.pad_top", (1, 3, p, S), i_normal(0.0, 1.0))
        bottom = new("prompt.pad_bottom", (1, 3, p, S), i_normal(0.0, 1.0))
        left = new("prompt.pad_left", (1, 3, S - 2 * p, p), i_normal(0.0, 1.0))
        right = new("prompt.pad_right", (1, 3, S - 2 * p, p), i_normal(0.0, 1.0))
        orig = class_forward(model.patch_embed)

        def forward(x):
            middle = torch.zeros(1, 3, S - 2 * p, S - 2 * p, dtype=x.dtype)
            P = torch.cat([top, torch.cat([left, middle, right], dim=3), bottom], dim=2)
            return orig(x + P)
        model.patch_embed.forward = forward


class DiffFit(Method):
    """Xie et al. 2023: per-block gamma1, gamma2 (init 1) scale the attention and MLP branches
    inside DropPath; every non-LayerNorm bias and every LayerNorm parameter trains too.
    Merge: gamma scales the rows and bias of attn.proj / mlp.fc2."""
    name = "difffit"

    def trains(self, model):
        names = ["patch_embed.proj.bias"]
        for l in range(len(model.blocks)):
            names += [f"blocks.{l}.{s}.bias" for s in ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")]
            names += [f"blocks.{l}.{s}.{p}" for s in ("norm1", "norm2") for p in ("weight", "bias")]
        return names + ["norm.weight", "norm.bias"]

    def attach(self, model, new):
        d = model.embed_dim
        for l, blk in enumerate(model.blocks):
            g1 = new(f"blocks.{l}.difffit.gamma1", (d,), i_ones, r_scale)
            g2 = new(f"blocks.{l}.difffit.gamma2", (d,), i_ones, r_scale)

            def forward(x, blk=blk, g1=g1, g2=g2):
                x = x + blk.drop_path1(blk.ls1(blk.attn(blk.norm1(x))) * g1)
                return x + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x))) * g2)
            blk.forward = forward

    def merge(self, sd, t):
        for l in range(depth(sd)):
            for layer, g in (("attn.proj", "gamma1"), ("mlp.fc2", "gamma2")):
                gamma = t[f"blocks.{l}.difffit.{g}"]
                sd[f"blocks.{l}.{layer}.weight"] = sd[f"blocks.{l}.{layer}.weight"] * gamma[:, None]
                sd[f"blocks.{l}.{layer}.bias"] = sd[f"blocks.{l}.{layer}.bias"] * gamma
        return sd


class VeRA(Method):
    """Kopiczko et al. 2024 (as Hugging Face PEFT): slice t of the output += lambda_b * (B_s[:out]
    (lambda_d * (A_s[:, :in] x))), with A_s [r, d], B_s [d, r] frozen random (kaiming-uniform)
    shared by every layer. The frozen pair is stored as `frozen.vera.A` / `frozen.vera.B`."""
    name = "vera"
    defaults = {"rank": 256, "targets": ["q", "v"]}

    def attach(self, model, new):
        r, d = self.o["rank"], model.embed_dim
        A, B = torch.empty(r, d), torch.empty(d, r)
        i_kaiming(A, new.gen)
        i_kaiming(B, new.gen)
        self.frozen = {"vera.A": A.to(new.dtype), "vera.B": B.to(new.dtype)}
        mods = dict(model.named_modules())
        fns = {}
        for l, site, idx, prefix, suffix in target_sites(len(model.blocks), self.o["targets"]):
            lin = mods[site]
            n_out = lin.out_features // 3 if idx is not None else lin.out_features
            lam_d = new(f"{prefix}.vera_lambda_d{suffix}", (r,), lambda t, g: t.fill_(0.1))
            lam_b = new(f"{prefix}.vera_lambda_b{suffix}", (n_out,), i_zeros)
            As, Bs = self.frozen["vera.A"][:, :lin.in_features], self.frozen["vera.B"][:n_out]
            fns.setdefault(site, {})[idx] = lambda x, W, b, As=As, Bs=Bs, ld=lam_d, lb=lam_b: \
                F.linear(x, W, b) + lb * F.linear(ld * F.linear(x, As), Bs)
        for site, row_fns in fns.items():
            patch_linear_rows(mods[site], row_fns)

    def merge(self, sd, t):
        for l, site, idx, prefix, suffix in target_sites(depth(sd), self.o["targets"]):
            W = rows(sd[f"{site}.weight"], idx)
            lam_d, lam_b = t[f"{prefix}.vera_lambda_d{suffix}"], t[f"{prefix}.vera_lambda_b{suffix}"]
            As, Bs = self.frozen["vera.A"][:, :W.shape[1]], self.frozen["vera.B"][:W.shape[0]]
            W.add_((lam_b[:, None] * Bs) @ (lam_d[:, None] * As))
        return sd


class Hydra(Method):
    """Kim et al. 2024: around attn.proj and mlp.fc2 (z = the linear's input),
    y = W z + b + s*P(z) + s*S(W z + b), P and S each a linear down (xavier, bias 0) -> up (zero)
    map with biases and no non-linearity. Affine in z, so it merges into W and b."""
    name = "hydra"
    defaults = {"rank": 8, "scale": 0.1, "dropout": 0.2}

    def attach(self, model, new):
        r, s = self.o["rank"], self.o["scale"]
        for l, blk in enumerate(model.blocks):
            for site, lin in (("attn.proj", blk.attn.proj), ("mlp.fc2", blk.mlp.fc2)):
                prefix = f"blocks.{l}.{site}"
                P = self.branch(new, f"{prefix}.hydra_parallel", lin.in_features, lin.out_features, r)
                S = self.branch(new, f"{prefix}.hydra_sequential", lin.out_features, lin.out_features, r)
                base = class_forward(lin)
                lin.forward = lambda z, base=base, P=P, S=S: (lambda y: y + s * P(z) + s * S(y))(base(z))

    @staticmethod
    def branch(new, prefix, n_in, n_out, r):
        down = new.linear(f"{prefix}.down", n_in, r, i_xavier, i_zeros)
        up = new.linear(f"{prefix}.up", r, n_out, i_zeros, i_zeros)
        return lambda z: up(down(z))

    def merge(self, sd, t):
        s = self.o["scale"]
        for l in range(depth(sd)):
            for site in ("attn.proj", "mlp.fc2"):
                p = f"blocks.{l}.{site}"
                W, b = sd[f"{p}.weight"], sd[f"{p}.bias"]
                Pd, Pdb, Pu, Pub = (t[f"{p}.hydra_parallel.{k}"] for k in ("down.weight", "down.bias", "up.weight", "up.bias"))
                Sd, Sdb, Su, Sub = (t[f"{p}.hydra_sequential.{k}"] for k in ("down.weight", "down.bias", "up.weight", "up.bias"))
                SW = Su @ Sd                      # the sequential branch's linear part on y
                Sb = Su @ Sdb + Sub
                newW = W + s * (Pu @ Pd) + s * (SW @ W)
                newb = b + s * (Pu @ Pdb + Pub) + s * (SW @ b + Sb)
                sd[f"{p}.weight"], sd[f"{p}.bias"] = newW, newb
        return sd


def patt_attention(attn, x, modulation, scale):
    """timm Attention with K and V shifted by scale*modulation(x) ([B,N,2d] → K part, V part)."""
    B, N, C = x.shape
    H, Dh = attn.num_heads, attn.head_dim
    q, k, v = attn.qkv(x).reshape(B, N, 3, H, Dh).permute(2, 0, 3, 1, 4)
    delta = modulation(x)
    dk = delta[..., :C].reshape(B, N, H, Dh).permute(0, 2, 1, 3)
    dv = delta[..., C:].reshape(B, N, H, Dh).permute(0, 2, 1, 3)
    k, v = k + scale * dk, v + scale * dv
    a = torch.softmax((q * attn.scale) @ k.transpose(-2, -1), dim=-1)
    return attn.proj((a @ v).transpose(1, 2).reshape(B, N, C))


class PATT(Method):
    """Parallel attention (V-PETL's video code): in every attention K += s*D_k, V += s*D_v with
    D = up(tanh(down(x))) (d → dim → 2d) on the attention's input; up zero at init."""
    name = "patt"
    defaults = {"dim": 64, "scale": 0.5}

    def attach(self, model, new):
        d, dim, s = model.embed_dim, self.o["dim"], self.o["scale"]
        for l, blk in enumerate(model.blocks):
            p = f"blocks.{l}.attn.patt"
            down = new.linear(f"{p}.down", d, dim, i_kaiming, i_linear_bias(d))
            up = new.linear(f"{p}.up", dim, 2 * d, i_zeros, i_zeros)
            blk.attn.forward = lambda x, attn=blk.attn, down=down, up=up, **kw: patt_attention(attn, x, lambda h: up(torch.tanh(down(h))), s)


class BAPAT(PATT):
    """PATT + AdaptFormer in every block."""
    name = "bapat"
    defaults = {"dim": 64, "scale": 0.5, "adapter_dim": 8, "adapter_scale": 1.0}

    def attach(self, model, new):
        AdaptFormer({"dim": self.o["adapter_dim"], "scale": self.o["adapter_scale"]}).attach(model, new)
        super().attach(model, new)


class SNF(Method):
    """Both residual shortcuts of every block become F(z) = PF_L(…PF_1(mu + exp(log_sigma)*z)),
    planar flows PF(z) = z + s * tanh(w·z + b) (w, s in R^d, b scalar, per token):
    x1 = F_attn(x) + attn(norm1 x);  x2 = F_mlp(x1) + mlp(norm2 x1)."""
    name = "snf"
    defaults = {"flows": 16}

    def flow(self, new, p, d):
        mu = new(f"{p}.mu", (d,), i_zeros)
        log_sigma = new(f"{p}.log_sigma", (d,), i_zeros)
        layers = [(new(f"{p}.flow.{k}.w", (d,), i_uniform(0.01)), new(f"{p}.flow.{k}.s", (d,), i_uniform(0.01)),
                   new(f"{p}.flow.{k}.b", (1,), i_uniform(0.01))) for k in range(self.o["flows"])]

        def F(z):
            z = mu + torch.exp(log_sigma) * z
            for w, s, b in layers:
                z = z + s * torch.tanh((z * w).sum(-1, keepdim=True) + b)
            return z
        return F

    def attach(self, model, new):
        d = model.embed_dim
        for l, blk in enumerate(model.blocks):
            fa, fm = self.flow(new, f"blocks.{l}.snf_attn", d), self.flow(new, f"blocks.{l}.snf_mlp", d)

            def forward(x, blk=blk, fa=fa, fm=fm, **kw):
                x = fa(x) + blk.drop_path1(blk.ls1(blk.attn(blk.norm1(x))))
                return fm(x) + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x))))
            blk.forward = forward


class LoRand(Method):
    """Sequential adapters after the attention and the MLP sub-layers, z <- z + U(GELU(D z)),
    D: d -> d/2 and U: d/2 -> d, each weight a sum of `branches` products P_i K_i Q_i
    (P [in,k], K [k,k], Q [k,out], kaiming-uniform) plus a bias (zero): y = x (sum P K Q) + b."""
    name = "lorand"
    defaults = {"branches": 4, "kernel": 8}

    def low_rank_linear(self, new, p, n_in, n_out):
        k = self.o["kernel"]
        parts = [(new(f"{p}.P.{i}", (n_in, k), i_kaiming), new(f"{p}.K.{i}", (k, k), i_kaiming), new(f"{p}.Q.{i}", (k, n_out), i_kaiming))
                 for i in range(self.o["branches"])]
        b = new(f"{p}.bias", (n_out,), i_zeros)
        return lambda x: x @ sum(P @ K @ Q for P, K, Q in parts) + b

    def attach(self, model, new):
        d = model.embed_dim
        for l, blk in enumerate(model.blocks):
            adapters = []
            for site in ("attn", "mlp"):
                p = f"blocks.{l}.lorand_{site}"
                D = self.low_rank_linear(new, f"{p}.down", d, d // 2)
                U = self.low_rank_linear(new, f"{p}.up", d // 2, d)
                adapters.append(lambda z, D=D, U=U: z + U(F.gelu(D(z))))

            def forward(x, blk=blk, a=adapters[0], m=adapters[1], **kw):
                x = x + blk.drop_path1(a(blk.ls1(blk.attn(blk.norm1(x)))))
                return x + blk.drop_path2(m(blk.ls2(blk.mlp(blk.norm2(x)))))
            blk.forward = forward


class UTuning(Method):
    """U-Tuning (the wiring chosen in U-Tuning.swift): beside attention a parallel prefix tuner
    softmax(q P_k^T / sqrt(Dh)) P_v with q the frozen q projection of norm1 x and P_k, P_v [l, d]
    split into heads; beside the MLP a parallel adapter up(ReLU(down(norm2 x))) (up zero). Both
    are added outside DropPath."""
    name = "u_tuning"
    defaults = {"length": 10, "dim": 10}

    def attach(self, model, new):
        d, l_, m = model.embed_dim, self.o["length"], self.o["dim"]
        for l, blk in enumerate(model.blocks):
            p = f"blocks.{l}.u_tuning"
            Pk = new(f"{p}.prefix_key", (l_, d), i_normal(0.0, 0.02))
            Pv = new(f"{p}.prefix_value", (l_, d), i_zeros)
            adapter = bottleneck(new, f"{p}.adapter", d, m, F.relu, i_kaiming, i_zeros)
            attn = blk.attn

            def prefix_tuner(h, attn=attn, Pk=Pk, Pv=Pv):
                B, N, C = h.shape
                H, Dh = attn.num_heads, attn.head_dim
                q = F.linear(h, attn.qkv.weight[:C], attn.qkv.bias[:C]).reshape(B, N, H, Dh).permute(0, 2, 1, 3)
                k, v = split_heads(Pk, H), split_heads(Pv, H)
                a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(Dh), dim=-1)
                return (a @ v).transpose(1, 2).reshape(B, N, C)

            def forward(x, blk=blk, pt=prefix_tuner, ad=adapter, **kw):
                h = blk.norm1(x)
                x = x + blk.drop_path1(blk.ls1(blk.attn(h))) + pt(h)
                h = blk.norm2(x)
                return x + blk.drop_path2(blk.ls2(blk.mlp(h))) + ad(h)
            blk.forward = forward


class Mona(Method):
    """Mona (official MonaOp) after the attention residual and after the MLP residual:
    x̂ = LN(x)*gamma + x*gamma_x; p = down(x̂) on the patch grid (the class token as a 1x1 image);
    p = p + (DW3 p + DW5 p + DW7 p)/3; p = p + conv1x1(p); out = x + up(GELU(p))."""
    name = "mona"
    defaults = {"dim": 64}

    def module(self, new, pfx, d, m, grid):
        ln_w = new(f"{pfx}.norm.weight", (d,), i_ones, r_scale)
        ln_b = new(f"{pfx}.norm.bias", (d,), i_zeros)
        gamma = new(f"{pfx}.gamma", (d,), lambda t, g: t.fill_(1e-6), r_scale)
        gamma_x = new(f"{pfx}.gamma_x", (d,), i_ones, r_scale)
        down = new.linear(f"{pfx}.down", d, m, i_kaiming, i_linear_bias(d))
        convs = [(new(f"{pfx}.conv{k}.weight", (m, 1, k, k), i_kaiming), new(f"{pfx}.conv{k}.bias", (m,), i_linear_bias(k * k)), k) for k in (3, 5, 7)]
        proj_w = new(f"{pfx}.projector.weight", (m, m, 1, 1), i_kaiming)
        proj_b = new(f"{pfx}.projector.bias", (m,), i_linear_bias(m))
        up = new.linear(f"{pfx}.up", m, d, i_kaiming, i_linear_bias(m))

        def op(p):  # p [B', m, h, w]
            mixed = sum(F.conv2d(p, w, b, padding=k // 2, groups=m) for w, b, k in convs) / 3.0 + p
            return mixed + F.conv2d(mixed, proj_w, proj_b)

        def forward(x):
            B, N, C = x.shape
            h = F.layer_norm(x, (C,), ln_w, ln_b, eps=1e-5) * gamma + x * gamma_x
            p = down(h)
            cls = op(p[:, :1].reshape(B, 1, 1, m).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).reshape(B, 1, m)
            patches = op(p[:, 1:].reshape(B, grid, grid, m).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).reshape(B, grid * grid, m)
            return x + up(F.gelu(torch.cat([cls, patches], 1)))
        return forward

    def attach(self, model, new):
        d, m = model.embed_dim, self.o["dim"]
        grid = model.patch_embed.grid_size[0]
        for l, blk in enumerate(model.blocks):
            ma, mm = self.module(new, f"blocks.{l}.mona_attn", d, m, grid), self.module(new, f"blocks.{l}.mona_mlp", d, m, grid)

            def forward(x, blk=blk, ma=ma, mm=mm, **kw):
                x = ma(x + blk.drop_path1(blk.ls1(blk.attn(blk.norm1(x)))))
                return mm(x + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x)))))
            blk.forward = forward


class DTL(Method):
    """DTL: block l's input x_l feeds B_l A_l x_l (A kaiming, B zeros); R_l = sum_{i<=l} B_i A_i x_i;
    after each block l >= start, x += swish_100(R_l); the head reads the frozen final norm of
    the mean of the patch tokens."""
    name = "dtl"
    defaults = {"rank": 2, "start": 6}

    def attach(self, model, new):
        d, r, start = model.embed_dim, self.o["rank"], self.o["start"]
        As = [new(f"blocks.{l}.dtl.A", (r, d), i_kaiming) for l in range(len(model.blocks))]
        Bs = [new(f"blocks.{l}.dtl.B", (d, r), i_zeros) for l in range(len(model.blocks))]

        def forward(x):
            x = embed(model, x)
            R = 0
            for l, blk in enumerate(model.blocks):
                R = R + x @ As[l].T @ Bs[l].T
                x = blk(x)
                if l >= start:
                    x = x + R * torch.sigmoid(100 * R)
            return model.head(model.norm(x[:, model.num_prefix_tokens:].mean(1)))
        model.forward = forward


class KAdaptation(Method):
    """He et al. AAAI 2023 (as PEViT's KAdaptation, u glorot): for t in (q, v) the qkv slice t
    gains scale * x H^t + b (x the qkv input, b [d] per block shared by q and v), H^t [d_in, d_out]
    = sum_i kron(R_i^t, W_i^t), R_i^t = left_t[i] (x) right_t[i] ([n,n], shared by the blocks),
    W_i^t = u_t[i] (x) v_t[i] ([m,m], per block), n = kron, m = d/n. Merge: the slice's rows of
    qkv.weight += scale * (H^t)^T, of qkv.bias += b."""
    name = "kadaptation"
    defaults = {"kron": 32, "scale": 160.0}
    targets = ("q", "v")

    @staticmethod
    def hypercomplex(left, right, u, v):
        """sum_i kron(left[i] (x) right[i], u[i] (x) v[i]) with torch.kron ([n*m, n*m])."""
        return sum(torch.kron(torch.outer(left[i], right[i]), torch.outer(u[i], v[i])) for i in range(left.shape[0]))

    def attach(self, model, new):
        d, n, s = model.embed_dim, self.o["kron"], self.o["scale"]
        assert d % n == 0, (d, n)
        m = d // n
        rules = {t: (new(f"kadaptation.rule_{t}.left", (n, n), i_uniform(0.01)),
                     new(f"kadaptation.rule_{t}.right", (n, n), i_uniform(0.01))) for t in self.targets}
        u_bound = math.sqrt(2.0) * math.sqrt(6.0 / (m + 1))  # xavier, gain sqrt 2, on each [m, 1] row
        for l, blk in enumerate(model.blocks):
            p = f"blocks.{l}.attn.qkv"
            fns = {}
            uv = {t: (new(f"{p}.kadaptation_u.{t}", (n, m), i_uniform(u_bound)),
                      new(f"{p}.kadaptation_v.{t}", (n, m), i_zeros)) for t in self.targets}
            bias = new(f"{p}.kadaptation_bias", (d,), i_zeros)
            for t in self.targets:
                (left, right), (u, v) = rules[t], uv[t]
                fns[QKV.index(t)] = lambda x, W, b, left=left, right=right, u=u, v=v, bias=bias: \
                    F.linear(x, W, b) + s * x @ self.hypercomplex(left, right, u, v) + bias
            patch_linear_rows(blk.attn.qkv, fns)

    def merge(self, sd, t):
        s = self.o["scale"]
        for l in range(depth(sd)):
            p = f"blocks.{l}.attn.qkv"
            for tg in self.targets:
                H = self.hypercomplex(t[f"kadaptation.rule_{tg}.left"], t[f"kadaptation.rule_{tg}.right"],
                                      t[f"{p}.kadaptation_u.{tg}"], t[f"{p}.kadaptation_v.{tg}"])
                rows(sd[f"{p}.weight"], QKV.index(tg)).add_(s * H.t())
                rows(sd[f"{p}.bias"], QKV.index(tg)).add_(t[f"{p}.kadaptation_bias"])
        return sd


class NOAH(VPTShallow):
    """Zhang et al. NOAH (one searched subnet, given as per-block lists; 0 = absent): block l has
    p_l deep prompts P_l [p_l, d] (block 0: inserted after CLS; block l >= 1: the p_{l-1} tokens
    after CLS replaced by P_l; removed after the final norm), LoRA on the whole fused qkv without
    scaling, qkv(x) += x A_l^T B_l^T (A [r_l, d], B [3d, r_l]), and a sequential adapter on the
    MLP branch z = mlp(norm2 x); z += up(QuickGELU(down z)) (down [a_l, d], up [d, a_l])."""
    name = "noah"
    defaults = {"prompts": None, "ranks": None, "adapter_dims": None, "dropout": 0.1, "subnet": "cifar100"}

    def attach(self, model, new):
        d, L, npt = model.embed_dim, len(model.blocks), model.num_prefix_tokens
        ps, rs, ads = self.o["prompts"], self.o["ranks"], self.o["adapter_dims"]
        assert all(isinstance(v, list) and len(v) == L for v in (ps, rs, ads)), "noah: explicit per-block lists only"
        Ps = [new(f"prompt.deep.{l}", (ps[l], d), self.prompt_init(model)) if ps[l] else None for l in range(L)]
        for l, blk in enumerate(model.blocks):
            p = f"blocks.{l}"
            if rs[l]:
                A = new(f"{p}.attn.qkv.lora_A", (rs[l], d), i_kaiming)
                B = new(f"{p}.attn.qkv.lora_B", (3 * d, rs[l]), i_zeros)
                patch_linear_rows(blk.attn.qkv, {None: lambda x, W, b, A=A, B=B: F.linear(x, W, b) + x @ A.T @ B.T})
            ad = bottleneck(new, f"{p}.adapter", d, ads[l], quick_gelu, i_xavier, i_zeros) if ads[l] else None

            def forward(x, blk=blk, ad=ad, **kw):
                x = x + blk.drop_path1(blk.ls1(blk.attn(blk.norm1(x))))
                z = blk.mlp(blk.norm2(x))
                if ad is not None:
                    z = z + ad(z)
                return x + blk.drop_path2(blk.ls2(z))
            blk.forward = forward

        def forward_features(x, attn_mask=None, is_causal=False):
            assert attn_mask is None and not is_causal
            x = embed(model, x)
            prev = 0  # prompt tokens after CLS
            for l, blk in enumerate(model.blocks):
                x = torch.cat([x[:, :npt], x[:, npt + prev:]], dim=1)
                if Ps[l] is not None:
                    x = with_prompts(x, Ps[l], npt, replace=False)
                prev = ps[l]
                x = blk(x)
            x = model.norm(x)
            return torch.cat([x[:, :npt], x[:, npt + prev:]], dim=1)
        model.forward_features = forward_features


class LST(Method):
    """Sung et al. 2022 (Ladder Side-Tuning, ViT transcription): a side network of width w fed by
    down_j (d -> w) of the tokens entering block 0 (j = 0) and of block j-1's output (j >= 1):
    s = down_0(h_0); per block l: g = sigmoid(gate_l / T); s = side_block_l(g s + (1-g) down_{l+1}(h_{l+1})),
    side blocks timm Blocks (dim w, mlp 4w, GELU, LN eps 1e-6); logits = head(up(LN(s))[:, CLS])
    (the backbone's own final norm unused)."""
    name = "lst"
    defaults = {"width": 96, "heads": 12, "gate_temperature": 0.1}

    def side_block(self, new, p, w):
        ln_w = lambda name: new(f"{p}.{name}.weight", (w,), i_ones, r_scale)
        ln_b = lambda name: new(f"{p}.{name}.bias", (w,), i_zeros)
        tw = lambda name, shape: new(f"{p}.{name}.weight", shape, lambda t, g: torch.nn.init.trunc_normal_(t, std=0.02, generator=g))
        tb = lambda name, n: new(f"{p}.{name}.bias", (n,), i_zeros)
        params = {"norm1.weight": ln_w("norm1"), "norm1.bias": ln_b("norm1"),
                  "attn.qkv.weight": tw("attn.qkv", (3 * w, w)), "attn.qkv.bias": tb("attn.qkv", 3 * w),
                  "attn.proj.weight": tw("attn.proj", (w, w)), "attn.proj.bias": tb("attn.proj", w),
                  "norm2.weight": ln_w("norm2"), "norm2.bias": ln_b("norm2"),
                  "mlp.fc1.weight": tw("mlp.fc1", (4 * w, w)), "mlp.fc1.bias": tb("mlp.fc1", 4 * w),
                  "mlp.fc2.weight": tw("mlp.fc2", (w, 4 * w)), "mlp.fc2.bias": tb("mlp.fc2", w)}
        block = Block(dim=w, num_heads=self.o["heads"], mlp_ratio=4.0, qkv_bias=True,
                      norm_layer=functools.partial(LayerNorm, eps=1e-6)).to(new.dtype).eval()
        assert set(params) == {n for n, _ in block.named_parameters()}
        return lambda s: torch.func.functional_call(block, params, (s,))

    def attach(self, model, new):
        d, w, L, T = model.embed_dim, self.o["width"], len(model.blocks), self.o["gate_temperature"]
        downs = [new.linear(f"lst.down.{j}", d, w, i_kaiming, i_linear_bias(d)) for j in range(L + 1)]
        gates = [new(f"lst.gate.{l}", (1,), i_zeros) for l in range(L)]
        sides = [self.side_block(new, f"lst.blocks.{l}", w) for l in range(L)]
        norm_w = new("lst.norm.weight", (w,), i_ones, r_scale)
        norm_b = new("lst.norm.bias", (w,), i_zeros)
        up = new.linear("lst.up", w, d, i_kaiming, i_linear_bias(w))

        def forward(x):
            h = embed(model, x)
            s = downs[0](h)
            for l, blk in enumerate(model.blocks):
                h = blk(h)
                g = torch.sigmoid(gates[l] / T)
                s = sides[l](g * s + (1 - g) * downs[l + 1](h))
            f = up(F.layer_norm(s, (w,), norm_w, norm_b, eps=1e-6))[:, 0]
            return model.head(f)
        model.forward = forward


class LAST(Method):
    """Tang et al. (Low-rank Attention Side-Tuning; our wiring): s_0 = 0; after block l,
    s += LSA_l(LN_l(h_l + s)), LSA(z) = concat_h softmax(Q_h K_h^T / sqrt(r/H)) V_h @ o^T with
    Q, K, V = z q^T, z k^T, z v^T ([r] split into H heads); logits = head(norm(h_L + s)[:, CLS])."""
    name = "last"
    defaults = {"rank": 16, "heads": 1}

    def attach(self, model, new):
        d, r, H = model.embed_dim, self.o["rank"], self.o["heads"]
        assert r % H == 0, (r, H)
        Dh = r // H
        lsas = []
        for l in range(len(model.blocks)):
            p = f"last.{l}"
            ln_w = new(f"{p}.norm.weight", (d,), i_ones, r_scale)
            ln_b = new(f"{p}.norm.bias", (d,), i_zeros)
            q, k, v = (new(f"{p}.{n}", (r, d), i_kaiming) for n in ("q", "k", "v"))
            o = new(f"{p}.o", (d, r), i_zeros)

            def lsa(z, ln_w=ln_w, ln_b=ln_b, q=q, k=k, v=v, o=o):
                z = F.layer_norm(z, (d,), ln_w, ln_b, eps=1e-6)
                heads = []
                for h in range(H):
                    sl = slice(h * Dh, (h + 1) * Dh)
                    Q, K, V = z @ q[sl].T, z @ k[sl].T, z @ v[sl].T
                    heads.append(torch.softmax(Q @ K.transpose(-2, -1) / math.sqrt(Dh), dim=-1) @ V)
                return torch.cat(heads, -1) @ o.T
            lsas.append(lsa)

        def forward(x):
            h = embed(model, x)
            s = torch.zeros_like(h)
            for l, blk in enumerate(model.blocks):
                h = blk(h)
                s = s + lsas[l](h + s)
            return model.head(model.norm(h + s)[:, 0])
        model.forward = forward


class SCT(Method):
    """Zhao et al. (Salient Channel Tuning): calibration on a fixed labelled batch with the plain
    backbone — norm2's input of each block, prefix tokens dropped, per class the L2 norm of each
    channel over (samples, tokens), averaged over the classes present, top K ascending — then
    after each attention residual x[..., idx] += x[..., idx] @ W^T + b. The calibration batch is
    stored as `calibration.input` / `calibration.labels` and the channels as
    `state.blocks.{l}.sct.channels` (float indices)."""
    name = "sct"
    defaults = {"channels": 96}

    def attach(self, model, new):
        K, P = self.o["channels"], model.num_prefix_tokens
        g = torch.Generator().manual_seed(4242)
        cx = torch.randn(6, 3, 16, 16, generator=g).to(new.dtype)
        cy = torch.tensor([0, 2, 3, 0, 2, 2])  # classes 1 and 4 absent: averaged over those present
        recorded = []
        hooks = [blk.norm2.register_forward_pre_hook(lambda m, a: recorded.append(a[0].detach())) for blk in model.blocks]
        with torch.no_grad():
            model(cx)
        for h in hooks:
            h.remove()
        self.state, self.calibration = {}, {"calibration.input": cx.float(), "calibration.labels": cy}
        for l, (blk, f) in enumerate(zip(model.blocks, recorded)):
            f = f[:, P:].double()
            score = torch.stack([f[cy == c].pow(2).sum(dim=(0, 1)).sqrt() for c in cy.unique()]).mean(0)
            idx = score.topk(K).indices.sort().values
            self.state[f"blocks.{l}.sct.channels"] = idx.to(new.dtype)
            W = new(f"blocks.{l}.sct.weight", (K, K), i_zeros)
            b = new(f"blocks.{l}.sct.bias", (K,), i_zeros)

            def forward(x, blk=blk, idx=idx, W=W, b=b):
                x = x + blk.drop_path1(blk.ls1(blk.attn(blk.norm1(x))))
                x = x.index_add(-1, idx, x[..., idx] @ W.T + b)
                return x + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x))))
            blk.forward = forward


class GPS(Method):
    """Zhang et al. (Gradient-based Parameter Selection): pre-pass on a fixed pair of views
    (`calibration.view1`, `calibration.view2`, `calibration.labels`) with the plain backbone —
    SupCon loss (temperature 0.07, positives = same label, each anchor's other view included)
    on the L2-normalised final-norm class token of both views, gradients of every qkv / proj /
    fc1 / fc2 weight and of the patch-embedding conv as [out, in*p*p]; per row the top-k
    columns by |grad|, ascending (`state.<layer>.gps_columns`). Training: W + scatter(delta)
    (delta [rows, k] at those columns) plus the non-LN biases unfrozen."""
    name = "gps"
    defaults = {"k": 1, "temperature": 0.07}
    LAYERS = ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")

    def targets(self, model):
        yield "patch_embed.proj", model.patch_embed.proj
        for l, blk in enumerate(model.blocks):
            for n in self.LAYERS:
                yield f"blocks.{l}.{n}", blk.get_submodule(n)

    def trains(self, model):
        return ["patch_embed.proj.bias"] + [f"blocks.{l}.{n}.bias" for l in range(len(model.blocks)) for n in self.LAYERS]

    def attach(self, model, new):
        k, T = self.o["k"], self.o["temperature"]
        g = torch.Generator().manual_seed(5151)
        v1, v2 = (torch.randn(4, 3, 16, 16, generator=g).to(new.dtype) for _ in range(2))
        y = torch.tensor([0, 3, 0, 1])
        self.calibration = {"calibration.view1": v1.float(), "calibration.view2": v2.float(), "calibration.labels": y}
        weights = [m.weight for _, m in self.targets(model)]
        for w in weights:
            w.grad = None
        with torch.enable_grad():
            wg = [w.detach().requires_grad_() for w in weights]
            saved = [m.weight for _, m in self.targets(model)]
            for (_, m), w in zip(self.targets(model), wg):
                del m.weight
                m.weight = w
            f = torch.cat([model.forward_head(model.forward_features(v), pre_logits=True) for v in (v1, v2)])
            z = F.normalize(f.double(), dim=1)
            labels = torch.cat([y, y])
            logits = z @ z.T / T
            n = len(labels)
            self_mask = torch.eye(n, dtype=torch.bool)
            pos = (labels[:, None] == labels[None, :]) & ~self_mask
            log_den = torch.logsumexp(logits.masked_fill(self_mask, float("-inf")), dim=1, keepdim=True)
            loss = -((logits - log_den) * pos).sum(1)[pos.any(1)] / pos.sum(1)[pos.any(1)]
            grads = torch.autograd.grad(loss.mean(), wg)
            for (_, m), w in zip(self.targets(model), saved):
                del m.weight
                m.weight = w
        self.state = {}
        for (name, m), gr in zip(self.targets(model), grads):
            G = gr.reshape(gr.shape[0], -1).abs()
            top = G.topk(k + 1, dim=1)
            gap = (top.values[:, k - 1] - top.values[:, k]) / top.values[:, k - 1]
            assert gap.min() > 1e-4, (name, gap.min().item())  # no near-tie the float32 side could flip
            cols = top.indices[:, :k].sort(dim=1).values
            self.state[f"{name}.gps_columns"] = cols.to(new.dtype)
            delta = new(f"{name}.gps_delta", (G.shape[0], k), i_zeros)

            def forward(x, m=m, cols=cols, delta=delta, conv=isinstance(m, torch.nn.Conv2d)):
                W = m.weight.reshape(m.weight.shape[0], -1).scatter_add(1, cols, delta).reshape(m.weight.shape)
                return F.conv2d(x, W, m.bias, stride=m.stride) if conv else F.linear(x, W, m.bias)
            m.forward = forward

    def merge(self, sd, t):
        for name, cols in self.state.items():
            layer = name[: -len(".gps_columns")]
            W = sd[f"{layer}.weight"]
            flat = W.reshape(W.shape[0], -1).scatter_add(1, cols.long(), t[f"{layer}.gps_delta"])
            sd[f"{layer}.weight"] = flat.reshape(W.shape)
        return sd


class HST(Method):
    """Lin et al. 2023 (Hierarchical Side-Tuning; official AFeng-x/HST `models/vit_hsn.py`,
    `vit_custom_modules.py`). Backbone: before block l a meta token M_l [1,d] is put in front of
    all tokens (before CLS) and removed after the block; its output m_l and the block's patch
    tokens F_l (grid [d, Hv, Wv]) are kept; the backbone's final norm is unused. Side network
    on the raw image, stages s = 0..S-1 of width c_s fed by n_s consecutive backbone layers:
    stage 0 embed = conv3x3/2 (no bias) -> BatchNorm2d (eps 1e-5) -> ReLU -> conv2x2/2 -> LN
    (eps 1e-5); stage s >= 1 embed = conv3x3/2 pad 1 -> LN (eps 1e-5). Side block for layer l:
    f = Bridge_s(bilinear(F_l -> Hs x Ws, align_corners False)) (one Bridge_s Linear(d, c_s)
    per stage), kv = [LN_l(Bridge_s(m_l)) (eps 1e-5); mean_tokens(f)];
    z += proj(MHA(q(LN1 z), k(kv), v(kv))); z += f; z += fc2(GELU(fc1(LN2 z))) (LN eps 1e-6);
    stage end: LN (eps 1e-6). Head: BatchNorm1d(c_last, affine False, eps 1e-6) of the token
    mean, then head Linear(c_last, classes). BatchNorms run on their running statistics (eval,
    0 and 1 here). Trains the backbone's blocks.{l}.norm{1,2}. The head's weight is re-made
    [classes, c_last] in place (`.data`, so the harness's `head.weight` stays the trained tensor;
    random N(0, 0.2^2) here, intended trunc-normal 0.02 and a zero bias). `attn.k.bias` has an
    identically zero gradient (softmax is shift-invariant over the keys): the fixture's is fp32
    noise ~1e-9, which is what the printed fp32-fp64 "grads rel" measures."""
    name = "hst"
    defaults = {"widths": [32, 48, 64, 72], "heads": [2, 4, 8, 12], "blocks_per_stage": [3, 3, 3, 3], "mlp_ratio": 4.0}

    def trains(self, model):
        return [f"blocks.{l}.{n}.{p}" for l in range(len(model.blocks)) for n in ("norm1", "norm2") for p in ("weight", "bias")]

    def attach(self, model, new):
        widths, heads, per = self.o["widths"], self.o["heads"], self.o["blocks_per_stage"]
        d, L, npt = model.embed_dim, len(model.blocks), model.num_prefix_tokens
        assert len(widths) == len(heads) == len(per) and sum(per) == L, (widths, heads, per, L)
        assert all(c % h == 0 for c, h in zip(widths, heads)) and min(per) > 0
        tn = lambda t, g: torch.nn.init.trunc_normal_(t, std=0.02, generator=g)  # timm trunc_normal_ (a -2, b 2)
        conv_init = lambda fan_out: i_normal(0.0, math.sqrt(2.0 / fan_out))     # HST's Conv2d init
        lin = lambda p, n_in, n_out: new.linear(p, n_in, n_out, tn, i_zeros)
        ln = lambda p, c: (new(f"{p}.weight", (c,), i_ones, r_scale), new(f"{p}.bias", (c,), i_zeros))
        meta = [new(f"hst.meta.{l}", (1, d), i_uniform(math.sqrt(6.0 / (2 * d)))) for l in range(L)]  # xavier of [1,1,d]
        stages, layer = [], 0
        for s, (c, H) in enumerate(zip(widths, heads)):
            st = {"c": c, "H": H}
            if s == 0:
                st["conv1"] = new("hst.stem.conv1.weight", (c, 3, 3, 3), conv_init(9 * c))
                st["bn"] = ln("hst.stem.bn", c)
                st["conv2"] = (new("hst.stem.conv2.weight", (c, c, 2, 2), conv_init(4 * c)), new("hst.stem.conv2.bias", (c,), i_zeros))
                st["norm0"] = ln("hst.stem.norm", c)
            else:
                st["conv"] = (new(f"hst.stages.{s}.embed.conv.weight", (c, widths[s - 1], 3, 3), conv_init(9 * c)),
                              new(f"hst.stages.{s}.embed.conv.bias", (c,), i_zeros))
                st["norm0"] = ln(f"hst.stages.{s}.embed.norm", c)
            st["bridge"] = lin(f"hst.bridges.{s}", d, c)
            st["layers"] = list(range(layer, layer + per[s]))
            st["meta_norms"] = [ln(f"hst.meta_norms.{l}", c) for l in st["layers"]]
            hidden = int(c * self.o["mlp_ratio"])
            st["blocks"] = []
            for b in range(per[s]):
                p = f"hst.stages.{s}.blocks.{b}"
                st["blocks"].append({"norm1": ln(f"{p}.norm1", c), "q": lin(f"{p}.attn.q", c, c), "k": lin(f"{p}.attn.k", c, c),
                                     "v": lin(f"{p}.attn.v", c, c), "proj": lin(f"{p}.attn.proj", c, c), "norm2": ln(f"{p}.norm2", c),
                                     "fc1": lin(f"{p}.mlp.fc1", c, hidden), "fc2": lin(f"{p}.mlp.fc2", hidden, c)})
            st["norm"] = ln(f"hst.stages.{s}.norm", c)
            stages.append(st)
            layer += per[s]
        # the head reads the last stage (width c_last), not the backbone's d features
        c_last, head = widths[-1], model.head
        w = torch.empty(head.out_features, c_last)
        with torch.no_grad():
            if new.mode == "intended":
                tn(w, new.gen)
                head.bias.zero_()
            else:
                w = METHOD_STD * torch.randn(w.shape, generator=new.gen)
        head.weight.data = w.to(new.dtype)
        head.in_features = c_last

        def side_block(z, kv, f, blk, H):
            B, N, C = z.shape
            heads_ = lambda t: t.reshape(B, t.shape[1], H, C // H).transpose(1, 2)
            q = heads_(blk["q"](F.layer_norm(z, (C,), *blk["norm1"], eps=1e-6)))
            k, v = heads_(blk["k"](kv)), heads_(blk["v"](kv))
            a = torch.softmax(q @ k.transpose(-2, -1) * (C // H) ** -0.5, dim=-1)
            z = z + blk["proj"]((a @ v).transpose(1, 2).reshape(B, N, C))
            z = z + f
            h = F.gelu(blk["fc1"](F.layer_norm(z, (C,), *blk["norm2"], eps=1e-6)))
            return z + blk["fc2"](h)

        # BatchNorm running statistics: the method's saved state (`state.hst.*`), non-trivial here.
        running = lambda c: ((0.2 * torch.randn(c, generator=new.gen)).to(new.dtype), (1 + 0.5 * torch.rand(c, generator=new.gen)).to(new.dtype))
        stem_stats, head_stats = running(widths[0]), running(widths[-1])
        self.state = {"hst.stem.bn.running_mean": stem_stats[0], "hst.stem.bn.running_var": stem_stats[1],
                      "hst.head_norm.running_mean": head_stats[0], "hst.head_norm.running_var": head_stats[1]}

        def forward(x):
            B = x.shape[0]
            Hv, Wv = x.shape[-2] // model.patch_embed.patch_size[0], x.shape[-1] // model.patch_embed.patch_size[1]
            h = embed(model, x)
            outs, feats = [], []
            for l, blk in enumerate(model.blocks):
                h = blk(torch.cat([meta[l].expand(B, -1, -1), h], dim=1))
                outs.append(h[:, :1])
                feats.append(h[:, 1 + npt:].transpose(1, 2).reshape(B, d, Hv, Wv))
                h = h[:, 1:]
            z = x
            for s, st in enumerate(stages):
                c = st["c"]
                if s == 0:
                    z = F.conv2d(z, st["conv1"], None, stride=2, padding=1)
                    z = F.relu(F.batch_norm(z, *stem_stats, *st["bn"], training=False, eps=1e-5))
                    z = F.conv2d(z, *st["conv2"], stride=2)
                else:
                    z = F.conv2d(z, *st["conv"], stride=2, padding=1)
                Hs, Ws = z.shape[-2:]
                z = F.layer_norm(z.flatten(2).transpose(1, 2), (c,), *st["norm0"], eps=1e-5)
                for b, l in enumerate(st["layers"]):
                    f = st["bridge"](F.interpolate(feats[l], size=(Hs, Ws), mode="bilinear", align_corners=False).flatten(2).transpose(1, 2))
                    m = F.layer_norm(st["bridge"](outs[l]), (c,), *st["meta_norms"][b], eps=1e-5)
                    z = side_block(z, torch.cat([m, f.mean(1, keepdim=True)], dim=1), f, st["blocks"][b], st["H"])
                z = F.layer_norm(z, (c,), *st["norm"], eps=1e-6)
                if s < len(stages) - 1:
                    z = z.transpose(1, 2).reshape(B, c, Hs, Ws)
            pooled = z.mean(1)
            pooled = F.batch_norm(pooled, *head_stats, None, None, training=False, eps=1e-6)
            return F.linear(pooled, head.weight, head.bias)
        model.forward = forward


METHODS = {m.name: m for m in (Full, Linear, Partial, BitFit, LNTune, Adapter, AdaptFormer, LoRA, DoRA,
                                VPTShallow, VPTDeep, Prefix, SSF, FacTTT, FacTTK, RepAdapter, Convpass, VisualPrompt, DiffFit, VeRA, Hydra,
                                PATT, BAPAT, SNF, LoRand, UTuning, Mona, DTL, SCT, GPS, KAdaptation, NOAH, LST, LAST, HST)}
IDENTITY_AT_INIT = {"lora", "dora", "adapter", "adaptformer", "rep_adapter", "fact_tt", "fact_tk", "convpass", "vera", "hydra", "patt", "bapat", "u_tuning",
                    "kadaptation", "last", "sct", "gps"}


# ----------------------------------------------------------------------------------------------
# running a case

def case_seed(case):
    return 7000 + [c[0] for c in CASES].index(case)


def run_case(case, method_name, options, dtype=torch.float32):
    """Builds the case (same random values for any dtype) and returns everything it produces."""
    method = METHODS[method_name](options)
    model = load_backbone(dtype)
    gen = torch.Generator().manual_seed(case_seed(case))
    x = torch.randn(BATCH, 3, 16, 16, generator=gen)
    labels = torch.randint(0, model.num_classes, (BATCH,), generator=gen)
    params = dict(model.named_parameters())
    trained = list(dict.fromkeys(method.trains(model) + ["head.weight", "head.bias"]))
    with torch.no_grad():
        for n in trained:
            params[n].add_((BACKBONE_NOISE * torch.randn(params[n].shape, generator=gen)).to(dtype))
    for n, p in params.items():
        p.requires_grad_(n in trained)
    base_sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with torch.no_grad():  # the checkpoint model / the fixture's backbone without the method
        ckpt_logits = load_backbone(dtype)(x.to(dtype))
        base_logits = load_backbone(dtype, base_sd)(x.to(dtype))
    new = Tensors("random", gen, dtype)
    method.attach(model, new)
    assert not set(new.tensors) & set(trained)
    trainable = {n: params[n] for n in trained}
    trainable.update(new.tensors)
    logits = model(x.to(dtype))
    loss = F.cross_entropy(logits, labels)
    grads = torch.autograd.grad(loss, list(trainable.values()))
    return dict(method=method, model=model, x=x, labels=labels, base_sd=base_sd, ckpt_logits=ckpt_logits, base_logits=base_logits,
                trainable={n: t.detach() for n, t in trainable.items()}, logits=logits.detach(),
                loss=loss.detach(), grads=dict(zip(trainable, grads)))


def identity_check(method_name, options):
    """The method built with its INTENDED init leaves the plain model's logits unchanged."""
    gen = torch.Generator().manual_seed(99)
    x = torch.randn(BATCH, 3, 16, 16, generator=gen)
    plain = load_backbone()
    model = load_backbone()
    new = Tensors("intended", gen, torch.float32)
    METHODS[method_name](options).attach(model, new)
    with torch.no_grad():
        a, b = plain(x), model(x)
    diff = (a - b).abs().max().item()
    assert diff <= IDENTITY_TOL, (method_name, diff)
    # the intended init really has the zero parts and non-zero other parts
    assert any(t.abs().sum() == 0 for t in new.tensors.values()), method_name
    return diff


def merged_state_dict(res):
    method = res["method"]
    sd = {k: v.clone() for k, v in res["base_sd"].items()}
    t = {k: v.clone() for k, v in res["trainable"].items()}
    with torch.no_grad():
        sd = method.merge(sd, t)
    return {k: v.contiguous() for k, v in sd.items()}


def merge_check(res):
    sd = merged_state_dict(res)
    assert set(sd) == set(res["base_sd"]) and all(sd[k].shape == res["base_sd"][k].shape for k in sd)
    with torch.no_grad():
        logits = load_backbone(res["logits"].dtype, sd)(res["x"].to(res["logits"].dtype))
    diff = (logits - res["logits"]).abs().max().item()
    assert diff <= MERGE_TOL, (res["method"].name, diff)
    return sd, logits, diff


@torch.no_grad()
def check_merged_file(path, x):
    """Strict load into a fresh VisionTransformer and via timm.create_model('local-dir:')."""
    data = safetensors.torch.load_file(path)
    logits = data.pop("logits")
    assert torch.equal(load_backbone(torch.float32, data)(x), logits)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(VIT_DIR, "config.json")) as f:
            c = json.load(f)
        c["model_args"].pop("norm_layer_eps")
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(c, f)
        safetensors.torch.save_file(data, os.path.join(tmp, "model.safetensors"))
        m = timm.create_model("local-dir:" + tmp, pretrained=True).eval()
        assert torch.equal(m(x), logits)


@torch.no_grad()
def prefix_loop_check():
    """prefix_attention against a per-head loop (head h reads columns h*Dh:(h+1)*Dh of P)."""
    gen = torch.Generator().manual_seed(5)
    model = load_backbone(torch.float64)
    attn = model.blocks[0].attn
    d, H, Dh = model.embed_dim, attn.num_heads, attn.head_dim
    x = torch.randn(2, 17, d, generator=gen, dtype=torch.float64)
    Pk, Pv = torch.randn(3, d, generator=gen, dtype=torch.float64), torch.randn(3, d, generator=gen, dtype=torch.float64)
    out = prefix_attention(attn, x, Pk, Pv)
    qkv = attn.qkv(x)
    heads = []
    for h in range(H):
        sl = slice(h * Dh, (h + 1) * Dh)
        q, k, v = qkv[..., sl], qkv[..., d:][..., sl], qkv[..., 2 * d:][..., sl]
        k = torch.cat([k, Pk[:, sl].expand(2, -1, -1)], 1)
        v = torch.cat([v, Pv[:, sl].expand(2, -1, -1)], 1)
        heads.append(torch.softmax(q @ k.transpose(1, 2) / math.sqrt(Dh), -1) @ v)
    ref = attn.proj(torch.cat(heads, -1))
    diff = (out - ref).abs().max().item()
    assert diff < 1e-12, diff
    return diff


@torch.no_grad()
def vpt_deep_check():
    """vpt_deep with P_1 := block 0's outputs at the prompt positions equals vpt_shallow (one
    image: those outputs depend on the image, P_1 is shared by the batch)."""
    gen = torch.Generator().manual_seed(6)
    x = torch.randn(1, 3, 16, 16, generator=gen, dtype=torch.float64)
    shallow = load_backbone(torch.float64)
    new = Tensors("random", gen, torch.float64)
    VPTShallow({"prompts": 2}).attach(shallow, new)
    P0 = new.tensors["prompt.tokens"]
    out0 = shallow.blocks[0](with_prompts(embed(shallow, x), P0, 1, replace=False))
    deep = load_backbone(torch.float64)
    new2 = Tensors("random", gen, torch.float64)
    VPTDeep({"prompts": 2}).attach(deep, new2)
    new2.tensors["prompt.deep.0"].detach().copy_(P0)
    new2.tensors["prompt.deep.1"].detach().copy_(out0[0, 1:3])
    diff = (deep(x) - shallow(x)).abs().max().item()
    assert diff < 1e-12, diff
    # and a different P_1 changes the result (block 1 really reads the replaced tokens)
    new2.tensors["prompt.deep.1"].detach().add_(0.5 * torch.randn(2, 32, generator=gen, dtype=torch.float64))
    assert (deep(x) - shallow(x)).abs().max().item() > 1e-4
    return diff


def dora_detach_check(res, options):
    """The fixture's gradients tell a detached row norm from a differentiated one."""
    DoRA.detach_norm = False
    try:
        other = run_case("dora", "dora", options)
    finally:
        DoRA.detach_norm = True
    assert torch.equal(other["logits"], res["logits"])
    return max(relmax(other["grads"][n], res["grads"][n]) for n in res["grads"] if "lora_" in n)


def relmax(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def main():
    if os.path.isdir(OUT_DIR):
        for f in os.listdir(OUT_DIR):
            if f.endswith(".safetensors"):
                os.remove(os.path.join(OUT_DIR, f))
    os.makedirs(OUT_DIR, exist_ok=True)

    # the base model is exactly the cls_token fixture
    ref = safetensors.torch.load_file(os.path.join(VIT_DIR, "reference.safetensors"))
    with torch.no_grad():
        assert torch.equal(load_backbone()(ref["input"]), ref["logits"])
    print(f"base: {os.path.relpath(VIT_DIR, REPO)} reproduces reference logits exactly")
    print(f"prefix attention vs per-head loop (fp64): max |diff| {prefix_loop_check():.1e}")
    print(f"vpt_deep (P_1 = block-0 prompt outputs) vs vpt_shallow (fp64): max |diff| {vpt_deep_check():.1e}")

    written = []
    for case, method_name, options, write_merged in CASES:
        res = run_case(case, method_name, options)
        res64 = run_case(case, method_name, options, torch.float64)
        checks = []
        for n, g in res["grads"].items():
            assert g.shape == res["trainable"][n].shape and torch.isfinite(g).all(), n
            assert g.abs().max() > 0, f"{case}: zero gradient for {n}"
        changed = (res["logits"] - res["ckpt_logits"]).abs().max().item()
        assert changed > 1e-3, (case, changed)
        checks.append(f"logits move {changed:.1e} from the checkpoint's")
        if res["trainable"].keys() - res["base_sd"].keys():
            own = (res["logits"] - res["base_logits"]).abs().max().item()
            assert own > 1e-3, (case, own)
            checks.append(f"{own:.1e} from the method's alone")
        dev_logits = (res["logits"].double() - res64["logits"]).abs().max().item()
        dev_grads = max(relmax(res["grads"][n].double(), res64["grads"][n]) for n in res["grads"])
        checks.append(f"fp32-fp64 logits {dev_logits:.1e}, grads rel {dev_grads:.1e}")
        if method_name in IDENTITY_AT_INIT:
            checks.append(f"identity at intended init {identity_check(method_name, options):.1e}")
        if method_name == "dora":
            checks.append(f"grads without the detach differ by {dora_detach_check(res, options):.1e} rel")
        if res["method"].merge is not None:
            sd, mlogits, diff = merge_check(res)
            checks.append(f"merged vs method logits {diff:.1e}")

        tensors = {"input": res["x"], "labels": res["labels"], "logits": res["logits"], "loss": res["loss"]}
        for n, t in res["trainable"].items():
            tensors[n] = t
            tensors["grad." + n] = res["grads"][n]
        for n, t in getattr(res["method"], "frozen", {}).items():  # frozen random parts (VeRA)
            tensors["frozen." + n] = t
        for n, t in getattr(res["method"], "state", {}).items():  # calibrated state (SCT)
            tensors["state." + n] = t
        tensors.update(getattr(res["method"], "calibration", {}))  # the data it was calibrated on
        assert tensors["loss"].shape == () and tensors["labels"].dtype == torch.int64
        meta = {"method": method_name, "options": json.dumps(options, sort_keys=True)}
        path = os.path.join(OUT_DIR, f"{case}.safetensors")
        write_safetensors(path, tensors, meta)
        back = safetensors.torch.load_file(path)
        assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors)
        written.append(path)
        if write_merged:
            mpath = os.path.join(OUT_DIR, f"{case}_merged.safetensors")
            write_safetensors(mpath, {**sd, "logits": mlogits}, {**meta, "merged_from": f"{case}.safetensors"})
            check_merged_file(mpath, res["x"])
            checks.append("merged file loads in timm")
            written.append(mpath)
        n_method = sum(t.numel() for n, t in res["trainable"].items() if not n.startswith("head."))
        print(f"{case:16s} [{method_name}] {len(res['trainable'])} trainable tensors, {n_method} params w/o head, "
              f"loss {res['loss'].item():.4f}; " + "; ".join(checks))

    total = 0
    for p in written:
        total += os.path.getsize(p)
        digest = hashlib.sha256(open(p, "rb").read()).hexdigest()[:12]
        print(f"{os.path.relpath(p, REPO)}: {os.path.getsize(p)} bytes sha256:{digest}")
    print(f"total: {total} bytes (torch {torch.__version__}, timm {timm.__version__})")
    if total >= SIZE_LIMIT:
        print(f"error: PEFT fixture set exceeds {SIZE_LIMIT:,} bytes", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
