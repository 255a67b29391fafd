#!/usr/bin/env python3
"""Writes reference fixtures for the Swift EfficientNetLite (Sources/Models/EfficientNetLite*.swift).

The reference is `lite_forward`, a plain torch-functional EfficientNet-Lite with efficientnet_pytorch
parameter names (TF-"SAME" padding computed from the actual input, inference BatchNorm eps 1e-3,
ReLU6, no squeeze-excitation). Before anything is written it is checked against timm's
`tf_efficientnet_lite{0,1,2}` (an independent implementation of the same TF networks) with the
same random weights renamed, and — when the real checkpoints are in assets/ — with the real ones.

Written to Tests/ModelsTests/Fixtures/efficientnet/ (CI; deterministic, < 400 KB):

  reference.safetensors   a reduced-width model (width 1/16, channel divisor 2, stem 8, head 16,
                          10 classes; all 16 lite0 blocks, so every stride/kernel/residual
                          combination occurs; the config is in the metadata under "config", in
                          the Swift EfficientNetLiteConfig's JSON form) with random weights and BN
                          statistics: its state dict under the checkpoint names (with I64
                          `num_batches_tracked`), "input" [2,3,40,36] (non-square, odd sizes on
                          the way down: the TF-SAME pads differ per axis and stride), "logits",
                          "features", "block.{i}"
  model_legacy.pth        the same state dict as a LEGACY (pre-zip) torch.save pickle, laid out
                          like the real lite0 file: conv weights stored as permuted views of TF
                          HWIO storage, `_fc.weight` as a transposed view, int64 counters
  architectures.json      for the real lite0/1/2 checkpoints: per block [in, hidden, out, kernel]
                          from their state dicts, the tensor count and element count (written only
                          when assets/ has them; kept in git so CI checks the presets without them)

Written to assets/efficientnet/ when the real weights and images are present (git-ignored, made
by scripts/assets/fetch_assets.sh):

  preprocessed/{coffee,chelsea,dog,eagle}.npy   [1,3,224,224] float32: RGB, short side 256 (PIL
                          bicubic), centre crop 224, (x − 127) / 128
  reference_lite{0,1,2}.safetensors   "input" [4,3,224,224] (the four images, in that order),
                          torch "logits" and "features" of each variant's real weights (all at
                          224: lite1/2 were trained at 240/260, but parity holds at any size)

Run:  .venv/bin/python scripts/reference/make_efficientnet_fixtures.py
"""

import json
import math
import os
import sys

import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writers)
from make_vit_fixtures import legacy_save_deterministic  # noqa: E402

OUT_DIR = os.path.join(REPO, "Tests", "ModelsTests", "Fixtures", "efficientnet")
ASSETS = os.path.join(REPO, "assets")
WEIGHTS = {
    "efficientnet_lite0": "efficientnet-lite0-57934424.pth",
    "efficientnet_lite1": "efficientnet-lite1-77cc7160.pth",
    "efficientnet_lite2": "efficientnet-lite2-9656183e.pth",
}
IMAGES = [("coffee", "coffee.png"), ("chelsea", "chelsea.png"), ("dog", "dog.jpg"), ("eagle", "eagle.jpg")]
SIZE_LIMIT = 400_000

torch.set_num_threads(1)  # deterministic reductions
torch.use_deterministic_algorithms(True)

# ----------------------------------------------------------------------------------------------
# architecture (efficientnet_pytorch's lite builder, written out independently of the Swift code)

# (repeats, kernel, stride, expand ratio, output channels): TF's efficientnet_lite_builder
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
PRESETS = {  # width, depth, resolution, dropout (TF's efficientnet_lite_params)
    "efficientnet_lite0": (1.0, 1.0, 224, 0.2),
    "efficientnet_lite1": (1.0, 1.1, 240, 0.2),
    "efficientnet_lite2": (1.1, 1.2, 260, 0.3),
}


def config_for(preset):
    width, depth, resolution, dropout = PRESETS[preset]
    return dict(width_multiplier=width, depth_multiplier=depth, channel_divisor=8, image_size=resolution,
                in_chans=3, stem_size=32, num_features=1280, num_classes=1000, drop_rate=dropout,
                drop_path_rate=0.0, batch_norm_eps=1e-3)


