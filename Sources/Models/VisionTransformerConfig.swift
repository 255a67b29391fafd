import Foundation
import NN

/// The configuration space of timm's `VisionTransformer` used by the pre-trainings V-PEFT
/// Bench benchmarks (supervised IN-21k, MAE, DINO, CLIP). Field names follow timm's
/// `model_args`; defaults are timm's.
public struct VisionTransformerConfig: Codable, Equatable, Sendable {
    public var imgSize = 224
    public var patchSize = 16
    public var inChans = 3
    public var embedDim = 768
    public var depth = 12
    public var numHeads = 12
    public var mlpRatio: Float = 4
    public var qkvBias = true
    public var classToken = true
    /// "token" (CLS), "avg" (mean of patch tokens) or "" (no pooling).
    public var globalPool = "token"
    /// nil = timm's default: a norm after pooling exactly when pooling is "avg".
    public var fcNorm: Bool?
    public var preNorm = false
    public var normEps: Float = 1e-6
    public var actLayer: Activation = .gelu
    /// LayerScale initial value; nil = no LayerScale.
    public var initValues: Float?
    /// 0 = no head (features only).
    public var numClasses = 1000
    public var dropPathRate: Float = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case imgSize = "img_size", patchSize = "patch_size", inChans = "in_chans", embedDim = "embed_dim", depth
        case numHeads = "num_heads", mlpRatio = "mlp_ratio", qkvBias = "qkv_bias", classToken = "class_token"
        case globalPool = "global_pool", fcNorm = "fc_norm", preNorm = "pre_norm", normEps = "norm_eps"
        case actLayer = "act_layer", initValues = "init_values", numClasses = "num_classes", dropPathRate = "drop_path_rate"
    }

    public var usesFcNorm: Bool { fcNorm ?? (globalPool == "avg") }
    public var gridSize: Int { imgSize / patchSize }
    public var prefixTokens: Int { classToken ? 1 : 0 }
    public var tokenCount: Int { prefixTokens + gridSize * gridSize }
    public var headDim: Int { embedDim / numHeads }
    public var mlpHidden: Int { Int(Float(embedDim) * mlpRatio) }

    /// Checks the values a user can get wrong, naming the field.
    public func validate() throws {
        func bad(_ field: String, _ value: Any, _ expectation: String) -> ModelConfigError {
            ModelConfigError("\(field) = \(value): \(expectation)")
        }
        if imgSize <= 0 { throw bad("img_size", imgSize, "must be positive") }
        if patchSize <= 0 || imgSize % patchSize != 0 { throw bad("patch_size", patchSize, "must divide img_size \(imgSize)") }
        if embedDim <= 0 || depth <= 0 || inChans <= 0 { throw bad("embed_dim/depth/in_chans", (embedDim, depth, inChans), "must be positive") }
        if numHeads <= 0 || embedDim % numHeads != 0 { throw bad("num_heads", numHeads, "must divide embed_dim \(embedDim)") }
        if mlpRatio <= 0 { throw bad("mlp_ratio", mlpRatio, "must be positive") }
        if !["token", "avg", ""].contains(globalPool) { throw bad("global_pool", globalPool, "must be 'token', 'avg' or ''") }
        if globalPool == "token" && !classToken { throw bad("global_pool", globalPool, "'token' pooling needs class_token") }
        if numClasses < 0 { throw bad("num_classes", numClasses, "must be ≥ 0") }
        if !(0..<1).contains(dropPathRate) { throw bad("drop_path_rate", dropPathRate, "must be in [0, 1)") }
        if !(normEps > 0) { throw bad("norm_eps", normEps, "must be positive") }
    }
}

public struct ModelConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension VisionTransformerConfig {
    /// timm's named architectures (a pretrained tag after a dot is ignored:
    /// `vit_base_patch16_224.orig_in21k` → `vit_base_patch16_224`).
    public static func preset(_ name: String) throws -> VisionTransformerConfig {
        let base = String(name.split(separator: ".").first ?? "")
        guard let make = presets[base] else {
            throw ModelConfigError("unknown model '\(name)'; known: \(presets.keys.sorted().joined(separator: ", "))")
        }
        return make()
    }

    public static var presetNames: [String] { presets.keys.sorted() }

    private static func vit(_ patch: Int, _ dim: Int, _ depth: Int, _ heads: Int, img: Int = 224,
                            _ adjust: @escaping (inout VisionTransformerConfig) -> Void = { _ in }) -> () -> VisionTransformerConfig {
        {
            var c = VisionTransformerConfig()
            (c.patchSize, c.embedDim, c.depth, c.numHeads, c.imgSize) = (patch, dim, depth, heads, img)
            adjust(&c)
            return c
        }
    }

    private static let clip: (inout VisionTransformerConfig) -> Void = { $0.preNorm = true; $0.normEps = 1e-5 }
    /// timm registers the DINOv2 weights without a classifier.
    private static let dinov2: (inout VisionTransformerConfig) -> Void = { $0.initValues = 1e-5; $0.numClasses = 0 }
    private static let clipQuickGelu: (inout VisionTransformerConfig) -> Void = { clip(&$0); $0.actLayer = .quickGelu }

    private static let presets: [String: () -> VisionTransformerConfig] = [
        "vit_tiny_patch16_224": vit(16, 192, 12, 3),
        "vit_tiny_patch16_384": vit(16, 192, 12, 3, img: 384),
        "vit_small_patch16_224": vit(16, 384, 12, 6),
        "vit_small_patch32_224": vit(32, 384, 12, 6),
        "vit_small_patch16_384": vit(16, 384, 12, 6, img: 384),
        "vit_base_patch16_224": vit(16, 768, 12, 12),
        "vit_base_patch32_224": vit(32, 768, 12, 12),
        "vit_base_patch16_384": vit(16, 768, 12, 12, img: 384),
        "vit_base_patch8_224": vit(8, 768, 12, 12),
        "vit_large_patch16_224": vit(16, 1024, 24, 16),
        "vit_large_patch32_224": vit(32, 1024, 24, 16),
        "vit_large_patch14_224": vit(14, 1024, 24, 16),
        "vit_huge_patch14_224": vit(14, 1280, 32, 16),
        // DINOv2 (LayerScale; the position table is 37×37 for 518 px, resampled for other sizes).
        "vit_small_patch14_dinov2": vit(14, 384, 12, 6, img: 518, dinov2),
        "vit_base_patch14_dinov2": vit(14, 768, 12, 12, img: 518, dinov2),
        "vit_large_patch14_dinov2": vit(14, 1024, 24, 16, img: 518, dinov2),
        "vit_base_patch16_clip_224": vit(16, 768, 12, 12, clip),
        "vit_base_patch32_clip_224": vit(32, 768, 12, 12, clip),
        "vit_large_patch14_clip_224": vit(14, 1024, 24, 16, clip),
        "vit_base_patch16_clip_quickgelu_224": vit(16, 768, 12, 12, clipQuickGelu),
        "vit_base_patch32_clip_quickgelu_224": vit(32, 768, 12, 12, clipQuickGelu),
        "vit_large_patch14_clip_quickgelu_224": vit(14, 1024, 24, 16, clipQuickGelu),
    ]
}
