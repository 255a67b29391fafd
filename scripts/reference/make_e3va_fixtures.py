#!/usr/bin/env python3
"""Writes the PyTorch reference for E3VA (a reconstruction; Sources/PEFT/Methods/E3VA.swift states
every choice) on the tiny timm Swin of Tests/ModelsTests/Fixtures/swin/shifted_padded (36 px, three
stages, odd maps padded by PatchMerging).

This is an independent implementation of the same definition written over timm's own modules,
with no hooks: the frozen backbone runs under torch.no_grad() block by block, taking each block's
attention branch from timm's `SwinTransformerBlock._attn` (window merge, crop and un-roll
included) and its MLP branch from `blk.mlp`; the highway runs with gradients beside it:

    stage start:  h = patch map (stage 0)  or  h = layers[s].downsample(h)  (timm's PatchMerging)
    block:        h = h + a + A_attn(a) + m + A_mlp(m),   A(z) = U(GELU(D z)),
                  W = sum_i P_i K_i Q_i  (+ bias) for D: C -> C/2 and U: C/2 -> C
    logits:       head.fc(mean_HW(LayerNorm_e3va(h)))

Every E3VA tensor and the 3-class head get random values (so the zero K factors of the
up-projections are exercised). Writes Tests/PEFTTests/Fixtures/swin/e3va.safetensors: input
[2,3,36,36], labels, logits, loss (cross-entropy), every trainable tensor by the Swift name
(`layers.{s}.blocks.{i}.e3va_{attn,mlp}.{down,up}.{P,K,Q}.{j}` / `.bias`, `e3va.norm.*`,
`head.fc.*`) and `grad.<name>`; metadata: method and options.

Checks before writing: the block-by-block backbone stream equals timm's forward_features, and with
the up K factors at zero the logits equal timm's own model with the same head.

Run:  .venv/bin/python scripts/reference/make_e3va_fixtures.py
"""

import json
import os
import sys

import safetensors.torch
import timm
import torch
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writer)

