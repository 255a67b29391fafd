import NN
import Tensor

extension EfficientNetLite {
    /// Folds every BatchNorm into the convolution before it — W′[o] = W[o] · scale[o],
    /// b′[o] = shift[o] with BN(y) = y · scale + shift — and removes the BNs. Inference-form BN
    /// is an affine map per channel, so the output is unchanged (up to float rounding) while
    /// 49 memory passes over the activations (lite0) disappear: a frozen backbone that PEFT
    /// only reads (linear probes, side networks, cached features) runs faster.
    ///
    /// The folded model no longer has the checkpoint's BN names (its convs gain `.bias`), and
    /// sites on the BNs are gone: fold before attaching PEFT hooks. Folding a model whose BNs
    /// carry hooks is an error naming the first, since the hooks would silently stop running.
    public func foldBatchNorm() throws {
        if let hooked = batchNorms.first(where: { !$0.layer.hooks.isEmpty }) {
            throw ModelConfigError("cannot fold \(hooked.name) into its convolution: it has \(hooked.layer.hooks.count) PEFT hook(s)")
        }
        if let bn0 { fold(bn0, into: convStem) }
        bn0 = nil
        for block in blocks {
            for pair in block.convNormPairs { if let norm = pair.normLayer { fold(norm, into: pair.convLayer) } }
            (block.bn0, block.bn1, block.bn2) = (nil, nil, nil)
        }
        if let bn1 { fold(bn1, into: convHead) }
        bn1 = nil
    }

    /// True once `foldBatchNorm()` has run.
    public var isFolded: Bool { batchNorms.isEmpty }
}

/// Replaces `conv`'s weight and bias by fresh tensors with `norm` folded in; they keep the
/// trainable flags of the tensors they replace.
private func fold(_ norm: BatchNorm2d, into conv: Conv2d) {
    let (scale, shift) = norm.scaleAndShift
    let outChannels = conv.weight.shape[0], perChannel = conv.weight.count / outChannels
    precondition(outChannels == norm.channels, "foldBatchNorm: conv \(conv.weight.shape) does not feed a \(norm.channels)-channel BatchNorm")
    let weight = Tensor(uninitializedShape: conv.weight.shape)
    let bias = Tensor(uninitializedShape: [outChannels])
    for o in 0..<outChannels {
        for i in 0..<perChannel { weight.data[o * perChannel + i] = conv.weight.data[o * perChannel + i] * scale[o] }
        bias.data[o] = shift[o] + (conv.bias.map { $0.data[o] * scale[o] } ?? 0)
    }
    weight.requiresGrad = conv.weight.requiresGrad
    bias.requiresGrad = conv.bias?.requiresGrad ?? conv.weight.requiresGrad
    conv.weight = weight
    conv.bias = bias
}
