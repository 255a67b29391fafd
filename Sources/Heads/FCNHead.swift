import NN
import Tensor

/// The auxiliary FCN head (Long et al., CVPR 2015) UPerNet trains beside its decode head, as
/// Hugging Face's `UperNetFCNHead`: on backbone map `inIndex` (stride 16), `numConvs` 3×3
/// conv–BN–ReLU modules (`convs.{i}`; none = identity), optionally `conv_cat` over
/// cat[input, output], then a 1×1 `classifier`. Its loss joins the main one with weight 0.4;
/// at inference it is unused.
public final class FCNHead: HeadModule {
    public let inIndex: Int
    public let convs: [ConvNormReLU]
    public let convCat: ConvNormReLU?
    public let classifier: Conv2d

    public init(_ config: UperNetConfig, inChannels: [Int], using rng: inout SeededRandom) {
        inIndex = config.auxiliaryInIndex
        let input = inChannels[inIndex], c = config.auxiliaryChannels
        convs = (0..<config.auxiliaryNumConvs).map { ConvNormReLU($0 == 0 ? input : c, c, kernel: 3, padding: 1, using: &rng) }
        convCat = config.auxiliaryConcatInput ? ConvNormReLU(input + c, c, kernel: 3, padding: 1, using: &rng) : nil
        classifier = pointwiseClassifier(c, config.numLabels, using: &rng)  // HF: from auxiliary_channels even without convs
    }

    /// Logits [B, labels, H, W] at the resolution of map `inIndex`.
    public func callAsFunction(_ features: [Tensor]) -> Tensor {
        let x = features[inIndex]
        var y = convs.reduce(x) { $1($0) }
        if let convCat { y = convCat(concat([x, y], dim: 1)) }
        return classifier(y)
    }

    public var convModules: [(name: String, module: ConvNormReLU)] {
        convs.enumerated().map { ("convs.\($0.offset)", $0.element) } + (convCat.map { [("conv_cat", $0)] } ?? [])
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        convModules.flatMap { prefixed($0.name, $0.module) } + prefixed("classifier", classifier)
    }
}