SWIN_DIR = os.path.join(REPO, "Tests", "ModelsTests", "Fixtures", "swin", "shifted_padded")
OUT = os.path.join(REPO, "Tests", "PEFTTests", "Fixtures", "swin", "e3va.safetensors")
OPTIONS = {"branches": 2, "kernel": 3}
CLASSES = 3
BATCH = 2
METHOD_STD = 0.2

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def load_swin():
    with open(os.path.join(SWIN_DIR, "config.json")) as f:
        config = json.load(f)
    args = dict(config["model_args"], num_classes=CLASSES)
    model = timm.create_model(config["architecture"], pretrained=False, **args)
    state = safetensors.torch.load_file(os.path.join(SWIN_DIR, "model.safetensors"))
    state = {k: v for k, v in state.items() if not k.startswith("head.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert set(missing) == {"head.fc.weight", "head.fc.bias"} and not unexpected, (missing, unexpected)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def factorised(x, parts, bias):
    weight = sum(p @ k @ q for p, k, q in parts)
    return x @ weight + bias


class E3VAReference:
    """The method's tensors, by Swift name, and the highway forward."""

    def __init__(self, model, gen):
        self.model = model
        self.tensors = {}
        alpha, k = OPTIONS["branches"], OPTIONS["kernel"]

        def new(name, shape, mean=0.0):
            t = (mean + METHOD_STD * torch.randn(shape, generator=gen)).requires_grad_(True)
            self.tensors[name] = t
            return t

        def linear(prefix, n, m):
            parts = [(new(f"{prefix}.P.{i}", [n, k]), new(f"{prefix}.K.{i}", [k, k]), new(f"{prefix}.Q.{i}", [k, m])) for i in range(alpha)]
            return parts, new(f"{prefix}.bias", [m])

        self.adapters = {}
        for s, stage in enumerate(model.layers):
            c = stage.blocks[0].norm1.normalized_shape[0]
            for i in range(len(stage.blocks)):
                for site in ("attn", "mlp"):
                    prefix = f"layers.{s}.blocks.{i}.e3va_{site}"
                    self.adapters[(s, i, site)] = (linear(prefix + ".down", c, c // 2), linear(prefix + ".up", c // 2, c))
        width = model.num_features
        self.norm_weight = new("e3va.norm.weight", [width], mean=1.0)
        self.norm_bias = new("e3va.norm.bias", [width])
        self.head_weight = new("head.fc.weight", [CLASSES, width])
        self.head_bias = new("head.fc.bias", [CLASSES])

    def adapter(self, key, z):
        (down, down_bias), (up, up_bias) = self.adapters[key]
        return factorised(F.gelu(factorised(z, down, down_bias)), up, up_bias)

    def forward(self, x):
        """Logits, and the backbone stream of every block (for the timm cross-check)."""
        m = self.model
        with torch.no_grad():
            stream = m.patch_embed(x)
        highway = stream.clone()
        blocks = []
        for s, stage in enumerate(m.layers):
            if s > 0:
                with torch.no_grad():
                    stream = stage.downsample(stream)
                highway = stage.downsample(highway)
            for i, blk in enumerate(stage.blocks):
                b, h, w, c = stream.shape
                with torch.no_grad():
                    attn = blk._attn(blk.norm1(stream))
                    after_attn = (stream + attn).reshape(b, h * w, c)
                    mlp = blk.mlp(blk.norm2(after_attn))
                    stream = (after_attn + mlp).reshape(b, h, w, c)
                highway = highway + attn + self.adapter((s, i, "attn"), attn)
                highway = highway + mlp.reshape(b, h, w, c) + self.adapter((s, i, "mlp"), mlp).reshape(b, h, w, c)
                blocks.append(stream)
        normed = F.layer_norm(highway, highway.shape[-1:], self.norm_weight, self.norm_bias, eps=m.norm.eps)
        return normed.mean(dim=(1, 2)) @ self.head_weight.T + self.head_bias, blocks


def check_against_timm(model, ref, x):
    """The block-by-block stream is timm's; with zero up K factors and biases the highway is that stream."""
    saved = {n: t.detach().clone() for n, t in ref.tensors.items()}
    with torch.no_grad():
        for name, t in ref.tensors.items():
            if ".up.K." in name or name.endswith(".up.bias"):
                t.zero_()
            if name.startswith("e3va.norm."):
                t.copy_(getattr(model.norm, name.rsplit(".", 1)[1]))
            if name.startswith("head.fc."):
                t.copy_(getattr(model.head.fc, name.rsplit(".", 1)[1]))
        logits, blocks = ref.forward(x)
        final = model.layers(model.patch_embed(x))
        assert torch.allclose(blocks[-1], final, atol=1e-6), "block-by-block stream differs from timm"
        deviation = (logits - model(x)).abs().max().item()
        assert deviation < 1e-5, f"highway at init differs from timm's model by {deviation}"
        for name, t in ref.tensors.items():
            t.copy_(saved[name])


def main():
    gen = torch.Generator().manual_seed(2306)
    model = load_swin()
    ref = E3VAReference(model, gen)
    x = torch.randn(BATCH, 3, 36, 36, generator=gen)
    labels = torch.tensor([2, 0])
    check_against_timm(model, ref, x)

    logits, _ = ref.forward(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    assert all(p.grad is None for p in model.parameters()), "a backbone tensor received a gradient"

    tensors = {"input": x, "labels": labels.float(), "logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for name, t in ref.tensors.items():
        tensors[name] = t.detach()
        tensors["grad." + name] = t.grad
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_safetensors(OUT, tensors, {"method": "e3va", "options": json.dumps(OPTIONS, sort_keys=True)})
    back = safetensors.torch.load_file(OUT)
    assert all(torch.equal(back[k], v.detach().cpu()) for k, v in tensors.items())
    print(f"wrote {os.path.relpath(OUT, REPO)}: {len(ref.tensors)} tensors, loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
