import Models
import NN
import Tensor

/// FacT — Jie & Deng, AAAI 2023. The weight updates of all linear layers of all blocks form one
/// tensor, factorised with factors shared across layers: a shared U (d→r, kaiming) and V (r→d,
/// zero), and per-matrix r×r cores, so each linear gains s·V(Dropout(C·U x)).
/// fc1 (d→4d) uses an r→4r core whose output is split into 4 chunks of r, each mapped by V;
/// fc2 (4d→d) maps its 4 input chunks by U, joins them to 4r, and uses a 4r→r core.
///
/// FacT-TT: the cores are per-block matrices (q, k, v, proj r×r; fc1 4r×r; fc2 r×4r).
/// Params: 2·d·r + L·(4r² + 8r²); ViT-B/16, r 8: 21,504.
/// FacT-TK: the cores are slices of a shared r×r×r tensor contracted with an r×12L factor
/// (12 matrices per block: 4 for attention, 8 for the MLP). Params: 2·d·r + r³ + 12·L·r;
/// ViT-B/16, r 32: 86,528. Both merge: ΔW = s·V·C·U per layer.
/// Sites: linear(l, qkv / proj / fc1 / fc2). s per dataset (cifar TT 1.0, TK 0.1).
public struct FacTTT: PEFTMethod {
    public static let name = "fact_tt"
    public static let summary = "FacT-TT (Jie & Deng 2023): shared-factor tensor-train weight updates"
    public static let sites = "linear(l, qkv/proj/fc1/fc2)"
    public static let mergeable = true
    public var rank = 8
    public var scale: Float = 1
    public var dropout: Float = 0.1
    public init() {}

    public func validate(for config: VisionTransformerConfig) throws {
        try validateFacT(Self.name, rank: rank, dropout: dropout, config: config)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let shared = SharedFactors(model, rank: rank, using: &rng)
        for (l, block) in model.backbone.blocks.enumerated() {
            func core(_ name: String, _ out: Int, _ input: Int) -> Tensor {
                model.register("blocks.\(l).fact.\(name)", Initialiser.kaimingUniform([out, input], fanIn: input, using: &rng), role: .linearWeight)
            }
            let (q, k, v, proj) = (core("q", rank, rank), core("k", rank, rank), core("v", rank, rank), core("proj", rank, rank))
            let (fc1, fc2) = (core("fc1", 4 * rank, rank), core("fc2", rank, 4 * rank))
            // TT cores act as linear layers: z ↦ z Cᵀ.
            install(block, shared, scale: scale, dropout: (model.dropout, dropout),
                    attention: { t in linear(shared.u(t.input), [q, k, v, proj][t.index]) },
                    fc1: { linear($0, fc1) }, fc2: { linear($0, fc2) })
        }
    }

    public func merge(into model: PEFTModel) throws { try model.foldLinearHooks() }
}

public struct FacTTK: PEFTMethod {
    public static let name = "fact_tk"
    public static let summary = "FacT-TK (Jie & Deng 2023): shared-factor Tucker weight updates"
    public static let sites = "linear(l, qkv/proj/fc1/fc2)"
    public static let mergeable = true
    public var rank = 32
    public var scale: Float = 0.1
    public var dropout: Float = 0.1
    public init() {}

    public func validate(for config: VisionTransformerConfig) throws {
        try validateFacT(Self.name, rank: rank, dropout: dropout, config: config)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let r = rank, depth = model.backbone.blocks.count
        let shared = SharedFactors(model, rank: r, using: &rng)
        let core = model.register("fact.core", Initialiser.xavierUniform([r, r, r], fanIn: r * r, fanOut: r * r, using: &rng))
        let factor = model.register("fact.factor", Initialiser.xavierUniform([r, 12 * depth], fanIn: 12 * depth, fanOut: r, using: &rng))
        for (l, block) in model.backbone.blocks.enumerated() {
            // The 12 matrices of block l: core × factor[:, 12l …], as the official code slices them.
            func cores(_ start: Int, _ count: Int) -> Tensor { matmul(core, factor.narrowed(1, start: 12 * l + start, length: count)) }
            func chunk(_ c: Tensor, _ from: Int) -> Tensor { c.narrowed(2, start: from, length: 4).reshaped([r, 4 * r]) }
            install(block, shared, scale: scale, dropout: (model.dropout, dropout),
                    attention: { t in matmul(shared.u(t.input), cores(0, 4).narrowed(2, start: t.index, length: 1).reshaped([r, r])) },
                    fc1: { matmul($0, chunk(cores(4, 8), 0)) },
                    fc2: { matmul($0, chunk(cores(4, 8), 4), transposeB: true) })
        }
    }