def round_filters(c, cfg):
    f = c * cfg["width_multiplier"]
    d = cfg["channel_divisor"]
    n = max(d, int(f + d / 2) // d * d)
    return n + d if n < 0.9 * f else n


def blocks_of(cfg):
    """(in, out, kernel, stride, expand) per block; first/last stage repeats and stem/head unscaled."""
    blocks, cin = [], cfg["stem_size"]
    for i, (r, k, s, e, o) in enumerate(STAGES):
        reps = r if i in (0, len(STAGES) - 1) else int(math.ceil(cfg["depth_multiplier"] * r))
        cout = round_filters(o, cfg)
        for j in range(reps):
            blocks.append((cin, cout, k, s if j == 0 else 1, e))
            cin = cout
    return blocks


def same_conv(x, w, stride=1, groups=1):
    """F.conv2d with TensorFlow "SAME" padding: out = ceil(in / stride), odd pad pixel after."""
    k = w.shape[-1]

    def total(n):
        return max((math.ceil(n / stride) - 1) * stride + k - n, 0)

    ph, pw = total(x.shape[-2]), total(x.shape[-1])
    return F.conv2d(F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)), w, stride=stride, groups=groups)


def lite_forward(sd, x, cfg):
    """Returns logits (or None), pooled features and each block's output."""
    eps = cfg["batch_norm_eps"]

    def bn(y, p):
        return F.batch_norm(y, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"], sd[p + ".bias"],
                            False, 0.0, eps)

    x = F.relu6(bn(same_conv(x, sd["_conv_stem.weight"], 2), "_bn0"))
    outs = []
    for i, (cin, cout, k, s, e) in enumerate(blocks_of(cfg)):
        p = f"_blocks.{i}."
        y = x
        if e != 1:
            y = F.relu6(bn(same_conv(y, sd[p + "_expand_conv.weight"]), p + "_bn0"))
        y = F.relu6(bn(same_conv(y, sd[p + "_depthwise_conv.weight"], s, groups=y.shape[1]), p + "_bn1"))
        y = bn(same_conv(y, sd[p + "_project_conv.weight"]), p + "_bn2")
        x = x + y if (s == 1 and cin == cout) else y
        outs.append(x)
    x = F.relu6(bn(same_conv(x, sd["_conv_head.weight"]), "_bn1"))
    features = x.mean(dim=(2, 3))
    logits = F.linear(features, sd["_fc.weight"], sd["_fc.bias"]) if "_fc.weight" in sd else None
    return logits, features, outs


def random_state(cfg, gen):
    """A state dict with every tensor random (no BN is the identity), scaled so that activations
    stay O(1) through the blocks and ReLU6 is neither dead nor saturated everywhere."""
    sd = {}

    def conv(name, out, cin, k):
        sd[name + ".weight"] = torch.randn(out, cin, k, k, generator=gen) * math.sqrt(2.0 / (cin * k * k))

    def bn(name, c):
        sd[name + ".weight"] = 0.5 + torch.rand(c, generator=gen)
        sd[name + ".bias"] = 0.2 * torch.randn(c, generator=gen)
        sd[name + ".running_mean"] = 0.2 * torch.randn(c, generator=gen)
        sd[name + ".running_var"] = 0.5 + torch.rand(c, generator=gen)
        sd[name + ".num_batches_tracked"] = torch.tensor(12345, dtype=torch.int64)

    conv("_conv_stem", cfg["stem_size"], cfg["in_chans"], 3)
    bn("_bn0", cfg["stem_size"])
    for i, (cin, cout, k, s, e) in enumerate(blocks_of(cfg)):
        p, hidden = f"_blocks.{i}.", cin * e
        if e != 1:
            conv(p + "_expand_conv", hidden, cin, 1)
            bn(p + "_bn0", hidden)
        conv(p + "_depthwise_conv", hidden, 1, k)
        bn(p + "_bn1", hidden)
        conv(p + "_project_conv", cout, hidden, 1)
        bn(p + "_bn2", cout)
    conv("_conv_head", cfg["num_features"], blocks_of(cfg)[-1][1], 1)
    bn("_bn1", cfg["num_features"])
    if cfg["num_classes"] > 0:
        sd["_fc.weight"] = torch.randn(cfg["num_classes"], cfg["num_features"], generator=gen) / math.sqrt(cfg["num_features"])
        sd["_fc.bias"] = 0.1 * torch.randn(cfg["num_classes"], generator=gen)
    return sd


# ----------------------------------------------------------------------------------------------
# cross-checks against timm

