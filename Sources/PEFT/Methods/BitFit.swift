import Models
import Tensor

/// BitFit — Ben Zaken et al., ACL 2022. Only the bias terms train.
/// Sites: every backbone bias (patch embedding, norm1, qkv, proj, norm2, fc1, fc2, final norm).
/// Params: ViT-B/16 12·8,448 + 2·768 = 102,912. The trained biases live in the backbone itself.
public struct BitFit: PEFTMethod {
    public static let name = "bitfit"
    public static let summary = "BitFit: only the bias terms train"
    public static let sites = "linear(all).bias, norm(all).bias"
    public static let mergeable = true
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        model.unfreeze { $0.hasSuffix(".bias") }
    }

    public func merge(into model: PEFTModel) throws {}
}
