#!/usr/bin/env python3
"""Writes PyTorch reference fixtures for the Swift Video Swin Transformer.

The reference below is written from the released `SwinTransformer3D` (SwinTransformer/
Video-Swin-Transformer, `mmaction/models/backbones/swin_transformer.py`) and its `I3DHead`
(average pool over T, H, W, then `fc_cls`), in plain torch (no mmcv, mmaction or einops): the
same modules, names, padding, `get_window_size`, `compute_mask` and the sliced
`relative_position_index[:N, :N]` of shrunk windows.

A tiny model (patch (2, 4, 4), window (4, 3, 3), widths 4/8/16/32, depths 2/2/2/2, heads
1/2/2/4, patch_norm, 5 classes) with EVERY parameter perturbed by 0.1 * N(0, 1), eval mode, on
30 x 30 frames, written to `Tests/ModelsTests/Fixtures/video_swin/`:

  released.pth            {"meta": …, "state_dict": {"backbone.…", "cls_head.fc_cls.…"}} as
                          mmaction saves it (Conv3d weight [4, 3, 2, 4, 4], the int64
                          `relative_position_index` buffers)
  reference.safetensors   clip_a [2, 9, 3, 30, 30] ([B, T, C, H, W]; T and H, W are padded to
                          the patch: 5 x 8 x 8 tokens; stage 0 pads to whole 4 x 3 x 3 windows and
                          shifts (2, 1, 1); stage 2 (2 x 2 map) shrinks the window to (4, 2, 2),
                          shifting in time only; stage 3 (1 x 1) to (4, 1, 1)), logits_a, features_a
                          (pooled, before the head), gout_a (upstream gradient of logits_a) and
                          grad.<name> = d sum(logits_a * gout_a) / d <name> for a few parameters;
                          clip_b [1, 4, 3, 30, 30] (2 time steps: the window shrinks in time and
                          never shifts there), logits_b

Run:  .venv/bin/python scripts/reference/make_video_swin_fixtures.py
"""

import os
from functools import reduce
from operator import mul

import numpy as np
import safetensors.torch
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "Tests", "ModelsTests", "Fixtures", "video_swin")
GRADIENTS = ["patch_embed.proj.weight", "patch_embed.norm.bias", "layers.0.blocks.1.attn.relative_position_bias_table",
             "layers.2.blocks.1.attn.relative_position_bias_table", "layers.1.blocks.0.attn.qkv.weight",
             "layers.1.downsample.reduction.weight", "layers.3.blocks.1.mlp.fc2.bias", "norm.weight"]


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def window_partition(x, ws):
    b, d, h, w, c = x.shape
    x = x.view(b, d // ws[0], ws[0], h // ws[1], ws[1], w // ws[2], ws[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).contiguous().view(-1, reduce(mul, ws), c)


def window_reverse(windows, ws, b, d, h, w):
    x = windows.view(b, d // ws[0], h // ws[1], w // ws[2], ws[0], ws[1], ws[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).contiguous().view(b, d, h, w, -1)


def get_window_size(x_size, window_size, shift_size):
    use_window, use_shift = list(window_size), list(shift_size)
    for i in range(len(x_size)):
        if x_size[i] <= window_size[i]:
            use_window[i] = x_size[i]
            use_shift[i] = 0
    return tuple(use_window), tuple(use_shift)


def compute_mask(d, h, w, ws, ss):
    img_mask = torch.zeros((1, d, h, w, 1))
    cnt = 0
    for ds in slice(-ws[0]), slice(-ws[0], -ss[0]), slice(-ss[0], None):
        for hs in slice(-ws[1]), slice(-ws[1], -ss[1]), slice(-ss[1], None):
            for wsl in slice(-ws[2]), slice(-ws[2], -ss[2]), slice(-ss[2], None):
                img_mask[:, ds, hs, wsl, :] = cnt
                cnt += 1
    mask_windows = window_partition(img_mask, ws).squeeze(-1)
    attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)
    return attn_mask.masked_fill(attn_mask != 0, float(-100.0)).masked_fill(attn_mask == 0, float(0.0))


class WindowAttention3D(nn.Module):
    def __init__(self, dim, window_size, num_heads):
        super().__init__()
        self.window_size, self.num_heads = window_size, num_heads
        self.scale = (dim // num_heads) ** -0.5
        wd, wh, ww = window_size
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wd - 1) * (2 * wh - 1) * (2 * ww - 1), num_heads))
        coords = torch.stack(torch.meshgrid(torch.arange(wd), torch.arange(wh), torch.arange(ww), indexing="ij"))
        flat = torch.flatten(coords, 1)
        rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += wd - 1
        rel[:, :, 1] += wh - 1
        rel[:, :, 2] += ww - 1
        rel[:, :, 0] *= (2 * wh - 1) * (2 * ww - 1)
        rel[:, :, 1] *= 2 * ww - 1
        self.register_buffer("relative_position_index", rel.sum(-1))
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=.02)

    def forward(self, x, mask=None):
        b_, n, c = x.shape
        qkv = self.qkv(x).reshape(b_, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index[:n, :n].reshape(-1)].reshape(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b_ // nw, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, n, n)
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b_, n, c))


