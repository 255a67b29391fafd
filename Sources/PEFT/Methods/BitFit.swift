import Models
import Tensor

/// BitFit — Ben Zaken et al., ACL 2022. Only the bias terms train.
/// Backbones: any (it unfreezes every backbone tensor named `*.bias`).
/// ViT sites: every backbone bias (patch embedding, norm1, qkv, proj, norm2, fc1, fc2, final
/// norm). Params: ViT-B/16 12·8,448 + 2·768 = 102,912.
/// EfficientNet-Lite: its convolutions have no bias (each is followed by a BatchNorm), so the
/// trainable biases are the BatchNorm biases (β of `_bn0`, every block's `_bn0/_bn1/_bn2`, `_bn1`)
/// — the per-channel shifts after every conv — plus the classifier's. Params = Σ BN channels =
/// stem + Σ_blocks (hidden·[expand] + hidden + out) + features; Lite0: 21,008. (On a backbone
/// whose BNs were folded the same shifts are the conv biases.)
/// The trained biases live in the backbone itself.
public struct BitFit: PEFTMethod {
    public static let name = "bitfit"
    public static let summary = "BitFit: only the bias terms train"
    public static let sites = "linear(all).bias, norm(all).bias · CNN: BatchNorm biases"
    public static let mergeable = true
    /// Also train Swin's relative position bias tables (`attn.relative_position_bias_table`): the
    /// dense-prediction code released with Mona selects every parameter whose name contains
    /// "bias", which takes them in; that is how the paper's Table VI counts BitFit (0.20M on Swin-B).
    public var relativePositionBias = false
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        if relativePositionBias && !backbone.namedParameters.contains(where: { $0.name.hasSuffix(Self.tableSuffix) }) {
            throw MethodOptionError("bitfit: relative_position_bias = true, but this backbone (\(backbone.architecture)) has no relative position bias tables (Swin has)")
        }
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        model.unfreeze { $0.hasSuffix(".bias") || (relativePositionBias && $0.hasSuffix(Self.tableSuffix)) }
    }

    private static let tableSuffix = ".relative_position_bias_table"

    public func merge(into model: PEFTModel) throws {}
}
