import Foundation

/// How images must be prepared for a pre-trained backbone — the part of timm's `pretrained_cfg`
/// that decides its accuracy besides the input size (`Backbone.inputSize`): the per-channel
/// statistics its pixels were normalised with, the resampling filter and the centre-crop
/// fraction for evaluation.
/// Every preset and loader attaches one (a hub folder's `pretrained_cfg` wins over the preset's),
/// and `predict`, `train`, `eval` and `viz` use it unless told otherwise, because a model fed
/// another normalisation still answers, only worse (EfficientNet-Lite0 with ImageNet statistics
/// gives espresso 77.9 % on coffee.png instead of 95.1 %).
public struct Preprocessing: Codable, Equatable, Sendable {
    /// `(x − mean) / std` on [0, 1] pixels, per RGB channel.
    public var mean: [Float]
    public var std: [Float]
    /// "bicubic" or "bilinear".
    public var interpolation: String
    /// Evaluation: resize the short side to inputSize / cropFraction, then centre-crop inputSize.
    public var cropFraction: Float
    /// Where these values come from, for messages and records ("timm vit_base_patch16_224 default").
    public var source: String

    public init(mean: [Float], std: [Float], interpolation: String, cropFraction: Float, source: String) {
        (self.mean, self.std, self.interpolation, self.cropFraction, self.source) = (mean, std, interpolation, cropFraction, source)
    }

    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406], imagenetStd: [Float] = [0.229, 0.224, 0.225]
    public static let inceptionMean: [Float] = [0.5, 0.5, 0.5], inceptionStd: [Float] = [0.5, 0.5, 0.5]
    public static let openAIClipMean: [Float] = [0.48145466, 0.4578275, 0.40821073], openAIClipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]
    /// EfficientNet-Lite's (x − 127) / 128 on 0–255 pixels, as [0, 1] statistics.
    public static let efficientNetMean: [Float] = [127 / 255, 127 / 255, 127 / 255], efficientNetStd: [Float] = [128 / 255, 128 / 255, 128 / 255]

    /// A name for the statistics when they are a known set: imagenet, inception, clip,
    /// efficientnet; otherwise "custom".
    public var normalizationName: String {
        switch (mean, std) {
        case (Self.imagenetMean, Self.imagenetStd): return "imagenet"
        case (Self.inceptionMean, Self.inceptionStd): return "inception"
        case (Self.openAIClipMean, Self.openAIClipStd): return "clip"
        case (Self.efficientNetMean, Self.efficientNetStd): return "efficientnet"
        default: return "custom"
        }
    }

    /// The short side images are resized to before a centre crop of `inputSize`: timm's
    /// `floor(size / crop_pct)`, guarded against a quotient that lands a hair under an integer
    /// (240 / (240 / 272) = 271.99997 in Float).
    public func resizeSize(for inputSize: Int) -> Int {
        Int((Double(inputSize) / Double(cropFraction) + 1e-4).rounded(.down))
    }

    /// Overrides from a timm hub `config.json`'s `pretrained_cfg` (mean, std, interpolation,
    /// crop_pct; its input_size sets the model's size elsewhere); a present key with a wrong value
    /// is an error naming it.
    func overridden(byPretrainedConfig json: [String: Any], _ values: HubConfigValues) throws -> Preprocessing {
        guard let cfg = json["pretrained_cfg"] as? [String: Any] else { return self }
        func bad(_ key: String, _ expectation: String) -> ModelConfigError {
            values.error("pretrained_cfg.\(key) = \(cfg[key].map { "\($0)" } ?? "nil"): \(expectation)")
        }
        var result = self
        for key in ["mean", "std"] where cfg[key] != nil {
            guard let numbers = cfg[key] as? [NSNumber], numbers.count == 3, numbers.allSatisfy({ $0.floatValue.isFinite }),
                  key == "mean" || numbers.allSatisfy({ $0.floatValue > 0 }) else {
                throw bad(key, key == "mean" ? "must be 3 finite numbers" : "must be 3 positive numbers")
            }
            if key == "mean" { result.mean = numbers.map(\.floatValue) } else { result.std = numbers.map(\.floatValue) }
        }
        if let interpolation = cfg["interpolation"] {
            guard let name = interpolation as? String, ["bicubic", "bilinear"].contains(name) else { throw bad("interpolation", "must be bicubic or bilinear") }
            result.interpolation = name
        }
        if let crop = cfg["crop_pct"] {
            guard let c = crop as? NSNumber, c.floatValue > 0, c.floatValue <= 1 else { throw bad("crop_pct", "must be in (0, 1]") }
            result.cropFraction = c.floatValue
        }
        result.source = "\(values.file) pretrained_cfg"
        return result
    }
}

extension Preprocessing {
    /// timm's `vit_*_patch14_dinov2` pretrained_cfg: ImageNet statistics, bicubic, no crop.
    public static let dinov2 = Preprocessing(mean: imagenetMean, std: imagenetStd, interpolation: "bicubic", cropFraction: 1, source: "timm's DINOv2 default")
}

extension VisionTransformerConfig {
    /// The preprocessing of a timm preset name: DINOv2's for `…_dinov2`, else `defaultPreprocessing`.
    public static func preprocessing(ofPreset name: String, _ config: VisionTransformerConfig) -> Preprocessing {
        name.split(separator: ".").first?.hasSuffix("_dinov2") == true ? .dinov2 : config.defaultPreprocessing
    }

    /// timm's ViT default (`vision_transformer._cfg`): Inception statistics (0.5, 0.5), bicubic,
    /// crop 0.9; CLIP towers (pre-norm): OpenAI's CLIP statistics, crop 1.0.
    public var defaultPreprocessing: Preprocessing {
        preNorm
            ? Preprocessing(mean: Preprocessing.openAIClipMean, std: Preprocessing.openAIClipStd, interpolation: "bicubic", cropFraction: 1, source: "timm's CLIP ViT default")
            : Preprocessing(mean: Preprocessing.inceptionMean, std: Preprocessing.inceptionStd, interpolation: "bicubic", cropFraction: 0.9, source: "timm's ViT default")
    }
}

extension SwinTransformerConfig {
    /// timm's Swin default: ImageNet statistics, bicubic, crop 0.9 (1.0 for the 384 px models).
    public var defaultPreprocessing: Preprocessing {
        Preprocessing(mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd, interpolation: "bicubic",
                      cropFraction: imgSize >= 384 ? 1 : 0.9, source: "timm's Swin default")
    }
}

extension EfficientNetLiteConfig {
    /// The TF EfficientNet-Lite evaluation the weights come from: (x − 127) / 128, bicubic, the
    /// short side resized to the input size + 32 before the centre crop (224 → 256).
    public var defaultPreprocessing: Preprocessing {
        Preprocessing(mean: Preprocessing.efficientNetMean, std: Preprocessing.efficientNetStd, interpolation: "bicubic",
                      cropFraction: Float(imageSize) / Float(imageSize + 32), source: "TF EfficientNet-Lite evaluation")
    }
}
