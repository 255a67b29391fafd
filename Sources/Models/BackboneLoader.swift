import Foundation

/// What the CLI's `--model` / `--weights` and friends ask a backbone family to load.
public struct BackboneRequest: Sendable {
    public var model: String
    public var weights: URL?
    /// Resamples a ViT's position embedding, sets a Swin's input size; a CNN takes any size as it is.
    public var imgSize: Int?
    public var numClasses: Int?
    public var seed: UInt64
}

/// One family of backbones: which `--model` names are its own, and how to load them.
public struct BackboneFamilyLoader: Sendable {
    public let name: String
    /// Whether `model` (a preset name, a folder, a file) names a model of this family. Throws
    /// only for a source that is this family's but broken (a Swin config.json with a bad value).
    public let claims: @Sendable (BackboneRequest) throws -> Bool
    public let load: @Sendable (BackboneRequest) throws -> any Backbone
}

/// Loads any supported backbone by the CLI's `--model` name: the first family in `families` that
/// claims the name loads it. A new backbone is one entry here (and its own files) — no command and
/// no PEFT method changes.
public enum BackboneLoader {
    public static let families: [BackboneFamilyLoader] = [
        // A DINOv2 ONNX export: a `.onnx` file with its own weights and no head.
        BackboneFamilyLoader(name: "DINOv2 (ONNX)", claims: { URL(fileURLWithPath: $0.model).pathExtension.lowercased() == "onnx" }) { r in
            guard r.weights == nil, r.numClasses == nil || r.numClasses == 0 else {
                throw ModelConfigError("\(r.model): an ONNX model brings its own weights and has no head (no --weights, no --num-classes)")
            }
            return try VisionTransformer.loadDINOv2ONNX(URL(fileURLWithPath: r.model), imgSize: r.imgSize)
        },
        // `efficientnet_lite0` … `lite2` presets.
        BackboneFamilyLoader(name: "EfficientNet-Lite", claims: { (try? EfficientNetLiteConfig.preset($0.model)) != nil }) { r in
            try EfficientNetLite.load(model: r.model, weights: r.weights, numClasses: r.numClasses)
        },
        // Its preset, or a Hugging Face folder of model_type `videomae`; clips [B, T, C, H, W].
        BackboneFamilyLoader(name: "VideoMAE", claims: { try VideoMAE.config(forModel: $0.model, numClasses: $0.numClasses) != nil }) { r in
            try VideoMAE.load(model: r.model, weights: r.weights, numClasses: r.numClasses, seed: r.seed)
        },
        // A `swin3d_…` preset (the released Video Swin architectures); clips [B, T, C, H, W].
        BackboneFamilyLoader(name: "Video Swin Transformer", claims: { try VideoSwinTransformer.config(forModel: $0.model) != nil }) { r in
            try VideoSwinTransformer.load(model: r.model, weights: r.weights, imgSize: r.imgSize, numClasses: r.numClasses, seed: r.seed)
        },
        // A `swin_…` preset, or a hub folder / config.json naming a Swin architecture.
        BackboneFamilyLoader(name: "Swin Transformer", claims: { try SwinSource.resolve($0.model, imgSize: $0.imgSize, numClasses: $0.numClasses) != nil }) { r in
            try SwinTransformer.load(model: r.model, weights: r.weights, imgSize: r.imgSize, numClasses: r.numClasses, seed: r.seed)
        },
        // Everything else is read as a ViT (preset, hub folder or config.json), whose errors
        // list the known presets.
        BackboneFamilyLoader(name: "Vision Transformer", claims: { _ in true }) { r in
            try VisionTransformer.load(model: r.model, weights: r.weights, imgSize: r.imgSize, numClasses: r.numClasses, seed: r.seed)
        },
    ]

    public static func load(model: String, weights: URL?, imgSize: Int? = nil, numClasses: Int? = nil, seed: UInt64 = 0) throws -> any Backbone {
        let request = BackboneRequest(model: model, weights: weights, imgSize: imgSize, numClasses: numClasses, seed: seed)
        guard let family = try families.first(where: { try $0.claims(request) }) else {
            throw ModelConfigError("no backbone family claims '\(model)'")
        }
        return try family.load(request)
    }
}
