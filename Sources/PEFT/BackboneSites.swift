import Models
import NN
import Tensor

/// The backbone families PEFT methods attach to, for methods defined on more than one. A method
/// switches over this and names its sites per family: transformer blocks (any backbone whose
/// `transformerBlocks` are not empty: ViT, Swin) or EfficientNet-Lite's conv sites. Methods
/// defined on blocks only use `PEFTModel.blockSites(for:)`; methods that need one global token
/// sequence (prompt tokens, side networks) use `PEFTModel.vit(for:)`.
///
/// EfficientNet-Lite sites (names as the checkpoint's, `_blocks.3._project_conv`):
///
/// | site | where | methods |
/// |---|---|---|
/// | input | the image entering `_conv_stem` (a hook on the stem conv's input) | visual_prompt |
/// | conv | every `Conv2d` (1×1 `_expand_conv`/`_project_conv`/`_conv_head` are linear maps over channels) | lora, bitfit (biases after folding) |
/// | norm | every `BatchNorm2d` (`_bn0`, `_blocks.i._bn0/1/2`, `_bn1`), output side, channel axis 1 | ln_tune (norm tuning), ssf, bitfit |
/// | block | each `MBConvBlock` whole (input → output, residual included) | adapter |
/// | features | the pooled features before dropout and the classifier | ssf |
/// | head | `_fc`, always trainable | all |
enum BackboneFamily {
    case transformer([any TransformerBlockSite])
    case efficientNet(EfficientNetLite)
}

extension PEFTModel {
    /// The backbone as one of the families `method` is defined for (transformer blocks and
    /// EfficientNet-Lite).
    func family(for method: String) throws -> BackboneFamily {
        if let net = backbone as? EfficientNetLite { return .efficientNet(net) }
        let blocks = backbone.transformerBlocks
        guard !blocks.isEmpty else {
            throw MethodOptionError("\(method) is defined for transformer blocks (ViT, Swin) and EfficientNet-Lite; this backbone is \(backbone.architecture)")
        }
        return .transformer(blocks)
    }

    /// The backbone's transformer blocks, for methods defined on block sites only.
    func blockSites(for method: String) throws -> [any TransformerBlockSite] {
        let blocks = backbone.transformerBlocks
        guard !blocks.isEmpty else {
            throw MethodOptionError("\(method) is defined on transformer blocks (ViT, Swin); this backbone is \(backbone.architecture), which has none")
        }
        return blocks
    }

    /// The backbone as an EfficientNet-Lite whose BatchNorms are still there (the norm sites).
    func batchNorms(of net: EfficientNetLite, for method: String) throws -> [(name: String, layer: BatchNorm2d)] {
        guard !net.isFolded else {
            throw MethodOptionError("\(method): this \(net.architecture) has its BatchNorms folded into the convolutions (foldBatchNorm), so it has no norm sites; attach before folding")
        }
        return net.batchNorms
    }
}

/// The classifier's tensors, by identity (a ViT's `head.*`, EfficientNet's `_fc.*`): the head
/// is trained by every method and left out of "parameters without head" and fingerprints.
func headTensors(of backbone: any Backbone) -> Set<ObjectIdentifier> {
    guard let head = backbone.head else { return [] }
    return Set(head.parameters.map(ObjectIdentifier.init))
}

/// A 1×1 convolution with a 2-D weight [out, in]: the linear map `weight` over the channel axis
/// of an NCHW tensor (LoRA factors on pointwise convolutions).
func pointwise(_ x: Tensor, _ weight: Tensor) -> Tensor {
    conv2d(x, weight.reshaped([weight.shape[0], weight.shape[1], 1, 1]))
}

extension Conv2d {
    /// Whether this is a plain pointwise convolution (1×1 kernel, stride 1, no groups, no padding
    /// in effect): a linear map over channels, the layers weight-delta methods target on CNNs.
    var isPointwise: Bool {
        weight.shape[2] == 1 && weight.shape[3] == 1 && stride == (1, 1) && groups == 1
            && (padding == .same || padding == Padding.none)
    }

    /// Folds the hooks of a pointwise convolution into its weight and bias, valid when the hooked
    /// layer is affine in its input (LoRA): as `Linear.foldHooks`, the new weight and bias are
    /// read off the outputs for the identity (a batch of one-hot 1×1 images) and for zero.
    func foldPointwiseHooks() throws {
        guard !hooks.isEmpty else { return }
        precondition(isPointwise, "foldPointwiseHooks: \(weight.shape) is not a pointwise convolution")
        let n = weight.shape[1], out = weight.shape[0]
        let atIdentity = self(Tensor.eye(n).reshaped([n, n, 1, 1]))       // [in, out, 1, 1] = Wᵀ + b
        let atZero = self(Tensor.zeros([1, n, 1, 1]))                      // [1, out, 1, 1] = b
        let newWeight = (atIdentity - atZero).reshaped([n, out]).transposed()   // [out, in]
        if let bias {
            bias.data.update(from: atZero.data, count: out)
        } else if atZero.scalars.contains(where: { $0 != 0 }) {
            throw MethodOptionError("cannot merge: the method adds a bias to a convolution that has none (\(weight.shape))")
        }
        weight.data.update(from: newWeight.data, count: weight.count)
        hooks = []
    }
}