    public func merge(into model: PEFTModel) throws { try model.foldLinearHooks() }
}

private func validateFacT(_ method: String, rank: Int, dropout: Float, config: VisionTransformerConfig) throws {
    try MethodOptionError.require(rank > 0, method, "rank", rank, "must be positive")
    try MethodOptionError.require((0..<1).contains(dropout), method, "dropout", dropout, "must be in [0, 1)")
    try MethodOptionError.require(config.mlpHidden == 4 * config.embedDim, method, "model", config.mlpRatio,
                                  "FacT assumes an MLP ratio of 4 (fc1/fc2 split into 4 chunks)")
}

/// FacT's shared projections U (d → r) and V (r → d).
struct SharedFactors {
    let uWeight: Tensor, vWeight: Tensor

    init(_ model: PEFTModel, rank: Int, using rng: inout SeededRandom) {
        let d = model.backbone.config.embedDim
        uWeight = model.register("fact.u", Initialiser.kaimingUniform([rank, d], fanIn: d, using: &rng), role: .linearWeight)
        vWeight = model.register("fact.v", Tensor.zeros([d, rank]), role: .linearWeight)
    }

    func u(_ x: Tensor) -> Tensor { linear(x, uWeight) }
    func v(_ z: Tensor) -> Tensor { linear(z, vWeight) }
}

/// Which attention matrix a core serves (0 q, 1 k, 2 v, 3 proj) and its layer input.
struct AttentionCoreInput { let index: Int; let input: Tensor }

/// Hooks FacT's update on the four linear layers of `block`. `attention(t)` gives C·U x for
/// attention matrix t (in r); `fc1` maps U x (r) to 4r; `fc2` maps the joined chunks (4r) to r.
private func install(_ block: Block, _ shared: SharedFactors, scale: Float, dropout: (DropoutSource, Float),
                     attention: @escaping (AttentionCoreInput) -> Tensor, fc1: @escaping (Tensor) -> Tensor, fc2: @escaping (Tensor) -> Tensor) {
    let (drop, p) = dropout
    func updated(_ t: Int, _ x: Tensor) -> Tensor { shared.v(drop(attention(AttentionCoreInput(index: t, input: x)), p)) }
    block.attn.qkv.hooks.append(FactorisedUpdate(scale: scale) { x in concat([updated(0, x), updated(1, x), updated(2, x)], dim: -1) })
    block.attn.proj.hooks.append(FactorisedUpdate(scale: scale) { x in updated(3, x) })
    block.mlp.fc1.hooks.append(FactorisedUpdate(scale: scale) { x in
        let lead = Array(x.shape.dropLast()), r = shared.uWeight.shape[0]
        let chunks = drop(fc1(shared.u(x)), p).reshaped(lead + [4, r])
        return shared.v(chunks).reshaped(lead + [4 * shared.vWeight.shape[0]])
    })
    block.mlp.fc2.hooks.append(FactorisedUpdate(scale: scale) { x in
        let lead = Array(x.shape.dropLast()), d = shared.vWeight.shape[0], r = shared.uWeight.shape[0]
        let joined = shared.u(x.reshaped(lead + [4, d])).reshaped(lead + [4 * r])
        return shared.v(drop(fc2(joined), p))
    })
}

/// y ← y + s·update(x).
final class FactorisedUpdate: LayerHook {
    let scale: Float, update: (Tensor) -> Tensor
    init(scale: Float, update: @escaping (Tensor) -> Tensor) { (self.scale, self.update) = (scale, update) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor { next(x) + update(x) * scale }
}
