#!/usr/bin/env python3
"""Writes tiny video clips and their decoded frames for the Swift video decoder's tests.

Three 32x24 clips of 10 frames at 25 fps, one per container/codec family the video datasets use:

  videos/h264.mp4    H.264 (libx264) in MP4, keyframe every 4 frames, 2 B-frames (presentation
                     order differs from decode order, as in most MP4s)
  videos/vp9.webm    VP9 in WebM, keyframe every 4 frames (Something-Something-V2's format; WebM
                     stores no frame count, so the decoder must count)
  videos/mpeg4.avi   MPEG-4 Part 2 in AVI, keyframe every 4 frames (HMDB51's format)

Each frame is a smooth colour gradient with a bright square that moves 2 px per frame, so frames
differ and the codecs keep them close to the source. `videos.safetensors` holds, per clip,
`<file>.frames` [T, H, W, 3] (uint8): every frame as PyAV decodes it, converted to RGB24 by
swscale with PyAV's default bilinear flags, and the metadata `<file>` = {"frames", "fps",
"width", "height"}. The Swift decoder runs Debian's FFmpeg, PyAV its own build: decoders are
bit-exact by specification, the YUV->RGB conversion may differ by a level between versions.

Run:  .venv/bin/python scripts/reference/make_video_fixtures.py  (PyAV from setup_venv.sh)
"""

import json
import os
from fractions import Fraction

import av
import numpy as np
import safetensors.numpy

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "Tests", "DatasetsTests", "Fixtures", "videos")
WIDTH, HEIGHT, FRAMES, FPS = 32, 24, 10, 25

CLIPS = [
    ("h264.mp4", "libx264", {"x264-params": "keyint=4:min-keyint=4:scenecut=0:bframes=2", "threads": "1"}),
    ("vp9.webm", "libvpx-vp9", {"g": "4", "threads": "1", "lag-in-frames": "0"}),
    ("mpeg4.avi", "mpeg4", {"g": "4", "threads": "1"}),
]


def source_frame(t):
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    rgb = np.stack([x * 255 // (WIDTH - 1), y * 255 // (HEIGHT - 1), np.full_like(x, 40 + 15 * t)], axis=-1)
    left = 2 * t
    rgb[6:14, left:left + 8] = [250, 250, 250]
    return rgb.astype(np.uint8)


def encode(name, codec, options):
    path = os.path.join(OUT, name)
    with av.open(path, "w") as container:
        stream = container.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = options
        if codec == "mpeg4":
            stream.bit_rate = 400_000
        for t in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(source_frame(t), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def decode(path):
    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        fps = float(stream.average_rate or stream.guessed_rate)
    return np.stack(frames), fps


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors, metadata = {}, {}
    for name, codec, options in CLIPS:
        frames, fps = decode(encode(name, codec, options))
        assert frames.shape == (FRAMES, HEIGHT, WIDTH, 3), (name, frames.shape)
        error = np.abs(frames.astype(int) - np.stack([source_frame(t) for t in range(FRAMES)]).astype(int)).mean()
        assert error < 20, f"{name}: the codec lost the picture (mean error {error:.1f})"
        tensors[f"{name}.frames"] = np.ascontiguousarray(frames)
        metadata[name] = json.dumps({"frames": FRAMES, "fps": fps, "width": WIDTH, "height": HEIGHT})
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes, mean error vs source {error:.2f}")
    safetensors.numpy.save_file(tensors, os.path.join(OUT, "videos.safetensors"), metadata=metadata)


if __name__ == "__main__":
    main()
