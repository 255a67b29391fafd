#!/usr/bin/env python3
"""Writes the fixtures for the Swift data tests (Tests/DatasetsTests/Fixtures/), from PIL 13,
torchvision and timm 1.0.31: small image files and the pixels the reference stack produces
from them.

What it writes (everything seeded; reruns are byte-identical; the set stays below 1 MB):
- images/jpeg_{444,422,420,progressive,gray,cmyk,exif_rotated}.jpg   61x47 JPEGs saved by PIL
  (quality 90; exif_rotated carries EXIF orientation 6, which decoding must ignore like PIL).
- images/png_*.png   PNGs: 8-bit RGB, RGBA, palette (with and without tRNS), grey, grey+alpha,
  1-bit grey (saved by PIL); 16-bit RGB / RGBA / grey, 2- and 4-bit grey, Adam7-interlaced RGB and
  an RGB file with gAMA/cHRM/tEXt chunks (written by this script's own PNG writer, since PIL cannot
  write them).
- idx/   a tiny IDX set (12 images 7x5, 3 classes): images raw and gzip-compressed, labels gzip.
- references.safetensors   uint8 (float32 for `normalize.*`) tensors, [H, W, 3] unless noted:
    decode.<file>        PIL `Image.open(f).convert("RGB")`; exceptions (documented in the Swift
                         decoder): png_gray16 holds the high byte (PIL clips I;16 at 255).
    resize.<case>        torchvision Resize / CenterCrop / hflip / resized_crop on PIL images, from
                         decode.png_rgb8; parameters in the metadata.
    augment.source       the 33x25 crop of decode.png_rgb8 (rows 8..32, columns 10..42) the ops run on.
    augment.<case>       timm's auto_augment op functions (NAME_TO_OP) on augment.source with fixed
                         arguments, fillcolor (124, 116, 104); parameters in the metadata.
    normalize.imagenet   ToTensor + Normalize(imagenet) of the centre crop 32 ([3, 32, 32] float32).
  metadata: one JSON object per case; "levels" holds timm's LEVEL_TO_ARG results for magnitudes
  with the sign coin forced each way (random.random patched to 0.0 and 1.0).

Run:  .venv/bin/python scripts/reference/make_data_fixtures.py
"""

import gzip
import io
import json
import os
import random
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from timm.data import auto_augment as aa

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "DatasetsTests", "Fixtures")
FILL = (124, 116, 104)  # timm's img_mean for the ImageNet mean


def scene(width=61, height=47, seed=7):
    """A deterministic test picture: gradients, a disc, stripes and noise, levels in [20, 230]
    (so autocontrast has something to stretch)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 40 + 150 * x / (width - 1)
    g = 60 + 120 * y / (height - 1)
    b = 120 + 60 * np.sin(x / 3.0) * np.cos(y / 5.0)
    disc = (x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (min(width, height) * 0.25) ** 2
    r[disc], g[disc], b[disc] = 210, 40, 70
    stripes = ((x + y) // 4) % 2 == 0
    g[stripes & (x < width / 3)] = 200
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, (height, width, 3))
    return np.clip(np.round(img), 20, 230).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, rows, width, height, bit_depth, color_type, extra_chunks=(), interlaced=False, adam7_passes=None):
    """Minimal PNG writer (filter type 0 on every row). `rows` are already-packed scanlines
    (or, when interlaced, `adam7_passes` gives the packed scanlines of each non-empty pass)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlaced else 0)
    scanlines = adam7_passes if interlaced else rows
    raw = b"".join(b"\x00" + row for row in scanlines)
    body = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    for kind, data in extra_chunks:
        body += png_chunk(kind, data)
    body += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(body)


