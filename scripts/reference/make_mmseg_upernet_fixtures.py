#!/usr/bin/env python3
"""Writes an mmsegmentation-style UPerNet + Swin checkpoint for the Swift mmseg loader (Heads).

Reads the tiny Hugging Face UPerNet that make_upernet_fixtures.py saved
(Tests/HeadsTests/Fixtures/upernet/swin_w2_s32/model.safetensors) and writes the same weights
as mmseg's `upernet_swin_*` models name them — mmseg/models/backbones/swin.py (patch_embed.projection,
stages.i.blocks.j.attn.w_msa.{qkv,proj,relative_position_bias_table,relative_position_index},
ffn.layers.0.0 / ffn.layers.1, stages.i.downsample at the END of stage i, norm{i} on each
output), uper_head.py / fcn_head.py (psp_modules.k.1, bottleneck, lateral_convs, fpn_convs,
fpn_bottleneck, convs, conv_seg; mmcv's ConvModule names its BatchNorm `bn`) — with
query/key/value fused into qkv and PatchMerging's weights in nn.Unfold's channel order (channel
c, kernel offset k = kh·2 + kw at c·4 + k; HF/timm concatenate the four offsets (0,0), (1,0),
(0,1), (1,1) whole), as mmseg's swin2mmseg converter reorders them. Saved the way mmseg's
runner saves: torch.save({"meta": {...}, "state_dict": OrderedDict}) →
Tests/HeadsTests/Fixtures/upernet/swin_w2_s32_mmseg.pth. The Swift test loads it and must give
the logits of swin_w2_s32/reference.safetensors (HF's).

Run:  .venv/bin/python scripts/reference/make_mmseg_upernet_fixtures.py
"""

import os
import re
from collections import OrderedDict

import torch
from safetensors.torch import load_file

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "Tests", "HeadsTests", "Fixtures", "upernet")
WINDOW = 2  # swin_w2_s32's window_size


def unfold_order(x):
    """[..., 4C] in HF's order (offset group g, then channel) → nn.Unfold's (channel, then k)."""
    groups = x.reshape(*x.shape[:-1], 4, x.shape[-1] // 4)   # [..., g, C]
    by_k = groups[..., [0, 2, 1, 3], :]                        # k = kh·2 + kw ← g: (0,0),(1,0),(0,1),(1,1)
    return by_k.transpose(-1, -2).reshape(x.shape).contiguous()


def relative_position_index(w):
    """mmseg's WindowMSA buffer (double_step_seq, flipped), stored in its checkpoints."""
    seq1 = torch.arange(0, (2 * w - 1) * w, 2 * w - 1)
    seq2 = torch.arange(0, w, 1)
    coords = (seq1[:, None] + seq2[None, :]).reshape(1, -1)
    return (coords + coords.T).flip(1).contiguous()


def mmseg_state(hf):
    out, qkv = OrderedDict(), {}
    for key, value in hf.items():
        if key.startswith("backbone.swin.layernorm."):
            continue  # HF's final norm; mmseg's backbone has only the per-output norms
        m = re.fullmatch(r"backbone\.encoder\.layers\.(\d+)\.blocks\.(\d+)\.(.+)", key)
        if m:
            stage, block, rest = m.groups()
            prefix = f"backbone.stages.{stage}.blocks.{block}."
            q = re.fullmatch(r"attention\.self\.(query|key|value)\.(weight|bias)", rest)
            if q:
                qkv.setdefault((prefix, q.group(2)), {})[q.group(1)] = value
                continue
            rename = {"layernorm_before": "norm1", "layernorm_after": "norm2", "attention.output.dense": "attn.w_msa.proj",
                      "intermediate.dense": "ffn.layers.0.0", "output.dense": "ffn.layers.1",
                      "attention.self.relative_position_bias_table": "attn.w_msa.relative_position_bias_table"}
            for old, new in rename.items():
                if rest == old or rest.startswith(old + "."):
                    out[prefix + new + rest[len(old):]] = value
                    break
            else:
                raise KeyError(key)
            continue
        m = re.fullmatch(r"backbone\.encoder\.layers\.(\d+)\.downsample\.(norm|reduction)\.(weight|bias)", key)
        if m:
            out[f"backbone.stages.{m.group(1)}.downsample.{m.group(2)}.{m.group(3)}"] = unfold_order(value)
            continue
        m = re.fullmatch(r"backbone\.hidden_states_norms\.stage(\d+)\.(weight|bias)", key)
        if m:
            out[f"backbone.norm{int(m.group(1)) - 1}.{m.group(2)}"] = value
            continue
        if key.startswith("backbone.embeddings.patch_embeddings.projection."):
            out[key.replace("backbone.embeddings.patch_embeddings.projection.", "backbone.patch_embed.projection.")] = value
            continue
        if key.startswith("backbone.embeddings.norm."):
            out[key.replace("backbone.embeddings.norm.", "backbone.patch_embed.norm.")] = value
            continue
        if key.startswith(("decode_head.", "auxiliary_head.")):
            out[key.replace(".batch_norm.", ".bn.").replace(".classifier.", ".conv_seg.")] = value
            continue
        raise KeyError(key)
    for (prefix, kind), parts in qkv.items():
        out[f"{prefix}attn.w_msa.qkv.{kind}"] = torch.cat([parts["query"], parts["key"], parts["value"]], 0)
        out[f"{prefix}attn.w_msa.relative_position_index"] = relative_position_index(WINDOW)
    return OrderedDict(sorted(out.items()))


def main():
    hf = load_file(os.path.join(FIXTURES, "swin_w2_s32", "model.safetensors"))
    state = mmseg_state(hf)
    meta = {"CLASSES": ("a", "b", "c", "d", "e"), "PALETTE": [[i, 2 * i, 3 * i] for i in range(5)],
            "env_info": "fixture", "seed": 0, "epoch": 1, "iter": 16, "mmseg_version": "0.30.0"}
    path = os.path.join(FIXTURES, "swin_w2_s32_mmseg.pth")
    torch.save({"meta": meta, "state_dict": state}, path)
    print(f"wrote {path}: {len(state)} tensors")


if __name__ == "__main__":
    main()
