import Tensor

/// A plain ViT as a dense-prediction backbone: the outputs of four chosen blocks (`outIndices`),
/// patch tokens only, as NCHW maps at the patch stride. A neck (`Feature2PyramidNeck` in Heads)
/// turns them into a pyramid; the maps themselves all have stride `patchSize`.
///
/// The maps come from the ordinary forward with block outputs kept, so every hook of an attached
/// method runs as on classification. Tokens a method adds (VPT's prompts, HST's meta token) and
/// the class token all sit before the patch tokens — the prompt code inserts after the class
/// token, the others prepend — so the patch grid is always the last side² tokens of a block's
/// output. No final norm is applied (mmseg's BEiT/MAE backbones hand raw block outputs to the neck).
extension VisionTransformer: FeaturePyramidBackbone {
    /// Four blocks evenly spaced through the depth, ending with the last: block k·depth/4 − 1 for
    /// k = 1…4 ([2, 5, 8, 11] for 12 blocks, [5, 11, 17, 23] for 24), the `out_indices` of mmseg's
    /// `upernet_vit-b16_mln` configs and of ViTDet. (mmseg's BEiT configs use [3, 5, 7, 11];
    /// `setOutIndices` takes any choice.) Blocks repeat when the depth is below 4.
    public static func defaultOutIndices(depth: Int) -> [Int] {
        (1...4).map { Swift.max(0, $0 * depth / 4 - 1) }
    }

    /// Chooses the blocks whose outputs `stageFeatures` returns, in the order given (finest map
    /// of the neck first); every index must name a block.
    public func setOutIndices(_ indices: [Int]) throws {
        guard !indices.isEmpty else { throw ModelConfigError("out_indices = []: choose at least one block") }
        if let bad = indices.first(where: { !blocks.indices.contains($0) }) {
            throw ModelConfigError("out_indices = \(indices): block \(bad) does not exist (the ViT has blocks 0…\(blocks.count - 1))")
        }
        outIndices = indices
    }

    /// The position embedding covers one grid: inputs must be img_size × img_size.
    public var fixedInputSide: Int? { config.imgSize }

    public var featureInfo: [StageFeatureInfo] {
        outIndices.map { StageFeatureInfo(channels: config.embedDim, reduction: config.patchSize, module: "blocks.\($0)") }
    }

    /// The chosen blocks' outputs [B, D, side, side], side = img_size / patch_size.
    public func stageFeatures(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> [Tensor] {
        var options = options
        options.keepBlockOutputs = true
        let outputs = forward(images, options: options, rng: rng).blockOutputs
        let side = config.gridSize, patches = side * side
        return outIndices.map { index in
            let tokens = outputs[index]                                            // [B, N, D], N ≥ side²
            let (b, n, d) = (tokens.shape[0], tokens.shape[1], tokens.shape[2])
            precondition(n >= patches + config.prefixTokens, "VisionTransformer.stageFeatures: block \(index) gave \(n) tokens for a \(side)×\(side) grid")
            return tokens.narrowed(1, start: n - patches, length: patches).transposed(1, 2).reshaped([b, d, side, side])
        }
    }
}