def pack_bits(values, bits):
    """Packs small integers MSB-first into bytes (PNG sub-byte depths)."""
    out, acc, n = bytearray(), 0, 0
    for v in values:
        acc = (acc << bits) | int(v)
        n += bits
        if n == 8:
            out.append(acc)
            acc, n = 0, 0
    if n:
        out.append(acc << (8 - n))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_images(folder, base):
    h, w, _ = base.shape
    im = Image.fromarray(base, "RGB")
    files = {}

    def save(name, image, **kw):
        path = os.path.join(folder, name)
        image.save(path, **kw)
        files[name] = path

    save("jpeg_444.jpg", im, quality=90, subsampling=0)
    save("jpeg_422.jpg", im, quality=90, subsampling=1)
    save("jpeg_420.jpg", im, quality=90, subsampling=2)
    save("jpeg_progressive.jpg", im, quality=90, subsampling=2, progressive=True)
    save("jpeg_gray.jpg", im.convert("L"), quality=90)
    save("jpeg_cmyk.jpg", im.convert("CMYK"), quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6
    save("jpeg_exif_rotated.jpg", im, quality=90, exif=exif.tobytes())

    save("png_rgb8.png", im)
    alpha = np.clip(np.arange(h * w).reshape(h, w) * 3 % 256, 0, 255).astype(np.uint8)
    save("png_rgba8.png", Image.fromarray(np.dstack([base, alpha]), "RGBA"))
    palette = im.quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    save("png_palette.png", palette)
    save("png_palette_trns.png", palette, transparency=3)
    save("png_gray8.png", im.convert("L"))
    save("png_gray_alpha.png", Image.merge("LA", [im.convert("L"), Image.fromarray(alpha, "L")]))
    save("png_gray1.png", im.convert("L").point(lambda v: 255 if v > 120 else 0).convert("1", dither=Image.Dither.NONE))

    wide = base.astype(np.uint16) * 257 + np.arange(h * w * 3).reshape(h, w, 3).astype(np.uint16) % 251
    rows16 = [wide[y].astype(">u2").tobytes() for y in range(h)]
    path = os.path.join(folder, "png_rgb16.png")
    write_png(path, rows16, w, h, 16, 2)
    files["png_rgb16.png"] = path
    alpha16 = (alpha.astype(np.uint16) * 257)[..., None]
    rows16a = [np.concatenate([wide[y], alpha16[y]], axis=-1).astype(">u2").tobytes() for y in range(h)]
    path = os.path.join(folder, "png_rgba16.png")
    write_png(path, rows16a, w, h, 16, 6)
    files["png_rgba16.png"] = path
    gray16 = np.array(im.convert("L")).astype(np.uint16) * 257 + 99
    path = os.path.join(folder, "png_gray16.png")
    write_png(path, [gray16[y].astype(">u2").tobytes() for y in range(h)], w, h, 16, 0)
    files["png_gray16.png"] = path
    gray = np.array(im.convert("L"))
    for bits in (2, 4):
        levels = gray >> (8 - bits)
        path = os.path.join(folder, f"png_gray{bits}.png")
        write_png(path, [pack_bits(levels[y], bits) for y in range(h)], w, h, bits, 0)
        files[f"png_gray{bits}.png"] = path
    passes = []
    for x0, y0, dx, dy in ADAM7:
        sub = base[y0::dy, x0::dx]
        if sub.size:
            passes.extend(sub[y].tobytes() for y in range(sub.shape[0]))
    path = os.path.join(folder, "png_interlaced.png")
    write_png(path, None, w, h, 8, 2, interlaced=True, adam7_passes=passes)
    files["png_interlaced.png"] = path
    chunks = [(b"gAMA", struct.pack(">I", 100000)), (b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)),
              (b"tEXt", b"Comment\x00gamma 1.0 and odd primaries: PIL ignores both")]
    path = os.path.join(folder, "png_gamma.png")
    write_png(path, [base[y].tobytes() for y in range(h)], w, h, 8, 2, extra_chunks=chunks)
    files["png_gamma.png"] = path
    return files


def decode_references(files):
    refs, meta = {}, {}
    for name, path in sorted(files.items()):
        with Image.open(path) as f:
            mode = f.mode
            rgb = np.array(f.convert("RGB"))
        if name == "png_gray16.png":
            with Image.open(path) as f:
                high = (np.array(f).astype(np.uint32) >> 8).astype(np.uint8)
            rgb = np.dstack([high] * 3)
        key = name.rsplit(".", 1)[0]
        refs[f"decode.{key}"] = rgb
        meta[f"decode.{key}"] = {"op": "decode", "file": f"images/{name}", "pil_mode": mode}
    return refs, meta


