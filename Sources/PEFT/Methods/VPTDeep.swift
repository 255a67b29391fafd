import Models
import NN
import Tensor

/// VPT-deep — Jia et al., ECCV 2022. Fresh prompts before every block: block 0 gets P₀ inserted
/// as in VPT-shallow; before block l ≥ 1 the previous block's prompt outputs are replaced by P_l.
/// Backbones: ViT only (its prompts join one global token sequence): a CNN and Swin are refused by
/// name ("vpt_deep is defined for ViT backbones (…); this backbone is …").
/// Sites: tokens, blockInput(l). Params: L·p·d = 9,216·p on ViT-B/16 (VPT picks p per dataset
/// from {1, 5, 10, 50, 100, 200}; default 10).
public struct VPTDeep: PEFTMethod {
    public static let name = "vpt_deep"
    public static let summary = "VPT-deep (Jia et al. 2022): fresh prompt tokens before every block"
    public static let sites = "tokens, blockInput(l)"
    public static let mergeable = false
    public var prompts = 10
    public var dropout: Float = 0
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try validatePrompts(Self.name, prompts, dropout)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name, because: "prompt tokens join one global token sequence; a windowed backbone (Swin) has no such sequence")
        var deep: [Int: Tensor] = [:]
        for l in vit.blocks.indices {
            deep[l] = model.register("prompt.deep.\(l)", promptInit(vit.config, prompts, using: &rng))
        }
        installPrompts(vit, model, first: deep[0]!, deep: deep.filter { $0.key > 0 }, dropout: dropout)
    }
}