class SwinTransformerBlock3D(nn.Module):
    def __init__(self, dim, num_heads, window_size, shift_size):
        super().__init__()
        self.window_size, self.shift_size = window_size, shift_size
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention3D(dim, window_size, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 4 * dim)

    def forward_part1(self, x, mask_matrix):
        b, d, h, w, c = x.shape
        ws, ss = get_window_size((d, h, w), self.window_size, self.shift_size)
        x = self.norm1(x)
        pad_d1 = (ws[0] - d % ws[0]) % ws[0]
        pad_b = (ws[1] - h % ws[1]) % ws[1]
        pad_r = (ws[2] - w % ws[2]) % ws[2]
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b, 0, pad_d1))
        _, dp, hp, wp, _ = x.shape
        if any(i > 0 for i in ss):
            shifted = torch.roll(x, shifts=(-ss[0], -ss[1], -ss[2]), dims=(1, 2, 3))
            attn_mask = mask_matrix
        else:
            shifted, attn_mask = x, None
        windows = self.attn(window_partition(shifted, ws), mask=attn_mask)
        shifted = window_reverse(windows.view(-1, *(ws + (c,))), ws, b, dp, hp, wp)
        x = torch.roll(shifted, shifts=ss, dims=(1, 2, 3)) if any(i > 0 for i in ss) else shifted
        return x[:, :d, :h, :w, :].contiguous()

    def forward(self, x, mask_matrix):
        x = x + self.forward_part1(x, mask_matrix)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        _, _, h, w, _ = x.shape
        if h % 2 == 1 or w % 2 == 1:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class BasicLayer(nn.Module):
    def __init__(self, dim, depth, num_heads, window_size, downsample):
        super().__init__()
        self.window_size = window_size
        self.shift_size = tuple(i // 2 for i in window_size)
        self.blocks = nn.ModuleList([SwinTransformerBlock3D(dim, num_heads, window_size, (0, 0, 0) if i % 2 == 0 else self.shift_size)
                                     for i in range(depth)])
        self.downsample = PatchMerging(dim) if downsample else None

    def forward(self, x):
        b, c, d, h, w = x.shape
        ws, ss = get_window_size((d, h, w), self.window_size, self.shift_size)
        x = x.permute(0, 2, 3, 4, 1)
        dp, hp, wp = (int(np.ceil(s / k)) * k for s, k in zip((d, h, w), ws))
        attn_mask = compute_mask(dp, hp, wp, ws, ss)
        for blk in self.blocks:
            x = blk(x, attn_mask)
        x = x.view(b, d, h, w, -1)
        if self.downsample is not None:
            x = self.downsample(x)
        return x.permute(0, 4, 1, 2, 3)


class PatchEmbed3D(nn.Module):
    def __init__(self, patch_size, in_chans, embed_dim):
        super().__init__()
        self.patch_size, self.embed_dim = patch_size, embed_dim
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        _, _, d, h, w = x.size()
        p = self.patch_size
        if w % p[2] != 0:
            x = F.pad(x, (0, p[2] - w % p[2]))
        if h % p[1] != 0:
            x = F.pad(x, (0, 0, 0, p[1] - h % p[1]))
        if d % p[0] != 0:
            x = F.pad(x, (0, 0, 0, 0, 0, p[0] - d % p[0]))
        x = self.proj(x)
        d, wh, ww = x.size(2), x.size(3), x.size(4)
        x = self.norm(x.flatten(2).transpose(1, 2))
        return x.transpose(1, 2).view(-1, self.embed_dim, d, wh, ww)


class SwinTransformer3D(nn.Module):
    def __init__(self, patch_size, embed_dim, depths, num_heads, window_size):
        super().__init__()
        self.patch_embed = PatchEmbed3D(patch_size, 3, embed_dim)
        self.layers = nn.ModuleList([BasicLayer(embed_dim * 2 ** i, depths[i], num_heads[i], window_size, i < len(depths) - 1)
                                     for i in range(len(depths))])
        self.num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = nn.LayerNorm(self.num_features)

    def forward(self, x):
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x.contiguous())
        x = x.permute(0, 2, 3, 4, 1)
        return self.norm(x).permute(0, 4, 1, 2, 3)


class Recognizer(nn.Module):
    """mmaction's Recognizer3D: the backbone, then I3DHead (average pool over T, H, W, fc_cls)."""

    def __init__(self):
        super().__init__()
        self.backbone = SwinTransformer3D((2, 4, 4), 4, [2, 2, 2, 2], [1, 2, 2, 4], (4, 3, 3))
        self.cls_head = nn.Module()
        self.cls_head.fc_cls = nn.Linear(32, 5)

    def forward(self, clip):
        features = self.backbone(clip.permute(0, 2, 1, 3, 4)).mean(dim=(2, 3, 4))   # [B, T, C, H, W] → [B, C, T, H, W]
        return self.cls_head.fc_cls(features), features


def main():
    torch.manual_seed(20261218)
    torch.set_num_threads(1)
    model = Recognizer().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    os.makedirs(OUT, exist_ok=True)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    torch.save({"meta": {"epoch": 30, "mmaction_version": "0.15.0"}, "state_dict": state}, os.path.join(OUT, "released.pth"))

    clip_a = torch.randn(2, 9, 3, 30, 30)
    clip_b = torch.randn(1, 4, 3, 30, 30)
    logits_a, features_a = model(clip_a)
    gout = torch.randn_like(logits_a)
    (logits_a * gout).sum().backward()
    params = dict(model.backbone.named_parameters())
    reference = {"clip_a": clip_a, "logits_a": logits_a.detach(), "features_a": features_a.detach(), "gout_a": gout,
                 "clip_b": clip_b}
    for name in GRADIENTS:
        grad = params[name].grad
        reference["grad." + name] = grad.reshape(grad.shape[0], -1) if name == "patch_embed.proj.weight" else grad
    with torch.no_grad():
        reference["logits_b"] = model(clip_b)[0]
    safetensors.torch.save_file({k: v.contiguous() for k, v in reference.items()}, os.path.join(OUT, "reference.safetensors"))
    for name in os.listdir(OUT):
        os.chmod(os.path.join(OUT, name), 0o644)
    print("logits_a", logits_a)


if __name__ == "__main__":
    main()
