#!/usr/bin/env python3
"""Writes Hugging Face reference fixtures for the Swift UPerNet segmenter (Heads target).

For two tiny `UperNetForSemanticSegmentation` models with a `SwinBackbone` (see CONFIGS) it
perturbs every parameter and BatchNorm statistic (no LayerNorm or BatchNorm is the identity, no
bias is zero), saves the model with HF's own `save_pretrained` and writes
`Tests/HeadsTests/Fixtures/upernet/<name>/`:

  config.json, model.safetensors   the saved HF folder, exactly as `from_pretrained` reads it
                                   (HF's legacy Swin names: attention.self.query/key/value, …)
  reference.safetensors            eval mode: input [2,3,S,S], stage.{i} (the backbone's
                                   feature maps after its per-stage LayerNorms, NCHW), logits and
                                   auxiliary_logits [2, labels, S, S] (bilinear to the input,
                                   as the model's forward computes them for its loss);
                                   training mode (BatchNorm on batch statistics, drop-path 0):
                                   labels [2,S,S] (I64, some 255 = ignored), loss
                                   (main + auxiliary_loss_weight · auxiliary, HF's), grad.<name>
                                   (d loss / d tensor, HF names) for a few tensors, and
                                   running_mean / running_var of decode_head.bottleneck after
                                   that one training step;
                                   input_rect [1,3,27,38] and logits_rect (eval mode): a
                                   non-square input whose sides are not whole patches (HF pads
                                   to whole patches and windows), drawn after everything else

Both use patch 2 (small inputs, small files). `swin_w2_s32` has maps 16/8/4/2 with window 2
(every map whole windows); `swin_w4_s36` has maps 18/9/5/3 with window 4: maps padded to whole windows before the shift and a last map smaller
than its window, where HF's backbone (`always_partition=True`) and timm's classifier differ.

Run:  .venv/bin/python scripts/reference/make_upernet_fixtures.py   (needs transformers)
"""

import os
import shutil
import sys

import torch
from transformers import SwinConfig, UperNetConfig, UperNetForSemanticSegmentation

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writer)

OUT_DIR = os.path.join(REPO, "Tests", "HeadsTests", "Fixtures", "upernet")
BATCH = 2

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

CONFIGS = {
    "swin_w2_s32": dict(size=32, seed=1, labels=5,
                        backbone=dict(embed_dim=4, depths=[2, 2, 2, 2], num_heads=[1, 1, 2, 2], window_size=2, mlp_ratio=2.0),
                        head=dict(hidden_size=8, auxiliary_channels=4, auxiliary_num_convs=1, auxiliary_concat_input=False)),
    "swin_w4_s36": dict(size=36, seed=2, labels=4,
                        backbone=dict(embed_dim=4, depths=[2, 2, 2, 2], num_heads=[2, 2, 2, 4], window_size=4, mlp_ratio=2.0),
                        head=dict(hidden_size=6, auxiliary_channels=4, auxiliary_num_convs=2, auxiliary_concat_input=True)),
}
GRADIENTS = [
    "decode_head.classifier.weight",
    "decode_head.bottleneck.conv.weight",
    "decode_head.psp_modules.0.1.batch_norm.weight",
    "decode_head.lateral_convs.0.batch_norm.bias",
    "auxiliary_head.classifier.bias",
    "backbone.embeddings.patch_embeddings.projection.weight",
    "backbone.hidden_states_norms.stage4.weight",
]


def perturbed(model, generator):
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=generator))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=generator))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=generator))
    return model


def make(name, spec):
    generator = torch.Generator().manual_seed(spec["seed"])
    torch.manual_seed(spec["seed"])
    size = spec["size"]
    backbone = SwinConfig(image_size=size, patch_size=2, drop_path_rate=0.0,
                          out_features=["stage1", "stage2", "stage3", "stage4"], **spec["backbone"])
    config = UperNetConfig(backbone_config=backbone, num_labels=spec["labels"], use_auxiliary_head=True, **spec["head"])
    model = perturbed(UperNetForSemanticSegmentation(config), generator).eval()
    folder = os.path.join(OUT_DIR, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder)
    reloaded = UperNetForSemanticSegmentation.from_pretrained(folder).eval()

    pixels = torch.randn(BATCH, 3, size, size, generator=generator)
    with torch.no_grad():
        out = model(pixel_values=pixels)
        again = reloaded(pixel_values=pixels)
        features = model.backbone(pixels).feature_maps
        auxiliary = torch.nn.functional.interpolate(model.auxiliary_head(features), size=(size, size), mode="bilinear",
                                                    align_corners=False)
    assert torch.allclose(out.logits, again.logits, atol=1e-5), ("saved folder does not reproduce the model", (out.logits - again.logits).abs().max())
    tensors = {"input": pixels, "logits": out.logits, "auxiliary_logits": auxiliary}
    for i, f in enumerate(features):
        tensors[f"stage.{i}"] = f

    # One training step's forward and backward (BatchNorm on batch statistics).
    labels = torch.randint(0, spec["labels"], (BATCH, size, size), generator=generator)
    labels[torch.rand(labels.shape, generator=generator) < 0.2] = config.loss_ignore_index
    model.train()
    train = model(pixel_values=pixels, labels=labels)
    train.loss.backward()
    # In memory HF names the backbone's Swin `backbone.swin.…`; the saved file (and the fixture) `backbone.…`.
    params = {k.replace("backbone.swin.", "backbone."): p for k, p in model.named_parameters()}
    tensors.update({"labels": labels, "loss": train.loss.detach()})
    for key in GRADIENTS:
        tensors[f"grad.{key}"] = params[key].grad
    bn = model.decode_head.bottleneck.batch_norm
    tensors["running_mean"], tensors["running_var"] = bn.running_mean.clone(), bn.running_var.clone()
    # The saved model (the training step above moved `model`'s BatchNorm statistics).
    rect = torch.randn(1, 3, 27, 38, generator=generator)
    with torch.no_grad():
        tensors["input_rect"], tensors["logits_rect"] = rect, reloaded(pixel_values=rect).logits
    write_safetensors(os.path.join(folder, "reference.safetensors"), tensors, {"config": name})
    total = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"{os.path.relpath(folder, REPO)}: logits {tuple(out.logits.shape)}, loss {train.loss.item():.6f}, {total} bytes")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, spec in CONFIGS.items():
        make(name, spec)


if __name__ == "__main__":
    main()
