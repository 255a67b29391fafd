import Models
import NN
import Tensor

/// FacT — Jie & Deng, AAAI 2023. The weight updates of all linear layers of all blocks form one
/// tensor, factorised with factors shared across layers: a shared U (d→r, kaiming) and V (r→d,
/// zero), and per-matrix r×r cores, so each linear gains s·V(Dropout(C·U x)).
/// fc1 (d→4d) uses an r→4r core whose output is split into 4 chunks of r, each mapped by V;
/// fc2 (4d→d) maps its 4 input chunks by U, joins them to 4r, and uses a 4r→r core.
///
/// FacT-TT (this file): the cores are per-block matrices (q, k, v, proj r×r; fc1 4r×r; fc2 r×4r),
/// kaiming-uniform. Params: 2·d·r + L·(4r² + 8r²); ViT-B/16, r 8: 21,504. FacT-TK: FacTTK.swift.
/// Backbones: transformer blocks of one width (ViT); a CNN, and Swin (block widths differ, and U, V
/// are shared by all), are refused by name.
/// Sites: linear(l, qkv / proj / fc1 / fc2). Mergeable: ΔW = s·V·C·U per layer.
/// s per dataset (cifar 1.0).
public struct FacTTT: PEFTMethod {
    public static let name = "fact_tt"
    public static let summary = "FacT-TT (Jie & Deng 2023): shared-factor tensor-train weight updates"
    public static let sites = "linear(l, qkv/proj/fc1/fc2)"
    public static let mergeable = true
    public var rank = 8
    public var scale: Float = 1
    public var dropout: Float = 0.1
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try validateFacT(Self.name, rank: rank, dropout: dropout, for: backbone)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let blocks = try factBlocks(model, for: Self.name)
        let shared = SharedFactors(model, width: blocks[0].width, rank: rank, using: &rng)
        for block in blocks {
            func core(_ name: String, _ out: Int, _ input: Int) -> Tensor {
                model.register(block.name("fact.\(name)"), Initialiser.kaimingUniform([out, input], fanIn: input, using: &rng), role: .linearWeight)
            }
            let (q, k, v, proj) = (core("q", rank, rank), core("k", rank, rank), core("v", rank, rank), core("proj", rank, rank))
            let (fc1, fc2) = (core("fc1", 4 * rank, rank), core("fc2", rank, 4 * rank))
            // TT cores act as linear layers: z ↦ z Cᵀ.
            installFacT(block, shared, scale: scale, dropout: (model.dropout, dropout),
                    attention: { t in linear(shared.u(t.input), [q, k, v, proj][t.index]) },
                    fc1: { linear($0, fc1) }, fc2: { linear($0, fc2) })
        }
    }

    public func merge(into model: PEFTModel) throws { try model.foldLinearHooks() }
}
