import Models
import NN
import Tensor

/// KAdaptation — He et al., AAAI 2023 (as the released PEViT code, `evaluation/model.py`). The q
/// and v slices of the fused qkv projection gain a Kronecker-structured update and a bias:
///     q ← q + s·x Hᵠ + b,   v ← v + s·x Hᵛ + b,   Hᵗ = Σᵢ Rᵢᵗ ⊗ Wᵢᵗ   ([in, out], n terms)
/// with "rules" Rᵢᵗ = leftᵢ rightᵢᵀ (n×n, shared by every layer, one pair per target) and
/// per-layer factors Wᵢᵗ = uᵢ vᵢᵀ (m×m, m = d/n); b is one bias per layer added to both q and
/// v, as released. Each term is rank one, so Hᵗ = Σᵢ (leftᵢ ⊗ uᵢ)(rightᵢ ⊗ vᵢ)ᵀ is a rank-n
/// update computed as two thin products, never as a d×d matrix.
/// Scale s = 128/4·5 = 160 (the released `lora_attn_alpha / lora_attn_dim * 5`).
/// Fixed relative to the released code, whose glorot branch zeroes both u and v (so no gradient
/// ever reaches them): u is glorot-uniform (gain √2, per term as an m×1 matrix), v is zero, so
/// the update starts at zero and learns. Rules U(±0.01), bias zero, as released. (The released
/// code has separate q and v factors; its dropout 0.5 on H and its adding q's update after the
/// 1/√d_h query scaling are not reproduced: the update is added to the q projection itself.)
/// Sites: linear(l, qkv[q,v]). Backbones: transformer blocks (ViT, Swin: the n×n rules are shared
/// across widths, each block's factors are m = C/n wide). Mergeable into qkv's weight and bias.
/// Params: 4n² + Σ_blocks (4·n·m + C) = 4n² + 5·Σ C; ViT-B/16, n 32: 4,096 + 12·(3,072 + 768) = 50,176.
public struct KAdaptation: PEFTMethod {
    public static let name = "kadaptation"
    public static let summary = "KAdaptation (He et al. 2023): Kronecker-product updates of q and v with shared rules"
    public static let sites = "linear(l, qkv[q,v])"
    public static let mergeable = true
    /// n: the number of Kronecker terms and the rules' size (the embedding dim must divide by it).
    public var kron = 32
    public var scale: Float = 160
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(kron > 0, Self.name, "kron", kron, "must be positive")
        let widths = Set(backbone.transformerBlocks.map(\.width)).sorted()
        try MethodOptionError.require(widths.allSatisfy { $0 % kron == 0 }, Self.name, "kron", kron,
                                      "must divide the embedding dimension \(widths.map(String.init).joined(separator: ", "))")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let blocks = try model.blockSites(for: Self.name)
        let n = kron
        var rules: [LinearTarget: (left: Tensor, right: Tensor)] = [:]
        for t in [LinearTarget.q, .v] {
            rules[t] = (model.register("kadaptation.rule_\(t.rawValue).left", Tensor.uniform([n, n], low: -0.01, high: 0.01, using: &rng)),
                        model.register("kadaptation.rule_\(t.rawValue).right", Tensor.uniform([n, n], low: -0.01, high: 0.01, using: &rng)))
        }
        for block in blocks {
            let (d, m) = (block.width, block.width / n)
            let glorot: Float = (2 * 6 / Float(m + 1)).squareRoot()  // xavier-uniform, gain √2
            var factors: [KroneckerUpdate] = []
            for t in [LinearTarget.q, .v] {
                let u = model.register(t.tensorName(in: block, "kadaptation_u"), Tensor.uniform([n, m], low: -glorot, high: glorot, using: &rng))
                let v = model.register(t.tensorName(in: block, "kadaptation_v"), Tensor.zeros([n, m]))
                factors.append(KroneckerUpdate(rule: rules[t]!, u: u, v: v, rows: t.rows(in: block)))
            }
            let bias = model.register(block.name("attn.qkv.kadaptation_bias"), Tensor.zeros([d]), role: .linearBias)
            block.qkv.hooks.append(KroneckerHook(updates: factors, bias: bias, scale: scale))
        }
    }

    public func merge(into model: PEFTModel) throws { try model.foldLinearHooks() }
}

/// One target's Σᵢ Rᵢ ⊗ Wᵢ as its rank-n factors.
struct KroneckerUpdate {
    let rule: (left: Tensor, right: Tensor)
    let u: Tensor, v: Tensor
    let rows: Range<Int>

    /// leftᵢ ⊗ factorᵢ for every i, as the rows of an [n, d] matrix.
    private func kronRows(_ left: Tensor, _ factor: Tensor) -> Tensor {
        let (n, m) = (factor.shape[0], factor.shape[1])
        return (left.reshaped([n, n, 1]) * factor.reshaped([n, 1, m])).reshaped([n, n * m])
    }

    /// x H = (x · [leftᵢ ⊗ uᵢ]ᵢᵀ) · [rightᵢ ⊗ vᵢ]ᵢ
    func callAsFunction(_ x: Tensor) -> Tensor {
        matmul(matmul(x, kronRows(rule.left, u), transposeB: true), kronRows(rule.right, v))
    }
}

/// qkv(x) with s·x Hᵗ + b added to each target's rows.
final class KroneckerHook: LayerHook {
    let updates: [KroneckerUpdate], bias: Tensor, scale: Float
    init(updates: [KroneckerUpdate], bias: Tensor, scale: Float) { (self.updates, self.bias, self.scale) = (updates, bias, scale) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        updates.reduce(next(x)) { y, update in y.addingNarrow(update(x) * scale + bias, dim: -1, start: update.rows.lowerBound) }
    }
}
