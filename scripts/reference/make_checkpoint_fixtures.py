#!/usr/bin/env python3
"""Writes the fixtures for the Swift checkpoint readers (Tests/CheckpointsTests/Fixtures/).

What it writes (all tiny and seeded; byte-identical on rerun except tensors_legacy.pth, whose storage
keys are memory addresses; the set stays well below 400 KB):
- tensors.pth          torch.save zip format (torch >= 1.6) of STATE: F32/F16/BF16/F64/I64/I32/U8/BOOL
                       tensors, a scalar, permuted / strided / offset views sharing storages.
- tensors_legacy.pth   the same STATE in the legacy format (_use_new_zipfile_serialization=False).
- nested.pth           {"state_dict": {"module.<name>": …}, "epoch": 7, "arch": "vit", "optimizer": {…}}.
- protocol4.pth        three STATE tensors saved with pickle protocol 4.
- arrays.npz           np.savez (stored) of ARRAYS: several dtypes, big-endian, Fortran order, 0-d, empty.
- arrays_compressed.npz np.savez_compressed of the same ARRAYS (deflate).
- vit_google.npz       a tiny timm ViT (embed 32, depth 2, heads 4, patch 4, img 16, 10 classes) written
                       in Google's naming (inverse of docs/protocols.md's mapping) under an "opt/target/" prefix,
- vit_timm.safetensors together with the same model's timm state dict, so the Swift mapping can be
                       checked to reproduce timm's tensors exactly.
- malicious_zip.pth, malicious_legacy.pth   hand-built pickles that call os.system (never executed:
                       the bytes are written by hand); the readers must refuse them.
- namespace.pth        a zip checkpoint holding an argparse.Namespace (a class that is not a tensor).
- expected.safetensors the contiguous float32 values the readers must produce: STATE under
                       "torch.<name>", ARRAYS under "npz.<name>".

Run:  .venv/bin/python scripts/reference/make_checkpoint_fixtures.py
"""

import argparse
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import torch
from safetensors.numpy import save_file

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "CheckpointsTests", "Fixtures")
# Fixed timestamps so zip entries (and so the files) are identical on every run.
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


