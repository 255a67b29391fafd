import Models
import NN
import Tensor

/// BAPAT — V-PETL's combination of PATT (keys/values shifted by a tanh adapter, PATT.swift) and
/// AdaptFormer (a parallel bottleneck beside the MLP, AdaptFormer.swift) in every block.
/// Sites: attention(l), branch(l, mlp) bypass. Backbones: transformer blocks (ViT, Swin), as PATT. Params: PATT's + AdaptFormer's
/// (ViT-B/16, m 64 and dim 8: 1,788,672 + 175,200 = 1,963,872). Not mergeable.
public struct BAPAT: PEFTMethod {
    public static let name = "bapat"
    public static let summary = "BAPAT (V-PETL): PATT + AdaptFormer"
    public static let sites = "attention(l), branch(l, mlp) bypass"
    public static let mergeable = false
    public var dim = 64
    public var scale: Float = 0.5
    public var adapterDim = 8
    public var adapterScale: Float = 1.0
    public init() {}

    private var adaptFormer: AdaptFormer {
        var a = AdaptFormer()
        (a.dim, a.scale) = (adapterDim, adapterScale)
        return a
    }

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(dim > 0, Self.name, "dim", dim, "must be positive")
        try adaptFormer.validate(for: backbone)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        _ = try model.blockSites(for: Self.name)   // refuse other backbones under this method's name
        try adaptFormer.attach(to: model, using: &rng)
        try attachParallelAttention(model, dim: dim, scale: scale, using: &rng)
    }
}
