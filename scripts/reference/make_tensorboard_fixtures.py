#!/usr/bin/env python3
"""Writes the fixtures for the Swift TensorBoard writer (Tests/TrainingTests/Fixtures/tensorboard/).

The events are built with the `tensorboard` package's own protobuf classes and framed by its own
TFRecord writer (`tensorboard.summary.writer.record_writer.RecordWriter`, what its EventFileWriter
and torch.utils.tensorboard use), so the Swift encoder is checked against the reference
serializer byte for byte:

- events.out.tfevents.1700000000.fixture   file version, the HParams plugin's session_start_info
                       (built as torch.utils.tensorboard's add_hparams builds it: SessionStartInfo with
                       number/string/bool values, plugin "hparams", version 0), a SessionLog START,
                       and scalar summaries (simple_value) at steps 1, 2 and 300 (a two-byte varint).
- events.json          the same events as data, so the Swift test builds them with its own encoder
                       and compares the framed bytes; plus CRC-32C and masked CRC-32C of a few byte
                       strings, computed by tensorboard's own implementation.

Both files are byte-identical on rerun (fixed wall times, deterministic serialization).
Needs only tensorboard (fixture venv: `bash scripts/reference/setup_venv.sh`, then
`.venv/bin/pip install tensorboard`).

Run:  .venv/bin/python scripts/reference/make_tensorboard_fixtures.py
"""

import json
import os

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import crc32c, masked_crc32c
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "TrainingTests", "Fixtures", "tensorboard")
EVENT_FILE = "events.out.tfevents.1700000000.fixture"

HPARAMS = {
    "lr": 0.001, "epochs": 3, "method": "lora", "decay_all": True, "train_augmentation": False,
    "method_options.rank": 8, "eval_epochs": "[1,2]", "weight_decay": 0.0,
}

# (wall_time, step, kind, payload): what the Swift test rebuilds.
EVENTS = [
    (1700000000.5, 0, "file_version", "brain.Event:2"),
    (1700000000.5, 0, "hparams", HPARAMS),
    (1700000000.5, 1, "session_start", None),
    (1700000012.25, 1, "scalars", [["train/loss", 1.25], ["train/top1", 40.0], ["train/lr", 0.001], ["eval/top1", 55.5]]),
    (1700000024.125, 2, "scalars", [["train/loss", 0.6931471805599453], ["train/lr", 0.0005], ["memory/peak_mb", 123.456]]),
    (1700000100.0, 300, "scalars", [["train/loss", -0.0], ["eval/top5", 100.0]]),
]

CRC_INPUTS = [b"", b"a", b"123456789", bytes(32), bytes([0xFF] * 32), bytes(range(32)), b"brain.Event:2"]


def session_start_info(hparams):
    """As torch.utils.tensorboard.summary.hparams builds it (without the experiment summary)."""
    ssi = plugin_data_pb2.SessionStartInfo()
    for key, value in hparams.items():
        if isinstance(value, bool):
            ssi.hparams[key].bool_value = value
        elif isinstance(value, (int, float)):
            ssi.hparams[key].number_value = value
        else:
            ssi.hparams[key].string_value = value
    content = plugin_data_pb2.HParamsPluginData(session_start_info=ssi, version=0)
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="hparams", content=content.SerializeToString(deterministic=True)))
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="_hparams_/session_start_info", metadata=metadata)])


def event(wall_time, step, kind, payload):
    e = event_pb2.Event(wall_time=wall_time, step=step)
    if kind == "file_version":
        e.file_version = payload
    elif kind == "hparams":
        e.summary.CopyFrom(session_start_info(payload))
    elif kind == "session_start":
        e.session_log.status = event_pb2.SessionLog.START
    elif kind == "scalars":
        e.summary.CopyFrom(summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in payload]))
    else:
        raise ValueError(kind)
    return e


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, EVENT_FILE), "wb") as f:
        writer = RecordWriter(f)
        for spec in EVENTS:
            writer.write(event(*spec).SerializeToString(deterministic=True))
    description = {
        "event_file": EVENT_FILE,
        "events": [{"wall_time": w, "step": s, "kind": k, "payload": p} for w, s, k, p in EVENTS],
        "crc32c": [{"hex": data.hex(), "crc": crc32c(data) & 0xFFFFFFFF, "masked": masked_crc32c(data)} for data in CRC_INPUTS],
    }
    with open(os.path.join(OUT_DIR, "events.json"), "w") as f:
        json.dump(description, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", OUT_DIR)


if __name__ == "__main__":
    main()