def resize_references(source):
    im = Image.fromarray(source, "RGB")
    refs, meta = {}, {}
    interp = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}

    def add(name, out, params):
        refs[f"resize.{name}"] = np.array(out)
        meta[f"resize.{name}"] = params

    for mode in ("bilinear", "bicubic"):
        for (w, h) in ((23, 17), (97, 75), (7, 5)):
            add(f"{mode}_{w}x{h}", T.Resize((h, w), interpolation=interp[mode])(im),
                {"op": "resize", "width": w, "height": h, "interpolation": mode})
    add("bicubic_30x90", T.Resize((90, 30), interpolation=interp["bicubic"])(im),
        {"op": "resize", "width": 30, "height": 90, "interpolation": "bicubic"})
    add("bicubic_40x47", T.Resize((47, 40), interpolation=interp["bicubic"])(im),
        {"op": "resize", "width": 40, "height": 47, "interpolation": "bicubic"})
    add("bilinear_61x20", T.Resize((20, 61), interpolation=interp["bilinear"])(im),
        {"op": "resize", "width": 61, "height": 20, "interpolation": "bilinear"})
    add("shorter_32_bicubic", T.Resize(32, interpolation=interp["bicubic"])(im),
        {"op": "resize_shorter", "size": 32, "interpolation": "bicubic"})
    add("shorter_64_bilinear", T.Resize(64, interpolation=interp["bilinear"])(im),
        {"op": "resize_shorter", "size": 64, "interpolation": "bilinear"})
    add("center_crop_32", T.CenterCrop(32)(im), {"op": "center_crop", "width": 32, "height": 32})
    add("center_crop_70x50", T.CenterCrop((50, 70))(im), {"op": "center_crop", "width": 70, "height": 50})
    add("center_crop_20x47", T.CenterCrop((47, 20))(im), {"op": "center_crop", "width": 20, "height": 47})
    add("hflip", TF.hflip(im), {"op": "hflip"})
    add("resized_crop", TF.resized_crop(im, 5, 7, 30, 40, [24, 24], interpolation=interp["bilinear"]),
        {"op": "resized_crop", "top": 5, "left": 7, "height": 30, "width": 40, "size": 24, "interpolation": "bilinear"})
    crop = T.CenterCrop(32)(im)
    normalized = T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))(T.ToTensor()(crop))
    refs["normalize.imagenet"] = normalized.numpy().astype(np.float32)
    meta["normalize.imagenet"] = {"op": "normalize", "preset": "imagenet", "input": "resize.center_crop_32"}
    return refs, meta


def augment_references(source):
    im = Image.fromarray(source, "RGB")
    refs, meta = {}, {}
    resample = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}

    def add(name, op, args, interpolation=None):
        kwargs = {"fillcolor": FILL}
        if interpolation:
            kwargs["resample"] = resample[interpolation]
        out = aa.NAME_TO_OP[op](im, *args, **kwargs)
        refs[f"augment.{name}"] = np.array(out)
        meta[f"augment.{name}"] = {"op": op, "args": list(args), "interpolation": interpolation}

    add("auto_contrast", "AutoContrast", [])
    add("equalize", "Equalize", [])
    add("invert", "Invert", [])
    for bits in (1, 2, 3, 4):
        add(f"posterize_{bits}", "PosterizeIncreasing", [bits])
    for threshold in (0, 26, 128, 230):
        add(f"solarize_{threshold}", "SolarizeIncreasing", [threshold])
    for amount in (11, 99):
        add(f"solarize_add_{amount}", "SolarizeAdd", [amount])
    for op in ("Color", "Contrast", "Brightness", "Sharpness"):
        for factor in (0.1, 0.55, 1.81, 1.9):
            add(f"{op.lower()}_{factor}", op + "Increasing", [factor])
    for interpolation in ("bilinear", "bicubic"):
        for degrees in (27.0, -27.0, 13.37, -4.5):
            add(f"rotate_{degrees}_{interpolation}", "Rotate", [degrees], interpolation)
        for factor in (0.27, -0.27):
            add(f"shear_x_{factor}_{interpolation}", "ShearX", [factor], interpolation)
            add(f"shear_y_{factor}_{interpolation}", "ShearY", [factor], interpolation)
        for pct in (0.405, -0.405, 0.1):
            add(f"translate_x_{pct}_{interpolation}", "TranslateXRel", [pct], interpolation)
            add(f"translate_y_{pct}_{interpolation}", "TranslateYRel", [pct], interpolation)
    for factor in (-0.5, -0.1, 0.05, 0.37, 0.5):  # torchvision's PIL hue shift (ColorJitter's hue)
        key = f"jitter.hue_{factor}"
        refs[key] = np.array(TF.adjust_hue(im, factor))
        meta[key] = {"op": "hue", "factor": factor}
    return refs, meta


