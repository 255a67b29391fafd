#!/usr/bin/env python3
"""Writes Hugging Face transformers reference fixtures for the Swift VideoMAE backbone.

A tiny `VideoMAEForVideoClassification` (16x16 frames, 4 frames, tubelets 2x8x8 -> 8 tokens,
width 32, 2 layers, 2 heads, MLP 128 (ViT-B's ratio 4), 5 labels, mean pooling + fc_norm, HF's default LayerNorm eps
1e-12) with EVERY parameter perturbed by 0.1 * N(0, 1) (no LayerNorm is the identity, no bias is
zero), eval mode, written to `Tests/ModelsTests/Fixtures/videomae/`:

  hf/                       `save_pretrained` folder (config.json + model.safetensors) in the
                            names of this transformers version (5.x: q/v biases as
                            `attention.attention.query.bias` / `value.bias`, config `qv_bias`)
  hf_v4/                    the same weights as transformers 4.x (and the MCG-NJU hub files)
                            store them: `attention.attention.q_bias` / `v_bias`, config `qkv_bias`
  original_finetune.pth     the released code's names ({"model": ...}: `patch_embed.proj.weight`
                            [D, 3, 2, 8, 8], `blocks.i.attn.qkv.weight`, `attn.q_bias`,
                            `attn.v_bias`, `norm1`, `mlp.fc1`, `fc_norm`, `head`)
  original_pretrain.pth     a pre-training file: `encoder.`-prefixed encoder names, `encoder.norm`,
                            plus decoder tensors, `encoder_to_decoder.weight` and `mask_token`
  reference.safetensors     input [2, 4, 3, 16, 16] (HF's pixel_values layout [B, T, C, H, W]),
                            logits [2, 5], hidden = the encoder's last_hidden_state [2, 8, 32]
                            (before pooling), sinusoid = HF's get_sinusoid_encoding_table(24, 32)

Run:  .venv/bin/python scripts/reference/make_videomae_fixtures.py
"""

import json
import os
import shutil

import safetensors.torch
import torch
from transformers import VideoMAEConfig, VideoMAEForVideoClassification
from transformers.models.videomae.modeling_videomae import get_sinusoid_encoding_table

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "Tests", "ModelsTests", "Fixtures", "videomae")
DEPTH, WIDTH = 2, 32


def original_names(hf_state):
    """HF names -> the released modeling_finetune.py names (q/v biases apart, qkv weight fused)."""
    out = {}
    for key, value in hf_state.items():
        name = key.removeprefix("videomae.")
        if name.startswith("embeddings.patch_embeddings.projection."):
            out["patch_embed.proj." + name.rsplit(".", 1)[1]] = value
        elif name.startswith("fc_norm.") or name.startswith("classifier."):
            out[name.replace("classifier.", "head.")] = value
        elif name.startswith("encoder.layer."):
            i, rest = name.removeprefix("encoder.layer.").split(".", 1)
            mapping = {
                "attention.attention.query.bias": "attn.q_bias", "attention.attention.value.bias": "attn.v_bias",
                "attention.output.dense.weight": "attn.proj.weight", "attention.output.dense.bias": "attn.proj.bias",
                "intermediate.dense.weight": "mlp.fc1.weight", "intermediate.dense.bias": "mlp.fc1.bias",
                "output.dense.weight": "mlp.fc2.weight", "output.dense.bias": "mlp.fc2.bias",
                "layernorm_before.weight": "norm1.weight", "layernorm_before.bias": "norm1.bias",
                "layernorm_after.weight": "norm2.weight", "layernorm_after.bias": "norm2.bias",
            }
            if rest in mapping:
                out[f"blocks.{i}.{mapping[rest]}"] = value
            elif rest.endswith(".weight") and rest.split(".")[2] in ("query", "key", "value"):
                pass
            else:
                raise KeyError(key)
        else:
            raise KeyError(key)
    for i in range(DEPTH):
        p = f"videomae.encoder.layer.{i}.attention.attention."
        out[f"blocks.{i}.attn.qkv.weight"] = torch.cat([hf_state[p + n + ".weight"] for n in ("query", "key", "value")])
    return out


def main():
    torch.manual_seed(20261206)
    torch.set_num_threads(1)
    config = VideoMAEConfig(image_size=16, patch_size=8, num_frames=4, tubelet_size=2, hidden_size=WIDTH,
                            num_hidden_layers=DEPTH, num_attention_heads=2, intermediate_size=128, num_labels=5)
    model = VideoMAEForVideoClassification(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    model.save_pretrained(os.path.join(OUT, "hf"))
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}

    # transformers 4.x layout: q_bias / v_bias parameters and the `qkv_bias` config key.
    v4 = {}
    for key, value in state.items():
        key = key.replace("attention.attention.query.bias", "attention.attention.q_bias")
        v4[key.replace("attention.attention.value.bias", "attention.attention.v_bias")] = value
    os.makedirs(os.path.join(OUT, "hf_v4"))
    safetensors.torch.save_file(v4, os.path.join(OUT, "hf_v4", "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(OUT, "hf", "config.json")) as f:
        hub_config = json.load(f)
    hub_config["qkv_bias"] = hub_config.pop("qv_bias")
    hub_config["transformers_version"] = "4.40.0"
    with open(os.path.join(OUT, "hf_v4", "config.json"), "w") as f:
        json.dump(hub_config, f, indent=2)

    original = original_names(state)
    torch.save({"model": original}, os.path.join(OUT, "original_finetune.pth"))
    pretrain = {"encoder." + k: v for k, v in original.items() if not k.startswith(("fc_norm.", "head."))}
    pretrain["encoder.norm.weight"] = torch.randn(WIDTH)
    pretrain["encoder.norm.bias"] = torch.randn(WIDTH)
    pretrain["encoder_to_decoder.weight"] = torch.randn(16, WIDTH)
    pretrain["mask_token"] = torch.randn(1, 1, 16)
    pretrain["decoder.blocks.0.mlp.fc1.weight"] = torch.randn(8, 16)
    torch.save({"model": pretrain}, os.path.join(OUT, "original_pretrain.pth"))

    clip = torch.randn(2, 4, 3, 16, 16)
    with torch.no_grad():
        outputs = model(pixel_values=clip, output_hidden_states=True)
        hidden = model.videomae(clip).last_hidden_state
    reference = {"input": clip, "logits": outputs.logits, "hidden": hidden,
                 "sinusoid": get_sinusoid_encoding_table(24, WIDTH)[0]}
    safetensors.torch.save_file({k: v.contiguous() for k, v in reference.items()}, os.path.join(OUT, "reference.safetensors"))
    for root, _, files in os.walk(OUT):
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    print("logits", outputs.logits)


if __name__ == "__main__":
    main()
