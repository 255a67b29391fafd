import Foundation

/// The configuration space of the released Video Swin Transformer (`SwinTransformer3D` of
/// SwinTransformer/Video-Swin-Transformer, mmaction2), under its argument names. Defaults are
/// the released Swin-T K400 model (`swin_tiny_patch244_window877_kinetics400_1k`): tubelets of
/// 2 frames × 4 × 4 pixels, windows of 8 × 7 × 7 tokens, a LayerNorm after the patch embedding
/// (`patch_norm=True` in every released config), LayerNorm eps 1e-5 (`nn.LayerNorm`).
public struct VideoSwinTransformerConfig: Codable, Equatable, Sendable {
    /// Frame side the pipeline resizes clips to (the model itself pads any size to its patches;
    /// square frames here, as every other backbone of this library takes them).
    public var imgSize = 224
    /// Frames per clip in training and evaluation (any count runs: time is padded to tubelets).
    public var numFrames = 32
    /// (time, height, width) of one tubelet; height = width.
    public var patchSize = [2, 4, 4]
    public var inChans = 3
    /// Channels of stage 0; stage i has embed_dim · 2^i.
    public var embedDim = 96
    public var depths = [2, 2, 6, 2]
    public var numHeads = [3, 6, 12, 24]
    /// (time, height, width) of an attention window; odd blocks shift by half of it.
    public var windowSize = [8, 7, 7]
    public var mlpRatio: Float = 4
    public var qkvBias = true
    public var patchNorm = true
    /// 0 = no head (features only).
    public var numClasses = 400
    public var dropPathRate: Float = 0.2
    public var normEps: Float = 1e-5

    public init() {}

    enum CodingKeys: String, CodingKey {
        case imgSize = "img_size", numFrames = "num_frames", patchSize = "patch_size", inChans = "in_chans", embedDim = "embed_dim"
        case depths, numHeads = "num_heads", windowSize = "window_size", mlpRatio = "mlp_ratio", qkvBias = "qkv_bias"
        case patchNorm = "patch_norm", numClasses = "num_classes", dropPathRate = "drop_path_rate", normEps = "norm_eps"
    }

    public var stageCount: Int { depths.count }
    public func stageDim(_ stage: Int) -> Int { embedDim << stage }
    public var numFeatures: Int { stageDim(stageCount - 1) }
    public func mlpHidden(_ stage: Int) -> Int { Int(Float(stageDim(stage)) * mlpRatio) }
    /// Values in one tubelet: what the patch embedding's linear map reads (C, t, p, p order).
    public var tubeletValues: Int { inChans * patchSize[0] * patchSize[1] * patchSize[2] }
    /// The token grid side of stage `stage` for `imgSize` frames: the padded patch grid, halved
    /// (rounding up, odd sides are padded) by every PatchMerging before it.
    public func stageResolution(_ stage: Int) -> Int {
        var side = (imgSize + patchSize[1] - 1) / patchSize[1]
        for _ in 0..<stage { side = (side + 1) / 2 }
        return side
    }

    /// Checks the values a user can get wrong, naming the field.
    public func validate() throws {
        func bad(_ field: String, _ value: Any, _ expectation: String) -> ModelConfigError {
            ModelConfigError("Video Swin \(field) = \(value): \(expectation)")
        }
        if imgSize <= 0 || numFrames <= 0 { throw bad("img_size/num_frames", (imgSize, numFrames), "must be positive") }
        if patchSize.count != 3 || patchSize.contains(where: { $0 <= 0 }) || patchSize[1] != patchSize[2] {
            throw bad("patch_size", patchSize, "must be (time, side, side), all positive")
        }
        if embedDim <= 0 || inChans <= 0 { throw bad("embed_dim/in_chans", (embedDim, inChans), "must be positive") }
        if depths.isEmpty || depths.contains(where: { $0 <= 0 }) { throw bad("depths", depths, "must be positive, one per stage") }
        if numHeads.count != depths.count { throw bad("num_heads", numHeads, "needs one entry per stage (\(depths.count))") }
        for (stage, heads) in numHeads.enumerated() where heads <= 0 || stageDim(stage) % heads != 0 {
            throw bad("num_heads", numHeads, "stage \(stage) has \(stageDim(stage)) channels, not divisible by \(heads) heads")
        }
        if windowSize.count != 3 || windowSize.contains(where: { $0 <= 0 }) { throw bad("window_size", windowSize, "must be (time, height, width), all positive") }
        if mlpRatio <= 0 { throw bad("mlp_ratio", mlpRatio, "must be positive") }
        if numClasses < 0 { throw bad("num_classes", numClasses, "must be ≥ 0") }
        if !(0..<1).contains(dropPathRate) { throw bad("drop_path_rate", dropPathRate, "must be in [0, 1)") }
        if !(normEps > 0) { throw bad("norm_eps", normEps, "must be positive") }
    }
}

extension VideoSwinTransformerConfig {
    /// The released architectures (the names of their K400/SSv2 config files). A dataset tag
    /// after a dot sets the head size it was released with: `.kinetics400` 400 classes (the
    /// default), `.kinetics600` 600, `.sthv2` 174.
    public static func preset(_ name: String) throws -> VideoSwinTransformerConfig {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard let base = parts.first, let make = presets[base] else {
            throw ModelConfigError("unknown Video Swin model '\(name)'; known: \(presetNames.joined(separator: ", "))")
        }
        var config = make()
        if parts.count == 2 {
            guard let classes = ["kinetics400": 400, "kinetics600": 600, "sthv2": 174][parts[1]] else {
                throw ModelConfigError("unknown Video Swin dataset tag '\(parts[1])' in '\(name)'; known: kinetics400, kinetics600, sthv2")
            }
            config.numClasses = classes
        }
        return config
    }

    public static var presetNames: [String] { presets.keys.sorted() }

    private static func swin3d(_ dim: Int, _ depths: [Int], _ heads: [Int]) -> () -> VideoSwinTransformerConfig {
        {
            var c = VideoSwinTransformerConfig()
            (c.embedDim, c.depths, c.numHeads) = (dim, depths, heads)
            return c
        }
    }

    private static let presets: [String: () -> VideoSwinTransformerConfig] = [
        "swin3d_tiny_patch244_window877": swin3d(96, [2, 2, 6, 2], [3, 6, 12, 24]),
        "swin3d_small_patch244_window877": swin3d(96, [2, 2, 18, 2], [3, 6, 12, 24]),
        "swin3d_base_patch244_window877": swin3d(128, [2, 2, 18, 2], [4, 8, 16, 32]),
    ]
}
