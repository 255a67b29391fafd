#!/usr/bin/env python3
"""Writes the fixtures for the Swift ONNX reader (Tests/CheckpointsTests/Fixtures/).

What it writes (tiny, seeded, byte-identical on rerun):
- tiny.onnx             a small transformer-style graph built with onnx.helper, named the way
                        torch.onnx.export names things: nodes "/encoder/layer.0/.../MatMul", module
                        parameters by their dotted names, and tensors that are no module parameter
                        anonymous ("onnx::MatMul_101", linear weights stored transposed as [in, out]).
                        Its initializers cover every storage the reader decodes:
                          raw_data float32 (onnx.numpy_helper's default), typed float_data (packed),
                          raw_data float16 (a named norm weight), float16 in int32_data (bit patterns), int64 raw_data
                          (a Reshape shape with -1), int64 in int64_data (a Slice end of INT64_MAX),
                          int32 in int32_data (negative values: ten-byte varints), double_data, and an
                          anonymous initializer consumed by two nodes (keeps its name when converted).
- tiny_onnx_expected.safetensors
                        every initializer's values as float32 under its ONNX name (float16 values
                        widened exactly; integers as floats, as every reader here returns them).

The graph is checked with onnx.checker. The fixture venv needs `onnx` on top of setup_venv.sh's set;
torch is not used (onnx.helper gives exact control over how each initializer is stored).

Run:  .venv/bin/pip install onnx && .venv/bin/python scripts/reference/make_onnx_fixtures.py
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "CheckpointsTests", "Fixtures")
INT64_MAX = 9223372036854775807


def typed(name, data_type, dims, values, field):
    """A TensorProto whose values live in a typed field (float_data, int32_data, …), not raw_data."""
    tensor = TensorProto(name=name, data_type=data_type, dims=dims)
    getattr(tensor, field).extend(values)
    return tensor


def main():
    rng = np.random.default_rng(0)
    d, hidden = 4, 8
    key_w = rng.standard_normal((d, 6)).astype(np.float32)          # [in, out], as exporters store it
    key_b = rng.standard_normal(6).astype(np.float32)
    fc1_w = rng.standard_normal((6, hidden)).astype(np.float32)
    fc1_b = rng.standard_normal(hidden).astype(np.float32)
    norm_w = rng.standard_normal(d).astype(np.float16)
    fc2_w = rng.standard_normal((hidden, d)).astype(np.float16)
    scale = np.array(0.5, dtype=np.float32)
    counts = np.array([[-7, 0], [2147483647, -2147483648]], dtype=np.int32)
    doubles = np.array([1.0 / 3.0, -2.5e-3], dtype=np.float64)

    initializers = [
        numpy_helper.from_array(key_w, "onnx::MatMul_101"),                           # raw float32
        numpy_helper.from_array(key_b, "encoder.layer.0.attention.key.bias"),         # named, raw float32
        typed("onnx::MatMul_103", TensorProto.FLOAT, fc1_w.shape, fc1_w.ravel().tolist(), "float_data"),
        numpy_helper.from_array(fc1_b, "onnx::Add_104"),                              # raw float32
        numpy_helper.from_array(norm_w, "norm.weight"),                               # raw float16
        typed("onnx::MatMul_105", TensorProto.FLOAT16, fc2_w.shape,
              fc2_w.ravel().view(np.uint16).tolist(), "int32_data"),                  # float16 bit patterns
        numpy_helper.from_array(scale, "onnx::Mul_107"),                              # consumed twice
        numpy_helper.from_array(np.array([-1, d], dtype=np.int64), "onnx::Reshape_106"),
        typed("onnx::Slice_108", TensorProto.INT64, [1], [0], "int64_data"),
        typed("onnx::Slice_109", TensorProto.INT64, [1], [INT64_MAX], "int64_data"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "onnx::Slice_110"),
        typed("counts", TensorProto.INT32, counts.shape, counts.ravel().tolist(), "int32_data"),
        typed("doubles", TensorProto.DOUBLE, doubles.shape, doubles.tolist(), "double_data"),
    ]
    key, fc1, fc2 = "/encoder/layer.0/attention/key", "/encoder/layer.0/mlp/fc1", "/encoder/layer.0/mlp/fc2"
    nodes = [
        helper.make_node("MatMul", ["x", "onnx::MatMul_101"], ["k0"], name=f"{key}/MatMul"),
        helper.make_node("Add", ["encoder.layer.0.attention.key.bias", "k0"], ["k"], name=f"{key}/Add"),
        helper.make_node("MatMul", ["k", "onnx::MatMul_103"], ["h0"], name=f"{fc1}/MatMul"),
        helper.make_node("Add", ["h0", "onnx::Add_104"], ["h1"], name=f"{fc1}/Add"),
        helper.make_node("Relu", ["h1"], ["h2"], name="/encoder/layer.0/mlp/act/Relu"),
        helper.make_node("Cast", ["onnx::MatMul_105"], ["w2"], name=f"{fc2}/Cast", to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["h2", "w2"], ["y0"], name=f"{fc2}/MatMul"),
        helper.make_node("Mul", ["y0", "onnx::Mul_107"], ["y1"], name="/scale/Mul"),
        helper.make_node("Mul", ["y1", "onnx::Mul_107"], ["y2"], name="/scale/Mul_1"),
        helper.make_node("Cast", ["norm.weight"], ["norm_w"], name="/norm/Cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["y2", "norm_w"], ["y2n"], name="/norm/Mul"),
        helper.make_node("Reshape", ["y2n", "onnx::Reshape_106"], ["y3"], name="/Reshape"),
        helper.make_node("Slice", ["y3", "onnx::Slice_108", "onnx::Slice_109", "onnx::Slice_110"], ["y"], name="/Slice"),
    ]
    graph = helper.make_graph(
        nodes, "main_graph",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, d])],
        initializer=initializers,
    )
    model = helper.make_model(graph, producer_name="vpeft-fixtures", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)

    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "tiny.onnx"), "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    expected = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in initializers}
    save_file(expected, os.path.join(OUT_DIR, "tiny_onnx_expected.safetensors"))
    for name in ["tiny.onnx", "tiny_onnx_expected.safetensors"]:
        print(name, os.path.getsize(os.path.join(OUT_DIR, name)), "bytes")


if __name__ == "__main__":
    main()
