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
/// Swin and Video Swin with `bias_tables: true`: also every block's relative position bias table —
/// selecting BitFit's tensors by `'bias' in name`, as PyTorch code commonly does, takes them, and
/// only with them do the paper's counts come out (Swin-B 0.20M in Table VI, Video Swin-B 1.09M in
/// Table V; the tables are 31% and 87% of those).
/// The trained biases live in the backbone itself.
public struct BitFit: PEFTMethod {
    public static let name = "bitfit"
    public static let summary = "BitFit: only the bias terms train"
    public static let sites = "linear(all).bias, norm(all).bias · CNN: BatchNorm biases"
    public static let mergeable = true

    /// Also train Swin's and Video Swin's relative position bias tables (`bias_tables`).
    public var biasTables = false
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        model.unfreeze { $0.hasSuffix(".bias") || (biasTables && $0.hasSuffix(".relative_position_bias_table")) }
    }

    public func merge(into model: PEFTModel) throws {}
}
