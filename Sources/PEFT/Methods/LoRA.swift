import Models
import NN
import Tensor

/// LoRA — Hu et al., ICLR 2022. A low-rank update beside chosen linear maps:
///     y_t ← y_t + (α/r)·B_t A_t x
/// Sites: linear(l, qkv) on the q and v slices by default (any of q, k, v, proj, fc1, fc2).
/// Init: A kaiming-uniform(a=√5), B zero (the model starts unchanged). Params: r·(in + out) per
/// target; ViT-B/16, r 8, q+v: 294,912. Mergeable: W_t ← W_t + (α/r)·B A. (The V-PETL benchmark
/// code uses no scaling, i.e. α = r.)
public struct LoRA: PEFTMethod {
    public static let name = "lora"
    public static let summary = "LoRA (Hu et al. 2022): low-rank weight update on chosen linears"
    public static let sites = "linear(l, qkv[q,v]) by default; any of q,k,v,proj,fc1,fc2"
    public static let mergeable = true
    public var rank = 8
    public var alpha: Float = 8
    public var targets: [LinearTarget] = [.q, .v]
    public var dropout: Float = 0
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try validateLowRank(Self.name, rank: rank, targets: targets, dropout: dropout)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name)
        for (l, block) in vit.blocks.enumerated() {
            for target in targets {
                let delta = LowRankDelta(model, block: block, index: l, target: target, rank: rank, using: &rng)
                target.layer(in: block).hooks.append(LowRankHook(delta: delta, rows: target.rows(in: block), scale: alpha / Float(rank),
                                                                 dropout: model.dropout, dropoutRate: dropout))
            }
        }
    }

    public func merge(into model: PEFTModel) throws {
        try model.foldLinearHooks()
    }
}

func validateLowRank(_ method: String, rank: Int, targets: [LinearTarget], dropout: Float) throws {
    try MethodOptionError.require(rank > 0, method, "rank", rank, "must be positive")
    try MethodOptionError.require(!targets.isEmpty, method, "targets", targets, "must name at least one of q, k, v, proj, fc1, fc2")
    try MethodOptionError.require(Set(targets).count == targets.count, method, "targets", targets.map(\.rawValue), "lists a target twice")
    try MethodOptionError.require((0..<1).contains(dropout), method, "dropout", dropout, "must be in [0, 1)")
}

/// The factors B·A of one target (`lora_A` [r, in], `lora_B` [out_t, r]).
struct LowRankDelta {
    let a: Tensor
    let b: Tensor

    init(_ model: PEFTModel, block: Block, index l: Int, target: LinearTarget, rank: Int, using rng: inout SeededRandom) {
        let layer = target.layer(in: block), rows = target.rows(in: block)
        a = model.register(target.tensorName(l, "lora_A"), Initialiser.kaimingUniform([rank, layer.inFeatures], fanIn: layer.inFeatures, using: &rng),
                           role: .linearWeight)
        b = model.register(target.tensorName(l, "lora_B"), Tensor.zeros([rows.count, rank]), role: .linearWeight)
    }

    /// x Aᵀ Bᵀ
    func callAsFunction(_ x: Tensor) -> Tensor { linear(linear(x, a), b) }

    /// B·A [out_t, in]
    var matrix: Tensor { matmul(b, a) }
}

/// y_t += s·B A x on the rows of one target.
final class LowRankHook: LayerHook {
    let delta: LowRankDelta
    let rows: Range<Int>
    let scale: Float
    let dropout: DropoutSource
    let dropoutRate: Float

    init(delta: LowRankDelta, rows: Range<Int>, scale: Float, dropout: DropoutSource, dropoutRate: Float) {
        self.delta = delta
        self.rows = rows
        self.scale = scale
        self.dropout = dropout
        self.dropoutRate = dropoutRate
    }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        next(x).addingNarrow(delta(dropout(x, dropoutRate)) * scale, dim: -1, start: rows.lowerBound)
    }
}
