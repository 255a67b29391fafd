#!/usr/bin/env python3
"""Reads a vpeft run folder's TensorBoard event files with TensorBoard's own reader and prints what
TensorBoard will show: the hyper-parameters (HParams plugin, session_start_info) and every scalar
series by step.

It checks what the Swift tests cannot: that the `tensorboard` package itself accepts the files
(TFRecord CRCs, protobuf, plugin data) and, for a resumed run, that every epoch appears once after
its purge of what a crashed process logged.

Needs only tensorboard (fixture venv: `bash scripts/reference/setup_venv.sh`, then
`.venv/bin/pip install tensorboard`).

Usage: .venv/bin/python scripts/check/read_tensorboard.py RUN_FOLDER
"""

import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})   # 0: keep every event
    accumulator.Reload()
    hparams = accumulator.PluginTagToContent("hparams")
    for tag, content in sorted(hparams.items()):
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        print(f"{tag}:")
        for key, value in sorted(data.session_start_info.hparams.items()):
            print(f"  {key} = {getattr(value, value.WhichOneof('kind'))!r}")
    tags = accumulator.Tags()["scalars"]
    if not tags:
        sys.exit("no scalars found")
    for tag in sorted(tags):
        points = accumulator.Scalars(tag)
        steps = [p.step for p in points]
        if len(set(steps)) != len(steps):
            sys.exit(f"{tag}: a step appears twice: {steps}")
        print(f"{tag}: " + "  ".join(f"{p.step}:{p.value:.6g}" for p in points))


if __name__ == "__main__":
    main()
