import Models
import NN
import Tensor

/// VeRA — Kopiczko et al., ICLR 2024 (as Hugging Face PEFT). One pair of frozen random matrices
/// shared by every adapted layer, and two trained scaling vectors per layer:
///     y_t ← y_t + λ_b ⊙ (B_s[:out] (λ_d ⊙ (A_s[:, :in] x)))
/// A_s [r, max in], B_s [max out, r]: kaiming-uniform from the seed, frozen, never saved (an
/// adapter file rebuilds them from its seed). Init: λ_d = 0.1, λ_b = 0 (the model starts
/// unchanged). Sites: linear(l, qkv) on q and v by default (any of q, k, v, proj, fc1, fc2).
/// Backbones: transformer blocks (ViT, Swin; the shared projections are as large as the widest
/// block). Params: (r + out_t) per target; ViT-B/16, r 256, q+v: 24,576.
/// Mergeable: W_t ← W_t + diag(λ_b) B_s diag(λ_d) A_s.
public struct VeRA: PEFTMethod {
    public static let name = "vera"
    public static let summary = "VeRA (Kopiczko et al. 2024): scaling vectors on shared frozen random projections"
    public static let sites = "linear(l, qkv[q,v]) by default; any of q,k,v,proj,fc1,fc2"
    public static let mergeable = true
    public var rank = 256
    public var targets: [LinearTarget] = [.q, .v]
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try validateLowRank(Self.name, rank: rank, targets: targets, dropout: 0)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let blocks = try model.blockSites(for: Self.name)
        let layers = blocks.flatMap { block in targets.map { $0.layer(in: block) } }
        let maxIn = layers.map(\.inFeatures).max() ?? 0
        let maxOut = blocks.flatMap { block in targets.map { $0.rows(in: block).count } }.max() ?? 0
        let a = model.registerFrozen("vera.A", Initialiser.kaimingUniform([rank, maxIn], fanIn: maxIn, using: &rng))
        let b = model.registerFrozen("vera.B", Initialiser.kaimingUniform([maxOut, rank], fanIn: rank, using: &rng))
        for block in blocks {
            for target in targets {
                let layer = target.layer(in: block), rows = target.rows(in: block)
                let lambdaD = model.register(target.tensorName(in: block, "vera_lambda_d"), Tensor.full([rank], 0.1))
                let lambdaB = model.register(target.tensorName(in: block, "vera_lambda_b"), Tensor.zeros([rows.count]))
                layer.hooks.append(SharedProjectionHook(a: a, b: b, lambdaD: lambdaD, lambdaB: lambdaB, inFeatures: layer.inFeatures, rows: rows))
            }
        }
    }

    public func merge(into model: PEFTModel) throws { try model.foldLinearHooks() }
}

/// y_t += λ_b ⊙ (B_s[:out] (λ_d ⊙ (A_s[:, :in] x))) on the rows of one target.
final class SharedProjectionHook: LayerHook {
    let a: Tensor, b: Tensor, lambdaD: Tensor, lambdaB: Tensor
    let inFeatures: Int, rows: Range<Int>

    init(a: Tensor, b: Tensor, lambdaD: Tensor, lambdaB: Tensor, inFeatures: Int, rows: Range<Int>) {
        (self.a, self.b, self.lambdaD, self.lambdaB) = (a, b, lambdaD, lambdaB)
        (self.inFeatures, self.rows) = (inFeatures, rows)
    }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let down = linear(x, a.narrowed(1, start: 0, length: inFeatures)) * lambdaD
        let up = linear(down, b.narrowed(0, start: 0, length: rows.count)) * lambdaB
        return next(x).addingNarrow(up, dim: -1, start: rows.lowerBound)
    }
}
