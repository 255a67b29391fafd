import Models
import NN
import Tensor

/// FacT-TK — Jie & Deng, AAAI 2023: FacT with a Tucker-format update. The per-matrix cores are
/// slices of a shared r×r×r tensor contracted with an r×12L factor (12 matrices per block: 4 for
/// attention, 8 for the MLP), as the official `fact_tk.py` slices them. Shared U (kaiming) and V
/// (zero); core and factor xavier-uniform. Params: 2·d·r + r³ + 12·L·r; ViT-B/16, r 32: 86,528.
/// Backbones: transformer blocks of one width (ViT); a CNN, and Swin (block widths differ, and U, V
/// are shared by all), are refused by name.
/// Sites: linear(l, qkv / proj / fc1 / fc2). Mergeable: ΔW = s·V·Cᵀ·U per layer. See FacTTT.swift
/// for the shared wiring.
public struct FacTTK: PEFTMethod {
    public static let name = "fact_tk"
    public static let summary = "FacT-TK (Jie & Deng 2023): shared-factor Tucker weight updates"
    public static let sites = "linear(l, qkv/proj/fc1/fc2)"
    public static let mergeable = true
    public var rank = 32
    public var scale: Float = 0.1
    public var dropout: Float = 0.1
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try validateFacT(Self.name, rank: rank, dropout: dropout, for: backbone)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let blocks = try factBlocks(model, for: Self.name)
        let r = rank, depth = blocks.count
        let shared = SharedFactors(model, width: blocks[0].width, rank: r, using: &rng)
        let core = model.register("fact.core", Initialiser.xavierUniform([r, r, r], fanIn: r * r, fanOut: r * r, using: &rng))
        let factor = model.register("fact.factor", Initialiser.xavierUniform([r, 12 * depth], fanIn: 12 * depth, fanOut: r, using: &rng))
        for (l, block) in blocks.enumerated() {
            // The 12 matrices of block l: core × factor[:, 12l …], as the official code slices them.
            func cores(_ start: Int, _ count: Int) -> Tensor { matmul(core, factor.narrowed(1, start: 12 * l + start, length: count)) }
            func chunk(_ c: Tensor, _ from: Int) -> Tensor { c.narrowed(2, start: from, length: 4).reshaped([r, 4 * r]) }
            installFacT(block, shared, scale: scale, dropout: (model.dropout, dropout),
                    attention: { t in matmul(shared.u(t.input), cores(0, 4).narrowed(2, start: t.index, length: 1).reshaped([r, r])) },
                    fc1: { matmul($0, chunk(cores(4, 8), 0)) },
                    fc2: { matmul($0, chunk(cores(4, 8), 4), transposeB: true) })
        }
    }

    public func merge(into model: PEFTModel) throws { try model.foldLinearHooks() }
}
