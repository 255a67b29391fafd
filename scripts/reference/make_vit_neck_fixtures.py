#!/usr/bin/env python3
"""Writes reference fixtures for a plain ViT's multi-level features and mmseg's Feature2Pyramid neck.

A tiny timm `VisionTransformer` (img 20, patch 4 → a 5×5 grid, so the neck's 2×2 max pooling meets
an odd side; width 8, depth 8, LayerScale as DINOv2) gives the outputs of blocks 1, 3, 5, 7 (the
Swift default for depth 8: k·depth/4 − 1), patch tokens only, as NCHW maps. The neck is written
here from mmsegmentation's `Feature2Pyramid` (mmseg/models/necks/featurepyramid.py, rescales
[4, 2, 1, 0.5]; `nn.BatchNorm2d` stands in for SyncBN, which is the same on one process).

`Tests/HeadsTests/Fixtures/vit_neck/reference.safetensors` holds:

  vit.<timm name>          the ViT's weights (every one perturbed: no norm is the identity)
  neck.<mmseg name>        the neck's weights and BatchNorm running statistics (random)
  input                    [2, 3, 20, 20]
  block.{i}                the four block maps [2, 8, 5, 5]
  eval.{i}                 the neck's outputs in evaluation mode (running statistics):
                           [2, 8, 20, 20], [2, 8, 10, 10], [2, 8, 5, 5], [2, 8, 2, 2]
  train.{i}, weight.{i}    the outputs in training mode (batch statistics) and the random
                           weights of the loss  L = Σᵢ sum(train.i · weight.i)
  grad.neck.<name>         dL/d of every neck parameter
  grad.vit.<name>          dL/d of a few ViT tensors (the gradient crosses the token → map reshape)
  running_mean, running_var  the neck BatchNorm's statistics after that training step
  prompts                  [8, 3, 8]: VPT-deep prompts (block l's input gets prompts[l] after the
                           class token, replacing block l−1's prompt outputs)
  prompted.{i}             the four block maps of the ViT with those prompts (prompt tokens dropped)

The file's metadata carries the ViT's configuration and the block indices.

Run:  .venv/bin/python scripts/reference/make_vit_neck_fixtures.py
"""

import json
import os
import sys

import timm
import torch
import torch.nn as nn

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writer)

OUT = os.path.join(REPO, "Tests", "HeadsTests", "Fixtures", "vit_neck", "reference.safetensors")
CONFIG = dict(img_size=20, patch_size=4, embed_dim=8, depth=8, num_heads=2, mlp_ratio=2.0, init_values=0.1, num_classes=0)
OUT_INDICES = [1, 3, 5, 7]
PROMPTS = 3
BATCH = 2

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class Feature2Pyramid(nn.Module):
    """mmseg's Feature2Pyramid with rescales [4, 2, 1, 0.5] (its default)."""

    def __init__(self, embed_dim):
        super().__init__()
        self.upsample_4x = nn.Sequential(
            nn.ConvTranspose2d(embed_dim, embed_dim, kernel_size=2, stride=2),
            nn.BatchNorm2d(embed_dim),
            nn.GELU(),
            nn.ConvTranspose2d(embed_dim, embed_dim, kernel_size=2, stride=2),
        )
        self.upsample_2x = nn.Sequential(nn.ConvTranspose2d(embed_dim, embed_dim, kernel_size=2, stride=2))
        self.identity = nn.Identity()
        self.downsample_2x = nn.MaxPool2d(kernel_size=2, stride=2)

    def forward(self, inputs):
        ops = [self.upsample_4x, self.upsample_2x, self.identity, self.downsample_2x]
        return [op(x) for op, x in zip(ops, inputs)]


def block_maps(vit, x, prompts=None):
    """Outputs of OUT_INDICES as [B, D, side, side]: class (and prompt) tokens dropped."""
    tokens = vit._pos_embed(vit.patch_embed(x))
    tokens = vit.norm_pre(tokens)
    side = CONFIG["img_size"] // CONFIG["patch_size"]
    outs = []
    for i, block in enumerate(vit.blocks):
        if prompts is not None:
            p = prompts[i].unsqueeze(0).expand(x.shape[0], -1, -1)
            rest = tokens[:, 1:] if i == 0 else tokens[:, 1 + PROMPTS:]
            tokens = torch.cat([tokens[:, :1], p, rest], dim=1)
        tokens = block(tokens)
        if i in OUT_INDICES:
            patches = tokens[:, -side * side:]
            outs.append(patches.transpose(1, 2).reshape(x.shape[0], -1, side, side))
    return [outs[OUT_INDICES.index(i)] for i in OUT_INDICES]


def main():
    torch.manual_seed(0)
    vit = timm.create_model("vit_small_patch16_224", pretrained=False, **CONFIG).eval()
    with torch.no_grad():
        for p in vit.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    neck = Feature2Pyramid(CONFIG["embed_dim"])
    with torch.no_grad():
        bn = neck.upsample_4x[1]
        bn.weight.copy_(1 + 0.2 * torch.randn_like(bn.weight))
        bn.bias.copy_(0.2 * torch.randn_like(bn.bias))
        bn.running_mean.copy_(0.3 * torch.randn_like(bn.running_mean))
        bn.running_var.copy_(0.5 + torch.rand_like(bn.running_var))
    tensors = {f"vit.{k}": v.detach().clone() for k, v in vit.state_dict().items()}
    tensors.update({f"neck.{k}": v.detach().clone() for k, v in neck.state_dict().items() if not k.endswith("num_batches_tracked")})
    x = torch.randn(BATCH, 3, CONFIG["img_size"], CONFIG["img_size"])
    tensors["input"] = x

    neck.eval()
    with torch.no_grad():
        maps = block_maps(vit, x)
        for i, m in enumerate(maps):
            tensors[f"block.{i}"] = m.clone()
        for i, y in enumerate(neck(maps)):
            tensors[f"eval.{i}"] = y.clone()

    neck.train()
    outs = neck(block_maps(vit, x))
    weights = [torch.randn_like(y) for y in outs]
    loss = sum((y * w).sum() for y, w in zip(outs, weights))
    loss.backward()
    for i, (y, w) in enumerate(zip(outs, weights)):
        tensors[f"train.{i}"] = y.detach().clone()
        tensors[f"weight.{i}"] = w
    for k, p in neck.named_parameters():
        tensors[f"grad.neck.{k}"] = p.grad.detach().clone()
    vit_params = dict(vit.named_parameters())
    for k in ["pos_embed", "blocks.1.norm1.weight", "blocks.7.mlp.fc2.weight", "blocks.7.ls2.gamma"]:
        tensors[f"grad.vit.{k}"] = vit_params[k].grad.detach().clone()
    tensors["running_mean"] = neck.upsample_4x[1].running_mean.detach().clone()
    tensors["running_var"] = neck.upsample_4x[1].running_var.detach().clone()

    prompts = torch.randn(CONFIG["depth"], PROMPTS, CONFIG["embed_dim"])
    tensors["prompts"] = prompts
    with torch.no_grad():
        for i, m in enumerate(block_maps(vit, x, prompts)):
            tensors[f"prompted.{i}"] = m.clone()

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_safetensors(OUT, tensors, {"config": json.dumps(CONFIG, sort_keys=True), "out_indices": json.dumps(OUT_INDICES)})
    print(f"{os.path.relpath(OUT, REPO)}: {len(tensors)} tensors, {os.path.getsize(OUT)} bytes (torch {torch.__version__}, timm {timm.__version__})")


if __name__ == "__main__":
    main()
