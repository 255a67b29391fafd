import Foundation

/// The configuration space of timm's `SwinTransformer` (V1) for square images. Field names
/// follow timm's `model_args`; defaults are timm's (`swin_tiny_patch4_window7_224`'s
/// architecture, `drop_path_rate` 0.1, LayerNorm eps 1e-5 as `nn.LayerNorm`).
public struct SwinTransformerConfig: Codable, Equatable, Sendable {
    public var imgSize = 224
    public var patchSize = 4
    public var inChans = 3
    /// Channels of stage 0; stage i has embed_dim · 2^i.
    public var embedDim = 96
    public var depths = [2, 2, 6, 2]
    public var numHeads = [3, 6, 12, 24]
    /// The window side of each stage (timm takes one int for all stages or one per stage).
    public var windowSize = [7, 7, 7, 7]
    public var mlpRatio: Float = 4
    public var qkvBias = true
    /// Only "avg" (mean over the final map, timm's default for Swin).
    public var globalPool = "avg"
    /// 0 = no head (features only).
    public var numClasses = 1000
    public var dropPathRate: Float = 0.1
    public var normEps: Float = 1e-5
    /// How stage maps are cut into windows; nil is timm's classification layout. Optional so
    /// that a config without it encodes (and fingerprints) exactly as before.
    public var windowing: SwinWindowing?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case imgSize = "img_size", patchSize = "patch_size", inChans = "in_chans", embedDim = "embed_dim", depths
        case numHeads = "num_heads", windowSize = "window_size", mlpRatio = "mlp_ratio", qkvBias = "qkv_bias"
        case globalPool = "global_pool", numClasses = "num_classes", dropPathRate = "drop_path_rate", normEps = "norm_eps"
        case windowing
    }

    public var stageCount: Int { depths.count }
    /// The patch grid side entering stage 0.
    public var gridSize: Int { imgSize / patchSize }
    public func stageDim(_ stage: Int) -> Int { embedDim << stage }
    /// The map side inside stage `stage`: each PatchMerging halves it, rounding up (odd sides are
    /// padded), as timm's `(r + 1) // 2`.
    public func stageResolution(_ stage: Int) -> Int {
        var side = gridSize
        for _ in 0..<stage { side = (side + 1) / 2 }
        return side
    }
    /// The window a stage's blocks use: the configured one, or the whole map when the map is no
    /// larger (timm's `_calc_window_shift`; such a stage never shifts).
    /// With `.dense` windowing the configured window always applies (the map is padded up to it).
    public func effectiveWindow(_ stage: Int) -> Int {
        windowing == .dense ? windowSize[stage] : min(windowSize[stage], stageResolution(stage))
    }
    /// The cyclic shift of block `block` of stage `stage`: window // 2 on odd blocks, none when
    /// the window covers the map (always window // 2 on odd blocks with `.dense` windowing).
    public func shift(stage: Int, block: Int) -> Int {
        guard block % 2 == 1 else { return 0 }
        return windowing == .dense || stageResolution(stage) > windowSize[stage] ? windowSize[stage] / 2 : 0
    }
    /// Channels of the final map, the pooled feature width.
    public var numFeatures: Int { stageDim(stageCount - 1) }
    public func mlpHidden(_ stage: Int) -> Int { Int(Float(stageDim(stage)) * mlpRatio) }

    /// Checks the values a user can get wrong, naming the field.
    public func validate() throws {
        func bad(_ field: String, _ value: Any, _ expectation: String) -> ModelConfigError {
            ModelConfigError("\(field) = \(value): \(expectation)")
        }
        if imgSize <= 0 { throw bad("img_size", imgSize, "must be positive") }
        if patchSize <= 0 || imgSize % patchSize != 0 { throw bad("patch_size", patchSize, "must divide img_size \(imgSize)") }
        if embedDim <= 0 || inChans <= 0 { throw bad("embed_dim/in_chans", (embedDim, inChans), "must be positive") }
        if depths.isEmpty || depths.contains(where: { $0 <= 0 }) { throw bad("depths", depths, "must be positive, one per stage") }
        if numHeads.count != depths.count { throw bad("num_heads", numHeads, "needs one entry per stage (\(depths.count))") }
        for (stage, heads) in numHeads.enumerated() where heads <= 0 || stageDim(stage) % heads != 0 {
            throw bad("num_heads", numHeads, "stage \(stage) has \(stageDim(stage)) channels, not divisible by \(heads) heads")
        }
        if windowSize.count != depths.count || windowSize.contains(where: { $0 <= 0 }) {
            throw bad("window_size", windowSize, "must be positive, one per stage (\(depths.count))")
        }
        if mlpRatio <= 0 { throw bad("mlp_ratio", mlpRatio, "must be positive") }
        if globalPool != "avg" { throw bad("global_pool", globalPool, "must be 'avg' (the only pooling Swin is trained with)") }
        if numClasses < 0 { throw bad("num_classes", numClasses, "must be ≥ 0") }
        if !(0..<1).contains(dropPathRate) { throw bad("drop_path_rate", dropPathRate, "must be in [0, 1)") }
        if !(normEps > 0) { throw bad("norm_eps", normEps, "must be positive") }
    }
}

