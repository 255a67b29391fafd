import Models
import NN
import Tensor

/// VPT-shallow — Jia et al., ECCV 2022. p learned prompt tokens join the sequence after the
/// position embedding: x = [CLS, P, patches] (prompts get no position embedding).
/// Backbones: ViT only (its prompts join one global token sequence): a CNN and Swin are refused by
/// name ("vpt_shallow is defined for ViT backbones (…); this backbone is …").
/// Sites: tokens; final (prompts removed before pooling, so average pooling sees only patches;
/// CLS pooling is unaffected). Init: U(±v), v = √(6/(3·patch² + d)) (0.0625 for ViT-B/16; the
/// benchmark code used √(6/768)). Params: p·d; ViT-B/16, p = 100: 76,800.
public struct VPTShallow: PEFTMethod {
    public static let name = "vpt_shallow"
    public static let summary = "VPT-shallow (Jia et al. 2022): prompt tokens at the input"
    public static let sites = "tokens"
    public static let mergeable = false
    public var prompts = 100
    public var dropout: Float = 0
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try validatePrompts(Self.name, prompts, dropout)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name, because: "prompt tokens join one global token sequence; a windowed backbone (Swin) has no such sequence")
        let tokens = model.register("prompt.tokens", promptInit(vit.config, prompts, using: &rng))
        installPrompts(vit, model, first: tokens, deep: [:], dropout: dropout)
    }
}
