import Models
import Tensor

/// LN-tune (norm tuning) — only the normalisation layers' affine parameters train.
/// Backbones: transformer blocks (ViT, Swin), EfficientNet-Lite (others are refused by name).
/// Also registered as `norm_tune` (an alias: adapter files record `ln_tune`).
/// Block backbones: every LayerNorm outside the head — each block's norm1/norm2, the final norm,
/// and the norms between blocks (ViT: norm_pre in CLIP-style models; Swin: patch_embed.norm and
/// each patch merging's norm). Params: ViT-B/16 12·4·768 + 2·768 = 38,400.
/// EfficientNet-Lite: every BatchNorm's weight and bias (γ, β; the running statistics stay
/// frozen — BN runs in inference form). Params = 2·Σ BN channels; Lite0: 2·21,008 = 42,016.
/// The trained values live in the backbone itself.
public struct LayerNormTuning: PEFTMethod {
    public static let name = "ln_tune"
    public static let summary = "LN-tune: only the LayerNorm (CNN: BatchNorm) scales and shifts train"
    public static let sites = "norm(all)"
    public static let mergeable = true
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        switch try model.family(for: Self.name) {
        case .transformer:
            // timm names every LayerNorm of these backbones by one of these module names.
            model.unfreeze { name in
                let module = name.split(separator: ".").dropLast().last ?? ""
                return ["norm1", "norm2", "norm", "fc_norm", "norm_pre"].contains(module)
            }
        case .efficientNet(let net):
            for (_, norm) in try model.batchNorms(of: net, for: Self.name) { norm.setTrainable(true) }
        }
    }

    public func merge(into model: PEFTModel) throws {}
}