def state_dict():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(2, 3, 4, generator=g)
    grid = torch.randn(6, 5, generator=g)
    long_row = torch.randn(20, generator=g)
    return {
        "f32": torch.randn(3, 4, generator=g),
        "f16": torch.randn(5, generator=g).half(),
        "bf16": torch.randn(2, 3, generator=g).bfloat16(),
        "f64": torch.randn(4, generator=g).double(),
        "i64": torch.tensor([-3, 0, 7, 1 << 40], dtype=torch.int64),
        "i32": torch.tensor([[1, -2], [3, 2147483647]], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "bn.num_batches_tracked": torch.tensor(12345, dtype=torch.int64),
        "permuted": base.permute(2, 0, 1),            # non-contiguous view of base's storage
        "strided": grid[::2, 1:],                     # strides (10, 1), offset 1
        "offset": long_row[5:12].view(7),             # storage offset 5, shares long_row's storage
        "long_row": long_row,
        "expanded": torch.randn(3, 1, generator=g).expand(3, 4),  # stride 0
        "half_view": torch.randn(4, 6, generator=g).half().t(),    # transposed F16 view
    }


def arrays():
    rng = np.random.default_rng(0)
    return {
        "f4": rng.standard_normal((3, 4)).astype("<f4"),
        "f2": rng.standard_normal(5).astype("<f2"),
        "f8": rng.standard_normal(4).astype("<f8"),
        "i8": np.array([-3, 0, 7, 1 << 40], dtype="<i8"),
        "i4": np.array([[1, -2], [3, 2147483647]], dtype="<i4"),
        "u1": np.array([0, 1, 128, 255], dtype="|u1"),
        "b1": np.array([True, False, True]),
        "be_f4": rng.standard_normal((2, 3)).astype(">f4"),
        "be_i8": np.array([1, -2, 3], dtype=">i8"),
        "fortran": np.asfortranarray(rng.standard_normal((3, 4, 2)).astype("<f4")),
        "scalar": np.array(2.25, dtype="<f4"),
        "empty": np.zeros((0, 3), dtype="<f4"),
    }


def write_npz(path, named, compress):
    """np.savez with fixed zip timestamps (np.savez stamps the current time)."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, array in named.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, array, allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=ZIP_DATE)
            info.compress_type = method
            zf.writestr(info, buf.getvalue())


def google_from_timm(sd, prefix="opt/target/"):
    """The inverse of docs/protocols.md's "Google .npz -> timm names" mapping."""
    t = {k: v.detach().numpy().astype("<f4") for k, v in sd.items()}
    dim = t["cls_token"].shape[-1]
    heads = 4
    hd = dim // heads
    g = {
        "embedding/kernel": t["patch_embed.proj.weight"].transpose(2, 3, 1, 0),  # OIHW -> HWIO
        "embedding/bias": t["patch_embed.proj.bias"],
        "cls": t["cls_token"],
        "Transformer/posembed_input/pos_embedding": t["pos_embed"],
        "Transformer/encoder_norm/scale": t["norm.weight"],
        "Transformer/encoder_norm/bias": t["norm.bias"],
        "head/kernel": t["head.weight"].T,
        "head/bias": t["head.bias"],
        "pre_logits/kernel": np.zeros((dim, dim), "<f4"),  # ignored by the mapping
        "pre_logits/bias": np.zeros(dim, "<f4"),
    }
    depth = 1 + max(int(k.split(".")[1]) for k in t if k.startswith("blocks."))
    for i in range(depth):
        b, p = f"blocks.{i}.", f"Transformer/encoderblock_{i}/"
        mha = p + "MultiHeadDotProductAttention_1/"
        g[p + "LayerNorm_0/scale"] = t[b + "norm1.weight"]
        g[p + "LayerNorm_0/bias"] = t[b + "norm1.bias"]
        g[p + "LayerNorm_2/scale"] = t[b + "norm2.weight"]
        g[p + "LayerNorm_2/bias"] = t[b + "norm2.bias"]
        qkv_w, qkv_b = t[b + "attn.qkv.weight"], t[b + "attn.qkv.bias"]
        for j, name in enumerate(["query", "key", "value"]):
            w = qkv_w[j * dim:(j + 1) * dim]                     # (D_out, D_in)
            g[mha + name + "/kernel"] = w.T.reshape(dim, heads, hd)  # (D_in, H, Dh)
            g[mha + name + "/bias"] = qkv_b[j * dim:(j + 1) * dim].reshape(heads, hd)
        g[mha + "out/kernel"] = t[b + "attn.proj.weight"].T.reshape(heads, hd, dim)
        g[mha + "out/bias"] = t[b + "attn.proj.bias"]
        g[p + "MlpBlock_3/Dense_0/kernel"] = t[b + "mlp.fc1.weight"].T
        g[p + "MlpBlock_3/Dense_0/bias"] = t[b + "mlp.fc1.bias"]
        g[p + "MlpBlock_3/Dense_1/kernel"] = t[b + "mlp.fc2.weight"].T
        g[p + "MlpBlock_3/Dense_1/bias"] = t[b + "mlp.fc2.bias"]
    return {prefix + k: np.ascontiguousarray(v) for k, v in g.items()}


def tiny_vit():
    from timm.models.vision_transformer import VisionTransformer
    torch.manual_seed(0)
    model = VisionTransformer(img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=4,
                              num_classes=10, qkv_bias=True)
    with torch.no_grad():  # timm zero-inits some tensors; randomise all so the mapping is tested
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
    return model.state_dict()


def legacy_preamble():
    """The three small pickles torch's legacy format starts with: magic number, protocol, sys info."""
    return (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
            + pickle.dumps(1001, protocol=2)
            + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                            "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2))


# os.system("echo pwned"): GLOBAL 'os system', a string argument, TUPLE1, REDUCE, STOP.
MALICIOUS_PICKLE = b"\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03."


def write_zip(path, entries):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, payload in entries.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), payload)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    out = lambda name: os.path.join(OUT_DIR, name)

    state = state_dict()
    torch.save(state, out("tensors.pth"))
    torch.save(state, out("tensors_legacy.pth"), _use_new_zipfile_serialization=False)
    nested = {
        "state_dict": {"module.f32": state["f32"], "module.permuted": state["permuted"]},
        "epoch": 7,
        "arch": "vit",
        "optimizer": {"lr": 0.1, "momentum_buffer": state["f16"]},
    }
    torch.save(nested, out("nested.pth"))
    # Protocol 4 pickles use FRAME, MEMOIZE, SHORT_BINUNICODE and STACK_GLOBAL instead of protocol 2's opcodes.
    torch.save({k: state[k] for k in ("f32", "bf16", "permuted")}, out("protocol4.pth"), pickle_protocol=4)

    named = arrays()
    write_npz(out("arrays.npz"), named, compress=False)
    write_npz(out("arrays_compressed.npz"), named, compress=True)

    vit = tiny_vit()
    google = google_from_timm(vit)
    write_npz(out("vit_google.npz"), google, compress=False)
    save_file({k: v.detach().numpy().astype("<f4") for k, v in vit.items()}, out("vit_timm.safetensors"))

    write_zip(out("malicious_zip.pth"), {"archive/data.pkl": MALICIOUS_PICKLE, "archive/version": b"3\n"})
    with open(out("malicious_legacy.pth"), "wb") as f:
        f.write(legacy_preamble() + MALICIOUS_PICKLE)
    torch.save({"weight": torch.ones(2), "args": argparse.Namespace(lr=0.1)}, out("namespace.pth"))

    expected = {}
    for name, t in state.items():
        expected["torch." + name] = t.contiguous().float().numpy()
    for name, a in named.items():
        expected["npz." + name] = np.array(a, dtype="<f4", order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
    save_file(expected, out("expected.safetensors"))

    total = sum(os.path.getsize(out(f)) for f in os.listdir(OUT_DIR))
    print(f"wrote {len(os.listdir(OUT_DIR))} files, {total} bytes, to {OUT_DIR}")


if __name__ == "__main__":
    main()