/// Where Swin backbones for dense prediction cut windows differently from timm's classifier.
/// `.dense` is the layout of the Microsoft detection/segmentation code (mmdet, mmseg) and of
/// Hugging Face's `SwinBackbone` (which runs with `always_partition=True`): every stage keeps its
/// configured window even when the map is smaller, odd blocks always shift by window // 2, and a
/// map is zero-padded to whole windows *before* the cyclic shift (timm pads after it). At 224 px
/// with window 7 both layouts compute the same function; at segmentation sizes (512 px, maps of
/// 128/64/32/16 with window 7 or 12) they do not.
public enum SwinWindowing: String, Codable, Sendable {
    case dense
}

extension SwinTransformerConfig {
    /// timm's named Swin V1 architectures. A pretrained tag after a dot selects the head size it
    /// was released with: `.ms_in22k` has 21,841 classes, every other tag ImageNet-1k's 1,000
    /// (`swin_base_patch4_window7_224.ms_in22k_ft_in1k`).
    public static func preset(_ name: String) throws -> SwinTransformerConfig {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard let base = parts.first, let make = presets[base] else {
            throw ModelConfigError("unknown Swin model '\(name)'; known: \(presetNames.joined(separator: ", "))")
        }
        var config = make()
        if parts.count == 2 && parts[1] == "ms_in22k" { config.numClasses = 21_841 }
        return config
    }

    public static var presetNames: [String] { presets.keys.sorted() }

    private static func swin(_ dim: Int, _ depths: [Int], _ heads: [Int], window: [Int], img: Int = 224) -> () -> SwinTransformerConfig {
        {
            var c = SwinTransformerConfig()
            (c.embedDim, c.depths, c.numHeads, c.windowSize, c.imgSize) = (dim, depths, heads, window, img)
            return c
        }
    }

    private static let presets: [String: () -> SwinTransformerConfig] = [
        "swin_tiny_patch4_window7_224": swin(96, [2, 2, 6, 2], [3, 6, 12, 24], window: [7, 7, 7, 7]),
        "swin_small_patch4_window7_224": swin(96, [2, 2, 18, 2], [3, 6, 12, 24], window: [7, 7, 7, 7]),
        "swin_base_patch4_window7_224": swin(128, [2, 2, 18, 2], [4, 8, 16, 32], window: [7, 7, 7, 7]),
        "swin_base_patch4_window12_384": swin(128, [2, 2, 18, 2], [4, 8, 16, 32], window: [12, 12, 12, 12], img: 384),
        "swin_large_patch4_window7_224": swin(192, [2, 2, 18, 2], [6, 12, 24, 48], window: [7, 7, 7, 7]),
        "swin_large_patch4_window12_384": swin(192, [2, 2, 18, 2], [6, 12, 24, 48], window: [12, 12, 12, 12], img: 384),
        // AutoFormerV2 (S3) searched Swin architectures: per-stage windows.
        "swin_s3_tiny_224": swin(96, [2, 2, 6, 2], [3, 6, 12, 24], window: [7, 7, 14, 7]),
        "swin_s3_small_224": swin(96, [2, 2, 18, 2], [3, 6, 12, 24], window: [14, 14, 14, 7]),
        "swin_s3_base_224": swin(96, [2, 2, 30, 2], [3, 6, 12, 24], window: [7, 7, 14, 7]),
    ]
}
