import Foundation
import NN
import Tensor

/// How an image patch embedding (a p×p convolution) becomes a tubelet embedding over t frames.
public enum TubeletInflation: String, Sendable, CaseIterable {
    /// The kernel on frame ⌊t/2⌋ of each tubelet, zeros on the others (ViViT's "central frame"
    /// initialisation): every token starts as exactly the image model's token of one frame.
    case centralFrame = "central"
    /// The kernel divided by t on every frame (I3D's inflation): a clip of identical frames gives
    /// exactly the image model's patch tokens.
    case average
}

extension VideoMAE {
    /// A video model over tubelets of `tubelet` frames × p × p initialised from an image ViT
    /// (DINOv2, timm ViTs) — image-to-video transfer as VideoMAE's and AIM's fine-tuning practice:
    /// the blocks (LayerScale included) as they are, the final norm as `fc_norm` after mean
    /// pooling, the patch convolution inflated over time (`inflation`), and positions
    /// `.spatialLearnedTemporalSinusoid`: the ViT's patch table (already at the ViT's grid, i.e.
    /// resampled as the image model resamples it; class and register entries dropped) in every
    /// time slice plus a centred sinusoid over the slice index. Without that temporal signal a
    /// clip played backwards would, with average inflation, give a permutation of the forward
    /// clip's tokens, and mean pooling would return the same features for both. The temporal
    /// table is scaled to the spatial table's size (mean norm per position): the pre-trained
    /// attention reads position signals of that size — DINOv2 ViT-S/14's are ≈ 0.18 beside
    /// patch tokens of ≈ 2.7, while the centred sinusoid over 4 slices has norms 1.9–4.2, which
    /// would bury the frame content. No head.
    public static func inflated(from vit: VisionTransformer, frames: Int, tubelet: Int = 2,
                                inflation: TubeletInflation = .centralFrame) throws -> VideoMAE {
        let c = vit.config
        guard tubelet >= 1, frames >= tubelet, frames % tubelet == 0 else {
            throw ModelConfigError("inflating to \(frames) frames with tubelets of \(tubelet): frames must be a positive multiple of the tubelet size")
        }
        guard !c.preNorm, let patchBias = vit.patchEmbed.proj.bias else {
            throw ModelConfigError("inflating \(vit.architecture): a ViT with a pre-norm (CLIP-style, no patch bias) has no VideoMAE counterpart")
        }
        guard c.qkvBias else { throw ModelConfigError("inflating \(vit.architecture): VideoMAE's blocks need qkv biases") }
        guard let finalNorm = vit.norm ?? vit.fcNorm else { throw ModelConfigError("inflating \(vit.architecture): the ViT has no final norm") }

        var config = VideoMAEConfig()
        (config.imageSize, config.patchSize, config.numChannels) = (c.imgSize, c.patchSize, c.inChans)
        (config.numFrames, config.tubeletSize) = (frames, tubelet)
        (config.hiddenSize, config.numHiddenLayers, config.numAttentionHeads) = (c.embedDim, c.depth, c.numHeads)
        config.intermediateSize = vit.blocks[0].mlp.fc1.weight.shape[0]
        (config.hiddenAct, config.layerNormEps, config.fcNormEps) = (c.actLayer, c.normEps, c.normEps)
        config.layerScaleInit = c.initValues
        config.positionEmbeddingType = .spatialLearnedTemporalSinusoid

        var state = Dictionary(uniqueKeysWithValues: vit.namedParameters.filter { $0.name.hasPrefix("blocks.") }.map { ($0.name, $0.tensor) })
        state["fc_norm.weight"] = finalNorm.weight
        state["fc_norm.bias"] = finalNorm.bias
        let grid = c.gridSize * c.gridSize
        state["pos_embed"] = vit.posEmbed.narrowed(1, start: vit.posEmbed.shape[1] - grid, length: grid)
        state["patch_embed.proj.weight"] = inflatedPatchWeight(vit.patchEmbed.proj.weight, tubelet: tubelet, inflation: inflation)
        state["patch_embed.proj.bias"] = patchBias
        // The unscaled temporal table's size against the spatial table's.
        let spatialSize = meanRowNorm(state["pos_embed"]!.reshaped([grid, c.embedDim]))
        let temporalSize = meanRowNorm(VideoMAE.centredTemporalTable(slices: frames / tubelet, width: c.embedDim, scale: 1))
        config.temporalPositionScale = temporalSize > 0 ? spatialSize / temporalSize : 0
        let model = try VideoMAE(config, randomInit: false)
        do {
            try model.load(state, strict: true)
        } catch let mismatch as StateDictMismatch {
            throw ModelConfigError("inflating \(vit.architecture): \(mismatch)")
        }
        return model
    }

    /// The mean Euclidean norm of the rows of a [N, D] table.
    static func meanRowNorm(_ table: Tensor) -> Float {
        let (n, d) = (table.shape[0], table.shape[1])
        let values = table.scalars
        return (0..<n).map { i in values[(i * d)..<((i + 1) * d)].reduce(0) { $0 + $1 * $1 }.squareRoot() }.reduce(0, +) / Float(n)
    }

    /// A conv weight [D, C, p, p] spread over `tubelet` frames as the tubelet embedding's linear
    /// weight [D, C·t·p·p] in (C, t, p, p) order (`tubeletRows`).
    static func inflatedPatchWeight(_ weight: Tensor, tubelet t: Int, inflation: TubeletInflation) -> Tensor {
        let (d, c, p) = (weight.shape[0], weight.shape[1], weight.shape[2] * weight.shape[3])
        let source = weight.scalars
        var values = [Float](repeating: 0, count: d * c * t * p)
        for row in 0..<(d * c) {
            for frame in 0..<t {
                let scale: Float = switch inflation {
                case .average: 1 / Float(t)
                case .centralFrame: frame == t / 2 ? 1 : 0
                }
                guard scale != 0 else { continue }
                for k in 0..<p { values[(row * t + frame) * p + k] = source[row * p + k] * scale }
            }
        }
        return Tensor(shape: [d, c * t * p], values)
    }
}
