import Models
import NN
import Tensor

/// U-Tuning — Jiang et al., 2023 ("Rethinking efficient tuning methods from a unified
/// perspective"), known from the paper only; the wiring chosen here: each frozen sub-layer gains a
/// parallel tuner added beside it, outside DropPath,
///     x ← x + DropPath(attn(h₁)) + softmax(q Pₖᵀ/√d_h) P_v,   h₁ = norm1 x, q = W_q h₁ + b_q (frozen)
///     x ← x + DropPath(mlp(h₂)) + up(ReLU(down(h₂))),          h₂ = norm2 x
/// with Pₖ, P_v ∈ R^{l×d} split into heads (a prefix tuner that reuses the frozen query
/// projection) and a bottleneck adapter of width m. Init: Pₖ ~ N(0, 0.02), P_v = 0, adapter down
/// PyTorch default, up zero — the model starts unchanged. Sites: branch(l, attn/mlp) bypass.
/// Backbones: transformer blocks (ViT, Swin: each token attends to the prefix only, so windows do
/// not matter; d = each block's width). Params per block 2·l·d + 2·d·m + m + d; ViT-B/16, l 10, m 10: 377,976 (the
/// paper reports 0.34–0.38M). Not mergeable (softmax).
public struct UTuning: PEFTMethod {
    public static let name = "u_tuning"
    public static let summary = "U-Tuning (Jiang et al. 2023): parallel prefix tuner beside attention, parallel adapter beside the MLP"
    public static let sites = "branch(l, attn/mlp) bypass"
    public static let mergeable = false
    /// l: prefix length.
    public var length = 10
    /// m: adapter width.
    public var dim = 10
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(length > 0, Self.name, "length", length, "must be positive")
        try MethodOptionError.require(dim > 0, Self.name, "dim", dim, "must be positive")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            let d = block.width, prefix = block.name("u_tuning")
            let keys = model.register("\(prefix).prefix_key", Tensor.normal([length, d], std: 0.02, using: &rng))
            let values = model.register("\(prefix).prefix_value", Tensor.zeros([length, d]))
            block.hooks.attnBranch.append(ParallelPrefixTuner(qkv: block.qkv, keys: keys, values: values, heads: block.heads))
            let adapter = Bottleneck(model, prefix: "\(prefix).adapter", dim: d, hidden: dim, activation: .relu, dropout: 0,
                                     down: Initialiser.pytorchLinear(d, dim, using: &rng), up: (Tensor.zeros([d, dim]), Tensor.zeros([d])))
            block.hooks.mlpBranch.append(ParallelNormedAdapter(adapter))
        }
    }
}

/// softmax(q Pₖᵀ/√d_h) P_v beside attention, q from the block's frozen query projection.
final class ParallelPrefixTuner: BranchHook {
    let qkv: Linear, keys: Tensor, values: Tensor, heads: Int
    init(qkv: Linear, keys: Tensor, values: Tensor, heads: Int) { (self.qkv, self.keys, self.values, self.heads) = (qkv, keys, values, heads) }

    func bypass(stream: Tensor, normed: Tensor, context: inout ForwardContext) -> Tensor? {
        let (b, n, d) = (normed.shape[0], normed.shape[1], normed.shape[2])
        let (l, dh) = (keys.shape[0], d / heads)
        let q = linear(normed, qkv.weight.narrowed(0, start: 0, length: d), qkv.bias?.narrowed(0, start: 0, length: d))
            .reshaped([b, n, heads, dh]).permuted([0, 2, 1, 3])
        func split(_ p: Tensor) -> Tensor { p.reshaped([1, l, heads, dh]).permuted([0, 2, 1, 3]).expanded(to: [b, heads, l, dh]) }
        let mixed = attention(q, split(keys), split(values), scale: 1 / Float(dh).squareRoot())
        return mixed.transposed(1, 2).reshaped([b, n, d])
    }
}

/// adapter(normed) beside a sub-layer.
final class ParallelNormedAdapter: BranchHook {
    let adapter: Bottleneck
    init(_ adapter: Bottleneck) { self.adapter = adapter }

    func bypass(stream: Tensor, normed: Tensor, context: inout ForwardContext) -> Tensor? { adapter(normed) }
}
