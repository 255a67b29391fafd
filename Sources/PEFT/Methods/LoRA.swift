import Models
import NN
import Tensor

/// LoRA — Hu et al., ICLR 2022. A low-rank update beside chosen linear maps:
///     y_t ← y_t + (α/r)·B_t A_t x
/// Backbones: transformer blocks (ViT, Swin), EfficientNet-Lite (others are refused by name).
/// Block sites: linear(l, qkv) on the q and v slices by default (any of q, k, v, the whole fused
/// attn.qkv, proj, fc1, fc2, also by their timm paths attn.proj, mlp.fc1, …), at each block's width. Params: r·(in + out) per target; ViT-B/16, r 8, q+v: 294,912;
/// Swin-B (widths 128/256/512/1024, depths 2/2/18/2): Σ_blocks 2·r·(C + C) = 32·Σ C = 385,024.
/// EfficientNet-Lite sites: pointwise (1×1) convolutions, a linear map over channels, so
/// ΔW = (α/r)·B·A reshaped to [O, I, 1, 1] (computed as two thin 1×1 convs). Default: every
/// block's `project` conv (the ViT default [q, v] stands for it on a CNN); `targets` may list
/// `expand` (every block's expansion conv; block 0 has none), `project`, `conv_head` (the
/// 1×1 head conv). Tensors `_blocks.{i}._project_conv.lora_A` [r, I], `.lora_B` [O, r].
/// Params: r·Σ(I + O) over the targeted convs; Lite0, r 8, project: 8·(Σ hidden + Σ out) =
/// 8·(8,960 + 1,808) = 86,144 (expand adds 8·(1,488 + 8,928) = 83,328; conv_head 8·1,600 = 12,800).
/// Init: A kaiming-uniform(a=√5), B zero (the model starts unchanged). Mergeable:
/// W_t ← W_t + (α/r)·B A (for convs, folded into the conv weight). (The V-PETL benchmark code
/// uses no scaling, i.e. α = r.)
public struct LoRA: PEFTMethod {
    public static let name = "lora"
    public static let summary = "LoRA (Hu et al. 2022): low-rank weight update on chosen linears"
    public static let sites = "linear(l, qkv[q,v]) by default; any of q,k,v,attn.qkv,proj,fc1,fc2 · CNN: 1x1 project convs by default; expand, conv_head"
    public static let mergeable = true
    public var rank = 8
    public var alpha: Float = 8
    public var targets: [LinearTarget] = [.q, .v]
    public var dropout: Float = 0
    public init() {}

    /// The ViT default, which on EfficientNet-Lite stands for the CNN default [project].
    static let defaultTargets: [LinearTarget] = [.q, .v]

    /// `targets` as they apply to `backbone`.
    func targets(for backbone: any Backbone) -> [LinearTarget] {
        backbone is EfficientNetLite && targets == Self.defaultTargets ? [.project] : targets
    }

    public func validate(for backbone: any Backbone) throws {
        let targets = targets(for: backbone)
        try validateLowRank(Self.name, rank: rank, targets: targets, dropout: dropout)
        try LinearTarget.validate(Self.name, targets, for: backbone)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        switch try model.family(for: Self.name) {
        case .transformer(let blocks):
            for block in blocks {
                for target in targets {
                    let delta = LowRankDelta(model, block: block, target: target, rank: rank, using: &rng)
                    target.layer(in: block).hooks.append(LowRankHook(delta: delta, rows: target.rows(in: block), scale: alpha / Float(rank),
                                                                     dropout: model.dropout, dropoutRate: dropout))
                }
            }
        case .efficientNet(let net):
            for (name, conv) in LinearTarget.convolutions(targets(for: net), in: net) {
                guard conv.isPointwise else {
                    throw MethodOptionError("\(Self.name): \(name) is not a pointwise convolution (weight \(conv.weight.shape)); LoRA targets 1×1 convs only")
                }
                let (o, i) = (conv.weight.shape[0], conv.weight.shape[1])
                let a = model.register("\(name).lora_A", Initialiser.kaimingUniform([rank, i], fanIn: i, using: &rng), role: .linearWeight)
                let b = model.register("\(name).lora_B", Tensor.zeros([o, rank]), role: .linearWeight)
                conv.hooks.append(PointwiseLowRankHook(a: a, b: b, scale: alpha / Float(rank), dropout: model.dropout, dropoutRate: dropout))
            }
        }
    }

    public func merge(into model: PEFTModel) throws {
        switch try model.family(for: Self.name) {
        case .transformer: try model.foldLinearHooks()
        case .efficientNet(let net):
            for (_, conv) in net.convolutions where !conv.hooks.isEmpty { try conv.foldPointwiseHooks() }
        }
    }
}

/// y += s·B A x over the channels of a pointwise convolution's output (x NCHW).
final class PointwiseLowRankHook: LayerHook {
    let a: Tensor, b: Tensor, scale: Float
    let dropout: DropoutSource, dropoutRate: Float

    init(a: Tensor, b: Tensor, scale: Float, dropout: DropoutSource, dropoutRate: Float) {
        (self.a, self.b, self.scale, self.dropout, self.dropoutRate) = (a, b, scale, dropout, dropoutRate)
    }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        next(x) + pointwise(pointwise(dropout(x, dropoutRate), a), b) * scale
    }
}

func validateLowRank(_ method: String, rank: Int, targets: [LinearTarget], dropout: Float) throws {
    try MethodOptionError.require(rank > 0, method, "rank", rank, "must be positive")
    try MethodOptionError.require(!targets.isEmpty, method, "targets", targets, "must name at least one of q, k, v, attn.qkv, proj, fc1, fc2")
    try MethodOptionError.require(Set(targets).count == targets.count, method, "targets", targets.map(\.rawValue), "lists a target twice")
    try MethodOptionError.require(!targets.contains(.qkv) || Set(targets).isDisjoint(with: [.q, .k, .v]), method, "targets", targets.map(\.rawValue),
                                  "names attn.qkv (the whole fused projection) and one of its q, k, v slices")
    try MethodOptionError.require((0..<1).contains(dropout), method, "dropout", dropout, "must be in [0, 1)")
}

/// The factors B·A of one target (`lora_A` [r, in], `lora_B` [out_t, r]).
struct LowRankDelta {
    let a: Tensor
    let b: Tensor

    init(_ model: PEFTModel, block: any TransformerBlockSite, target: LinearTarget, rank: Int, using rng: inout SeededRandom) {
        let layer = target.layer(in: block), rows = target.rows(in: block)
        a = model.register(target.tensorName(in: block, "lora_A"), Initialiser.kaimingUniform([rank, layer.inFeatures], fanIn: layer.inFeatures, using: &rng),
                           role: .linearWeight)
        b = model.register(target.tensorName(in: block, "lora_B"), Tensor.zeros([rows.count, rank]), role: .linearWeight)
    }

    init(a: Tensor, b: Tensor) { (self.a, self.b) = (a, b) }

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
