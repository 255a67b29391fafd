#!/usr/bin/env python3
"""Writes mask PNGs saved by PIL and the label indices PIL reads back from them, for the Swift
label-map decoder (Tests/DatasetsTests/Fixtures/segmentation/).

- voc_palette.png   37x23 'P' image with Pascal VOC's colour map: classes 0..20 and 255
                    (boundary), as VOC's SegmentationClass files are stored (8-bit palette).
- palette_4bit.png  the same kind of map with 12 indices, saved with bits=4 (sub-byte samples).
- gray_ade.png      37x23 'L' image with values 0..150 as ADE20K's annotations (optimize=True:
                    zlib level 9 and PIL's filter choice).
- labels.safetensors  int64 [H, W] per file: `np.array(Image.open(f))` — the stored indices,
                    never the palette colours.

Run:  .venv/bin/python scripts/reference/make_segmentation_fixtures.py
"""

import os
import sys

import numpy as np
import torch
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import write_safetensors  # noqa: E402  (byte-deterministic writer)

OUT_DIR = os.path.join(REPO, "Tests", "DatasetsTests", "Fixtures", "segmentation")


def voc_palette():
    palette = []
    for index in range(256):
        r = g = b = 0
        c = index
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(19)
    h, w = 23, 37
    tensors = {}

    voc = rng.integers(0, 21, (h, w)).astype(np.uint8)
    voc[rng.random((h, w)) < 0.1] = 255
    image = Image.fromarray(voc, mode="P")
    image.putpalette(voc_palette())
    image.save(os.path.join(OUT_DIR, "voc_palette.png"))

    small = rng.integers(0, 12, (h, w)).astype(np.uint8)
    image = Image.fromarray(small, mode="P")
    image.putpalette(voc_palette()[:48])
    image.save(os.path.join(OUT_DIR, "palette_4bit.png"), bits=4)

    ade = (np.add.outer(np.arange(h) * 3, np.arange(w) * 2) + rng.integers(0, 3, (h, w))) % 151
    Image.fromarray(ade.astype(np.uint8), mode="L").save(os.path.join(OUT_DIR, "gray_ade.png"), optimize=True)

    for name in ["voc_palette", "palette_4bit", "gray_ade"]:
        with Image.open(os.path.join(OUT_DIR, name + ".png")) as im:
            print(name, im.mode, im.info.get("bits"), im.size)
            tensors[name] = torch.from_numpy(np.array(im).astype(np.int64))
    assert torch.equal(tensors["voc_palette"], torch.from_numpy(voc.astype(np.int64)))
    write_safetensors(os.path.join(OUT_DIR, "labels.safetensors"), tensors, {})


if __name__ == "__main__":
    main()