def to_timm(sd, model):
    """efficientnet_pytorch names → timm's: both orders are stem, blocks (expand, dw, project, each
    with its BN), head, classifier, so the renaming is positional, checked by kind and shape."""
    def kind(name):
        module = name.split(".")[-2]
        return "conv" if "conv" in module else "fc" if module in ("_fc", "classifier") else "bn"

    timm_sd = model.state_dict()
    assert len(timm_sd) == len(sd), (len(timm_sd), len(sd))
    for (ours, value), (theirs, expected) in zip(sd.items(), timm_sd.items()):
        assert kind(ours) == kind(theirs) and ours.split(".")[-1] == theirs.split(".")[-1], (ours, theirs)
        assert value.shape == expected.shape, (ours, theirs, value.shape, expected.shape)
    return dict(zip(timm_sd.keys(), sd.values()))


def check_against_timm(preset, sd, x, what):
    model = timm.create_model("tf_" + preset, pretrained=False).eval()
    model.load_state_dict(to_timm(sd, model), strict=True)
    with torch.no_grad():
        theirs = model(x)
        ours, _, _ = lite_forward(sd, x, config_for(preset))
    diff = (theirs - ours).abs().max().item()
    print(f"  {preset} ({what}): lite_forward vs timm tf_{preset}: max |Δlogits| = {diff:.2e} (|logits| ≤ {ours.abs().max():.2f})")
    assert diff < 1e-3, diff
    return ours


# ----------------------------------------------------------------------------------------------
# fixtures

def reduced_config():
    cfg = config_for("efficientnet_lite0")
    cfg.update(width_multiplier=0.0625, channel_divisor=2, image_size=40, stem_size=8, num_features=16, num_classes=10)
    return cfg


def tf_layout_view(t):
    """The real checkpoint's storage: TF HWIO (HWC1 for depthwise) storage seen through permuted
    views, and the classifier as a transposed view; everything else contiguous."""
    if t.dim() == 4 and t.shape[1] == 1:                     # depthwise [C,1,k,k] ← [k,k,C,1]
        return t.permute(2, 3, 0, 1).contiguous().permute(2, 3, 0, 1)
    if t.dim() == 4:                                         # [O,I,k,k] ← [k,k,I,O]
        return t.permute(2, 3, 1, 0).contiguous().permute(3, 2, 0, 1)
    if t.dim() == 2:                                         # [out,in] ← [in,out]
        return t.t().contiguous().t()
    return t


def write_reduced_fixtures():
    cfg = reduced_config()
    gen = torch.Generator().manual_seed(20240611)
    sd = random_state(cfg, gen)
    x = torch.randn(2, 3, 40, 36, generator=gen)
    with torch.no_grad():
        logits, features, outs = lite_forward(sd, x, cfg)
    tensors = dict(sd)
    tensors.update(input=x, logits=logits, features=features)
    tensors.update({f"block.{i}": o for i, o in enumerate(outs)})
    os.makedirs(OUT_DIR, exist_ok=True)
    config_json = {k: cfg[k] for k in sorted(cfg)}
    config_json["stages"] = [dict(repeats=r, kernel_size=k, stride=s, expand_ratio=e, out_channels=o) for r, k, s, e, o in STAGES]
    write_safetensors(os.path.join(OUT_DIR, "reference.safetensors"), tensors, {"config": json.dumps(config_json, sort_keys=True)})

    views = {k: tf_layout_view(v) for k, v in sd.items()}
    assert sum(not v.is_contiguous() for v in views.values()) > 30
    legacy_save_deterministic(views, os.path.join(OUT_DIR, "model_legacy.pth"))
    back = torch.load(os.path.join(OUT_DIR, "model_legacy.pth"), weights_only=True)
    assert [k for k, v in back.items() if not v.is_contiguous()] == [k for k, v in views.items() if not v.is_contiguous()]
    with torch.no_grad():
        again, _, _ = lite_forward(back, x, cfg)
    assert all(torch.equal(back[k], v) for k, v in sd.items())
    assert (again - logits).abs().max() < 1e-5  # non-contiguous weights may take another conv kernel
    print(f"  reduced model: {len(blocks_of(cfg))} blocks {blocks_of(cfg)}, {sum(v.numel() for v in sd.values())} elements, "
          f"logits range [{logits.min():.3f}, {logits.max():.3f}], features mean {features.mean():.3f}")


def architecture_of(sd):
    blocks = []
    i = 0
    while f"_blocks.{i}._depthwise_conv.weight" in sd:
        dw = sd[f"_blocks.{i}._depthwise_conv.weight"]
        expand = sd.get(f"_blocks.{i}._expand_conv.weight")
        cin = expand.shape[1] if expand is not None else dw.shape[0]
        blocks.append([cin, dw.shape[0], sd[f"_blocks.{i}._project_conv.weight"].shape[0], dw.shape[-1]])
        i += 1
    return dict(blocks=blocks, tensors=len(sd), elements=sum(v.numel() for v in sd.values()),
                non_contiguous=sum(not v.is_contiguous() for v in sd.values()))


