import Models
import NN
import Tensor

/// VPT-shallow — Jia et al., ECCV 2022. p learned prompt tokens join the sequence after the
/// position embedding: x = [CLS, P, patches] (prompts get no position embedding).
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

    public func validate(for config: VisionTransformerConfig) throws {
        try validatePrompts(Self.name, prompts, dropout)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let tokens = model.register("prompt.tokens", promptInit(model.backbone.config, prompts, using: &rng))
        installPrompts(model, first: tokens, deep: [:], dropout: dropout)
    }
}

/// VPT-deep — Jia et al., ECCV 2022. Fresh prompts before every block: block 0 gets P₀ inserted
/// as in VPT-shallow; before block l ≥ 1 the previous block's prompt outputs are replaced by P_l.
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

    public func validate(for config: VisionTransformerConfig) throws {
        try validatePrompts(Self.name, prompts, dropout)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        var deep: [Int: Tensor] = [:]
        for l in model.backbone.blocks.indices {
            deep[l] = model.register("prompt.deep.\(l)", promptInit(model.backbone.config, prompts, using: &rng))
        }
        installPrompts(model, first: deep[0]!, deep: deep.filter { $0.key > 0 }, dropout: dropout)
    }
}

private func validatePrompts(_ method: String, _ prompts: Int, _ dropout: Float) throws {
    try MethodOptionError.require(prompts > 0, method, "prompts", prompts, "must be positive")
    try MethodOptionError.require((0..<1).contains(dropout), method, "dropout", dropout, "must be in [0, 1)")
}

private func promptInit(_ c: VisionTransformerConfig, _ prompts: Int, using rng: inout SeededRandom) -> Tensor {
    let v = (6 / Float(3 * c.patchSize * c.patchSize + c.embedDim)).squareRoot()
    return Tensor.uniform([prompts, c.embedDim], low: -v, high: v, using: &rng)
}

private func installPrompts(_ model: PEFTModel, first: Tensor, deep: [Int: Tensor], dropout: Float) {
    let prefix = model.backbone.config.prefixTokens, count = first.shape[0]
    model.backbone.tokenHooks.append(PromptInsertion(prompts: first, after: prefix, dropout: model.dropout, rate: dropout))
    for (l, prompts) in deep {
        model.backbone.blocks[l].hooks.input.append(PromptReplacement(prompts: prompts, at: prefix, dropout: model.dropout, rate: dropout))
    }
    model.backbone.finalHooks.append(PromptRemoval(at: prefix, count: count))
}

/// [x₀…x_{k−1}, P, x_k…]: inserts the prompts after the first `after` tokens.
final class PromptInsertion: TokenHook {
    let prompts: Tensor, after: Int, dropout: DropoutSource, rate: Float
    init(prompts: Tensor, after: Int, dropout: DropoutSource, rate: Float) {
        (self.prompts, self.after, self.dropout, self.rate) = (prompts, after, dropout, rate)
    }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        let p = dropout(prompts, rate).reshaped([1, prompts.shape[0], d]).expanded(to: [b, prompts.shape[0], d])
        return concat([x.narrowed(1, start: 0, length: after), p, x.narrowed(1, start: after, length: n - after)], dim: 1)
    }
}

/// Replaces the p tokens after position `at` by fresh prompts.
final class PromptReplacement: TokenHook {
    let prompts: Tensor, at: Int, dropout: DropoutSource, rate: Float
    init(prompts: Tensor, at: Int, dropout: DropoutSource, rate: Float) {
        (self.prompts, self.at, self.dropout, self.rate) = (prompts, at, dropout, rate)
    }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2]), p = prompts.shape[0]
        let fresh = dropout(prompts, rate).reshaped([1, p, d]).expanded(to: [b, p, d])
        return concat([x.narrowed(1, start: 0, length: at), fresh, x.narrowed(1, start: at + p, length: n - at - p)], dim: 1)
    }
}

/// Drops the prompt tokens from the final sequence before pooling.
final class PromptRemoval: TokenHook {
    let at: Int, count: Int
    init(at: Int, count: Int) { (self.at, self.count) = (at, count) }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let n = x.shape[1]
        return concat([x.narrowed(1, start: 0, length: at), x.narrowed(1, start: at + count, length: n - at - count)], dim: 1)
    }
}