def level_arguments():
    """timm's level -> argument rules, with the sign coin forced to 'keep' and to 'negate'."""
    result = {}
    hparams = {"translate_pct": 0.45}
    original = random.random
    try:
        for name, fn in sorted(aa.LEVEL_TO_ARG.items()):
            if fn is None or name not in aa._RAND_TRANSFORMS + aa._RAND_INCREASING_TRANSFORMS:
                continue
            rows = []
            for magnitude in (0.0, 3.3, 9.0, 9.87, 10.0):
                random.random = lambda: 0.0
                keep = fn(magnitude, hparams)[0]
                random.random = lambda: 1.0
                negate = fn(magnitude, hparams)[0]
                rows.append([magnitude, keep, negate])
            result[name] = rows
    finally:
        random.random = original
    return result


def write_idx(folder):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(12, 5, 7), dtype=np.uint8)
    labels = np.array([0, 1, 2] * 4, dtype=np.uint8)
    raw_images = struct.pack(">IIII", 0x803, 12, 5, 7) + images.tobytes()
    raw_labels = struct.pack(">II", 0x801, 12) + labels.tobytes()
    with open(os.path.join(folder, "images-idx3-ubyte"), "wb") as f:
        f.write(raw_images)
    for name, data in (("images-idx3-ubyte.gz", raw_images), ("labels-idx1-ubyte.gz", raw_labels)):
        with open(os.path.join(folder, name), "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
                g.write(data)
    return {"idx.images": images, "idx.labels": labels}


def write_safetensors(path, tensors, metadata):
    """Byte-deterministic safetensors writer (keys sorted, header padded to 8 bytes)."""
    header = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    blobs, offset = [], 0
    for key in sorted(tensors):
        array = np.ascontiguousarray(tensors[key])
        dtype = {np.dtype(np.uint8): "U8", np.dtype(np.float32): "F32"}[array.dtype]
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[key] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    images_dir = os.path.join(OUT, "images")
    idx_dir = os.path.join(OUT, "idx")
    os.makedirs(images_dir, exist_ok=True)
    os.makedirs(idx_dir, exist_ok=True)
    torch.manual_seed(0)
    base = scene()
    files = write_images(images_dir, base)
    refs, meta = decode_references(files)
    source = refs["decode.png_rgb8"]
    refs["augment.source"] = np.ascontiguousarray(source[8:33, 10:43])
    meta["augment.source"] = {"op": "crop", "of": "decode.png_rgb8", "top": 8, "left": 10, "height": 25, "width": 33}
    for part in (resize_references(source), augment_references(refs["augment.source"])):
        refs.update(part[0])
        meta.update(part[1])
    refs.update(write_idx(idx_dir))
    meta["idx.images"] = {"op": "idx", "file": "idx/images-idx3-ubyte"}
    meta["idx.labels"] = {"op": "idx", "file": "idx/labels-idx1-ubyte.gz"}
    meta["levels"] = level_arguments()
    write_safetensors(os.path.join(OUT, "references.safetensors"), refs,
                      {k: json.dumps(v, sort_keys=True) for k, v in meta.items()})
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {len(refs)} references, {len(files)} images; fixtures total {total} bytes")
    assert total < 1_000_000, "fixtures must stay below 1 MB"


if __name__ == "__main__":
    main()