def architectures_json(architectures):
    """JSON with one line per block, so a diff shows which block changed."""
    lines = ["{"]
    for i, (preset, a) in enumerate(sorted(architectures.items())):
        blocks = ",\n".join(f"   {json.dumps(b)}" for b in a["blocks"])
        counts = ", ".join(f'"{k}": {a[k]}' for k in ("elements", "non_contiguous", "tensors"))
        lines.append(f' "{preset}": {{{counts}, "blocks": [\n{blocks}\n ]}}' + ("," if i + 1 < len(architectures) else ""))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == architectures
    return text


def preprocess(path):
    """RGB, short side 256 (bicubic; torchvision's Resize rounding), centre crop 224, (x − 127)/128."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    scale = 256 / min(w, h)
    size = (256, int(h * scale)) if w <= h else (int(w * scale), 256)
    image = image.resize(size, Image.BICUBIC)
    w, h = image.size
    left, top = int(round((w - 224) / 2.0)), int(round((h - 224) / 2.0))
    image = image.crop((left, top, left + 224, top + 224))
    array = (np.asarray(image, dtype=np.float32) - 127.0) / 128.0
    return np.ascontiguousarray(array.transpose(2, 0, 1)[None])


def real_weight_checks():
    """With the real checkpoints present: the architecture table, timm agreement on real weights,
    and the preprocessed images + torch reference for the Swift prediction test."""
    folder = os.path.join(ASSETS, "efficientnet")
    present = {p: os.path.join(folder, f) for p, f in WEIGHTS.items() if os.path.exists(os.path.join(folder, f))}
    if not present:
        print("  assets/efficientnet/*.pth absent: run scripts/assets/fetch_assets.sh for the real-weight checks")
        return
    names = open(os.path.join(ASSETS, "imagenet_classes.txt")).read().splitlines()
    architectures = {}
    images = [os.path.join(ASSETS, "images", f) for _, f in IMAGES]
    have_images = all(os.path.exists(p) for p in images)
    if have_images:
        os.makedirs(os.path.join(folder, "preprocessed"), exist_ok=True)
        arrays = [preprocess(p) for p in images]
        for (stem, _), array in zip(IMAGES, arrays):
            np.save(os.path.join(folder, "preprocessed", stem + ".npy"), array)
        batch = torch.from_numpy(np.concatenate(arrays))
    for preset, path in sorted(present.items()):
        sd = torch.load(path, map_location="cpu", weights_only=True)
        architectures[preset] = architecture_of(sd)
        derived = [[cin, cin * e, cout, k] for cin, cout, k, s, e in blocks_of(config_for(preset))]
        assert architectures[preset]["blocks"] == derived, f"{preset}: builder rules disagree with the checkpoint"
        x = batch if have_images else torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
        logits = check_against_timm(preset, sd, x, "real weights")
        if have_images:
            probabilities = logits.softmax(-1)
            for (stem, _), p in zip(IMAGES, probabilities):
                top = p.topk(3)
                print(f"    {stem:8s} " + ", ".join(f"{names[i]} {v:.3f}" for v, i in zip(top.values.tolist(), top.indices.tolist())))
            with torch.no_grad():
                _, features, _ = lite_forward(sd, batch, config_for(preset))
            write_safetensors(os.path.join(folder, f"reference_{preset.split('_')[-1]}.safetensors"),
                              dict(input=batch, logits=logits, features=features), {"images": ",".join(s for s, _ in IMAGES)})
    if len(architectures) == len(WEIGHTS):
        with open(os.path.join(OUT_DIR, "architectures.json"), "w") as f:
            f.write(architectures_json(architectures))


def main():
    print("timm agreement on random weights:")
    for preset in sorted(PRESETS):
        gen = torch.Generator().manual_seed(7)
        check_against_timm(preset, random_state(config_for(preset), gen), torch.randn(2, 3, 97, 83, generator=gen), "random weights")
    print("reduced fixtures:")
    write_reduced_fixtures()
    print("real weights:")
    real_weight_checks()
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"fixture set {OUT_DIR}: {total} bytes")
    assert total < SIZE_LIMIT, f"fixtures are {total} bytes, over {SIZE_LIMIT}"


if __name__ == "__main__":
    main()
