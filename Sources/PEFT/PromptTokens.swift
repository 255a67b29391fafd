import Models
import NN
import Tensor

/// The prompt-token machinery shared by VPT-shallow and VPT-deep.

func validatePrompts(_ method: String, _ prompts: Int, _ dropout: Float) throws {
    try MethodOptionError.require(prompts > 0, method, "prompts", prompts, "must be positive")
    try MethodOptionError.require((0..<1).contains(dropout), method, "dropout", dropout, "must be in [0, 1)")
}

func promptInit(_ c: VisionTransformerConfig, _ prompts: Int, using rng: inout SeededRandom) -> Tensor {
    let v = (6 / Float(3 * c.patchSize * c.patchSize + c.embedDim)).squareRoot()
    return Tensor.uniform([prompts, c.embedDim], low: -v, high: v, using: &rng)
}

func installPrompts(_ vit: VisionTransformer, _ model: PEFTModel, first: Tensor, deep: [Int: Tensor], dropout: Float) {
    let prefix = vit.config.prefixTokens, count = first.shape[0]
    vit.tokenHooks.append(PromptInsertion(prompts: first, after: prefix, dropout: model.dropout, rate: dropout))
    for (l, prompts) in deep {
        vit.blocks[l].hooks.input.append(PromptReplacement(prompts: prompts, at: prefix, dropout: model.dropout, rate: dropout))
    }
    vit.finalHooks.append(PromptRemoval(at: prefix, count: count))
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

/// Replaces the `replacing` tokens after position `at` (the previous block's prompts; by default
/// as many as there are new ones) by fresh prompts.
final class PromptReplacement: TokenHook {
    let prompts: Tensor, at: Int, replacing: Int, dropout: DropoutSource, rate: Float
    init(prompts: Tensor, at: Int, replacing: Int? = nil, dropout: DropoutSource, rate: Float) {
        (self.prompts, self.at, self.replacing, self.dropout, self.rate) = (prompts, at, replacing ?? prompts.shape[0], dropout, rate)
    }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2]), p = prompts.shape[0]
        let fresh = dropout(prompts, rate).reshaped([1, p, d]).expanded(to: [b, p, d])
        return concat([x.narrowed(1, start: 0, length: at), fresh, x.narrowed(1, start: at + replacing, length: n - at - replacing)], dim: 1)
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
