import NN
import Tensor

/// UPerNet's decode head (Xiao et al., ECCV 2018), as Hugging Face's `UperNetHead` (and mmseg's
/// `UPerHead`) define it, over backbone maps of falling resolution:
///
///     laterals_i = lateral_conv_i(x_i)               (1×1, every map but the last)
///     laterals_last = bottleneck(cat[x_last, PPM(x_last)])          (3×3)
///     top-down: laterals_{i−1} += bilinear(laterals_i → size of laterals_{i−1})
///     outs_i = fpn_conv_i(laterals_i) (3×3), outs_last = laterals_last
///     logits = classifier(fpn_bottleneck(cat[bilinear(outs_i → size of outs_0)]))   (3×3, then 1×1)
///
/// Every conv but the classifier is conv–BN–ReLU; bilinear is align_corners=False. HF has no
/// dropout before the classifier (mmseg's `dropout_ratio` 0.1); neither has this head.
public final class UperNetHead: HeadModule {
    public let pyramidPooling: PyramidPoolingModule
    public let bottleneck: ConvNormReLU
    public let lateralConvs: [ConvNormReLU]
    public let fpnConvs: [ConvNormReLU]
    public let fpnBottleneck: ConvNormReLU
    public let classifier: Conv2d

    /// `inChannels`: the channels of each backbone map, highest resolution first.
    public init(_ config: UperNetConfig, inChannels: [Int], using rng: inout SeededRandom) {
        let c = config.hiddenSize, last = inChannels[inChannels.count - 1]
        pyramidPooling = PyramidPoolingModule(scales: config.poolScales, inChannels: last, channels: c, using: &rng)
        bottleneck = ConvNormReLU(last + config.poolScales.count * c, c, kernel: 3, padding: 1, using: &rng)
        lateralConvs = inChannels.dropLast().map { ConvNormReLU($0, c, kernel: 1, using: &rng) }
        fpnConvs = inChannels.dropLast().map { _ in ConvNormReLU(c, c, kernel: 3, padding: 1, using: &rng) }
        fpnBottleneck = ConvNormReLU(inChannels.count * c, c, kernel: 3, padding: 1, using: &rng)
        classifier = pointwiseClassifier(c, config.numLabels, using: &rng)
    }

    /// Logits [B, labels, H₀, W₀] at the resolution of the first (finest) map.
    public func callAsFunction(_ features: [Tensor]) -> Tensor {
        precondition(features.count == lateralConvs.count + 1, "UperNetHead: \(features.count) maps for a head built for \(lateralConvs.count + 1)")
        var laterals = zip(lateralConvs, features).map { conv, x in conv(x) }
        let last = features[features.count - 1]
        laterals.append(bottleneck(concat([last] + pyramidPooling(last), dim: 1)))
        for i in stride(from: laterals.count - 1, to: 0, by: -1) {
            laterals[i - 1] = laterals[i - 1] + resize(laterals[i], to: spatialSize(laterals[i - 1]), filter: .bilinear)
        }
        var outs = zip(fpnConvs, laterals).map { conv, x in conv(x) }
        outs.append(laterals[laterals.count - 1])
        let size = spatialSize(outs[0])
        for i in 1..<outs.count { outs[i] = resize(outs[i], to: size, filter: .bilinear) }
        return classifier(fpnBottleneck(concat(outs, dim: 1)))
    }

    public var convModules: [(name: String, module: ConvNormReLU)] {
        pyramidPooling.convModules.map { ("psp_modules.\($0.name)", $0.module) } + [("bottleneck", bottleneck)]
            + lateralConvs.enumerated().map { ("lateral_convs.\($0.offset)", $0.element) }
            + fpnConvs.enumerated().map { ("fpn_convs.\($0.offset)", $0.element) } + [("fpn_bottleneck", fpnBottleneck)]
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("classifier", classifier) + convModules.flatMap { prefixed($0.name, $0.module) }
    }
}

/// The [H, W] of an NCHW map.
func spatialSize(_ x: Tensor) -> (height: Int, width: Int) { (x.shape[2], x.shape[3]) }

/// A 1×1 conv with bias from `channels` to `labels`, PyTorch's default init.
func pointwiseClassifier(_ channels: Int, _ labels: Int, using rng: inout SeededRandom) -> Conv2d {
    let bound = 1 / Float(channels).squareRoot()
    return Conv2d(weight: Tensor.uniform([labels, channels, 1, 1], low: -bound, high: bound, using: &rng),
                  bias: Tensor.uniform([labels], low: -bound, high: bound, using: &rng))
}
