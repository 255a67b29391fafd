import Models
import NN
import Tensor

/// SSF — Lian et al., NeurIPS 2022. Scale and shift after every operation: y ← γ ⊙ y + β.
/// Backbones: transformer blocks (ViT, Swin), EfficientNet-Lite (others are refused by name).
/// Block backbones: the patch embedding conv, the norms outside the blocks (Swin: patch_embed.norm
/// and each patch merging's norm — where SSF's Swin release puts them, so they fold into the norm),
/// per block norm1, qkv, proj, norm2, fc1, fc2 at the block's width, and the final norm.
/// Params: ViT-B/16 12·16,896 + 2·1,536 = 205,824; per block 2·(C + 3C + C + C + 4C + C) = 22C.
/// EfficientNet-Lite sites: after every BatchNorm (every conv's BN: `_bn0`, each block's
/// `_bn0/_bn1/_bn2`, `_bn1`; channel axis 1), named `<bn>.ssf_scale/ssf_shift`, and on the
/// pooled features before dropout and the classifier (`features.ssf_scale/ssf_shift`).
/// Params = 2·Σ BN channels + 2·features; Lite0: 2·21,008 + 2·1,280 = 44,576.
/// Init: γ ~ N(1, 0.02), β ~ N(0, 0.02). Mergeable: into the preceding linear / conv (rows
/// scaled, bias γb + β) or norm (LayerNorm / BatchNorm affine: weight γw, bias γb + β); the
/// pooled-feature pair into the classifier (W ← W·diag(γ), b ← b + W·β).
public struct SSF: PEFTMethod {
    public static let name = "ssf"
    public static let summary = "SSF (Lian et al. 2022): scale and shift features after every operation"
    public static let sites = "linear(all), norm(all), patch embedding · CNN: every BatchNorm, pooled features"
    public static let mergeable = true
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        func install(_ name: String, _ channels: Int, channelAxis: Int = -1) -> ScaleShift {
            ScaleShift(scale: model.register("\(name).ssf_scale", Tensor.normal([channels], mean: 1, std: 0.02, using: &rng)),
                       shift: model.register("\(name).ssf_shift", Tensor.normal([channels], std: 0.02, using: &rng)),
                       channelAxis: channelAxis)
        }
        switch try model.family(for: Self.name) {
        case .transformer(let blocks):
            func scaleShift(_ name: String, on layer: TokenLayer) {
                switch layer {
                case .conv(let conv): conv.hooks.append(install(name, conv.weight.shape[0], channelAxis: 1))
                case .norm(let norm): norm.hooks.append(install(name, norm.weight.count))
                case .linear(let linear): linear.hooks.append(install(name, linear.outFeatures))
                }
            }
            // The layers outside the blocks, then the blocks, then the output norm: a ViT's forward
            // order (and the order its init draws were always made in).
            let outside = Self.layersOutsideBlocks(of: model.backbone), output = model.backbone.outputNorm?.name
            for (name, layer) in outside where name != output { scaleShift(name, on: layer) }
            for block in blocks {
                for (name, layer) in [("norm1", TokenLayer.norm(block.norm1)), ("attn.qkv", .linear(block.qkv)), ("attn.proj", .linear(block.proj)),
                                      ("norm2", .norm(block.norm2)), ("mlp.fc1", .linear(block.fc1)), ("mlp.fc2", .linear(block.fc2))] {
                    scaleShift(block.name(name), on: layer)
                }
            }
            for (name, layer) in outside where name == output { scaleShift(name, on: layer) }
        case .efficientNet(let net):
            for (name, norm) in try model.batchNorms(of: net, for: Self.name) {
                norm.hooks.append(install(name, norm.channels, channelAxis: 1))
            }
            net.featureHooks.append(install("features", net.numFeatures))
        }
    }

    public func merge(into model: PEFTModel) throws {
        switch try model.family(for: Self.name) {
        case .transformer(let blocks):
            var norms = blocks.flatMap { [$0.norm1, $0.norm2] }
            for (name, layer) in Self.layersOutsideBlocks(of: model.backbone) {
                switch layer {
                case .norm(let norm): norms.append(norm)
                case .conv(let conv):
                    for case let hook as ScaleShift in conv.hooks {
                        guard let bias = conv.bias else { throw MethodOptionError("ssf: cannot merge the shift of \(name): the convolution has no bias") }
                        hook.fold(weight: conv.weight, bias: bias)
                    }
                    conv.hooks = []
                case .linear: break
                }
            }
            for norm in norms {
                for case let hook as ScaleShift in norm.hooks { hook.fold(weight: norm.weight, bias: norm.bias) }
                norm.hooks = []
            }
            try model.foldLinearHooks()
        case .efficientNet(let net):
            for (_, norm) in net.batchNorms {
                for case let hook as ScaleShift in norm.hooks { hook.fold(weight: norm.weight, bias: norm.bias) }
                norm.hooks = []
            }
            guard let head = net.head, let bias = head.bias else {
                throw MethodOptionError("ssf: cannot merge the pooled-feature scale and shift: the model has no classifier with a bias")
            }
            for case let hook as ScaleShift in net.featureHooks { hook.foldBefore(weight: head.weight, bias: bias) }
            net.featureHooks = []
        }
    }
}

extension SSF {
    /// The layers outside the blocks SSF scales: the patch conv and the norms. Patch merging's
    /// bias-free reduction is left out (SSF's Swin release scales the merge's norm instead, which
    /// keeps every pair foldable).
    static func layersOutsideBlocks(of backbone: any Backbone) -> [(name: String, layer: TokenLayer)] {
        backbone.tokenLayers.filter { if case .linear = $0.layer { return false } else { return true } }
    }
}

/// γ ⊙ y + β along one channel axis (the last, or axis 1 for NCHW convolution outputs).
final class ScaleShift: LayerHook {
    let scale: Tensor, shift: Tensor, channelAxis: Int
    init(scale: Tensor, shift: Tensor, channelAxis: Int) { (self.scale, self.shift, self.channelAxis) = (scale, shift, channelAxis) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let y = next(x)
        if channelAxis == -1 || channelAxis == y.rank - 1 { return y * scale + shift }
        var shape = [Int](repeating: 1, count: y.rank - channelAxis)
        shape[0] = scale.count
        return y * scale.reshaped(shape) + shift.reshaped(shape)
    }

    /// Folds into a linear layer that reads γ ⊙ x + β (`weight` [out, in], in = channels):
    /// W ← W·diag(γ), b ← b + W·β (with the old W).
    func foldBefore(weight: Tensor, bias: Tensor) {
        let (out, n) = (weight.shape[0], weight.shape[1])
        precondition(n == scale.count, "ScaleShift.foldBefore: \(weight.shape) does not read \(scale.count) channels")
        for o in 0..<out {
            var shifted: Double = 0
            for i in 0..<n {
                shifted += Double(weight.data[o * n + i]) * Double(shift.data[i])
                weight.data[o * n + i] *= scale.data[i]
            }
            bias.data[o] += Float(shifted)
        }
    }

    /// Folds into a layer whose output channel c is row c of `weight` (any rank) plus bias[c].
    func fold(weight: Tensor, bias: Tensor) {
        let perChannel = weight.count / scale.count
        for c in 0..<scale.count {
            for i in 0..<perChannel { weight.data[c * perChannel + i] *= scale.data[c] }
            bias.data[c] = bias.data[c] * scale.data[c] + shift.data[c]
        }
    }
}
