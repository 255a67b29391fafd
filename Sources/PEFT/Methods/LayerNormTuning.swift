import Models
import Tensor

/// LN-tune — only the LayerNorm affine parameters train.
/// Sites: norm(l, norm1/norm2) and the final norm (and norm_pre in CLIP-style models).
/// Params: ViT-B/16 12·4·768 + 2·768 = 38,400. The trained values live in the backbone itself.
public struct LayerNormTuning: PEFTMethod {
    public static let name = "ln_tune"
    public static let summary = "LN-tune: only the LayerNorm scales and shifts train"
    public static let sites = "norm(all)"
    public static let mergeable = true
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        model.unfreeze { name in
            let module = name.split(separator: ".").dropLast().last ?? ""
            return ["norm1", "norm2", "norm", "fc_norm", "norm_pre"].contains(module)
        }
    }

    public func merge(into model: PEFTModel) throws {}
}
